"""`t2ipal demo run --quick` end to end: learning happens and the tag database holds one row per test image."""

from __future__ import annotations

import json

import pytest

from engine.cli.main import main
from engine.demo.pretrain import DEFAULT_OUT

SHIPPED = (DEFAULT_OUT / "model.safetensors").is_file()


@pytest.mark.skipif(not SHIPPED, reason="the demo CLIP is not shipped yet (t2ipal demo pretrain); demo issue open")
def test_quick_demo_run_learns_and_fills_the_database(tmp_path, capsys):
    project = tmp_path / "demo"
    code = main(["demo", "run", "--quick", "--project", str(project), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "T2I-PAL" in out and "zero-shot CLIP" in out
    result = json.loads((project / "demo-results.json").read_text())
    summary = result["summary"]
    zs, pal = summary["zeroshot"], summary["t2ipal"]
    noise = max(pal["std"], 0.5)
    assert pal["mean"] > zs["mean"] + 5 * noise, summary  # learning happened, far outside seed noise
    assert result["db_rows"] == result["test_images"] == result["config"]["n_test"]
    assert (project / "exports" / "model.onnx").is_file() and (project / "project.db").is_file()
    from engine import api

    status = api.model_status(api.open_project(project))  # the app opens the sample project on its own model
    assert status.exported and status.trained and status.labels_match
    assert status.record.model_dir.name.startswith("t2ipal-seed")


def test_demo_run_without_shipped_clip_says_so(tmp_path, monkeypatch, capsys):
    """Without the shipped weights the pipeline still runs for real on a random-init CLIP and warns loudly."""
    import engine.demo.pretrain as pretrain

    monkeypatch.setattr(pretrain, "DEFAULT_OUT", tmp_path / "no-weights-here")
    from engine.demo.pipeline import DemoConfig, run_demo

    cfg = DemoConfig(seeds=(1,), n_captions=40, n_test=16, n_upper=16, epochs=1, methods=("zeroshot", "t2ipal"))
    result = run_demo(tmp_path / "p", cfg)
    assert result.random_clip and "RANDOM-INIT" in result.format_table()
    assert result.db_rows == 16 and len(result.per_seed["t2ipal"]) == 1


def test_tuning_scores_every_grid_point_on_held_out_renders(tmp_path, monkeypatch):
    import engine.demo.pretrain as pretrain
    from engine.demo.tuning import tune_demo

    if not SHIPPED:
        monkeypatch.setattr(pretrain, "DEFAULT_OUT", tmp_path / "no-weights-here")
    result = tune_demo(tmp_path / "tune", grid={"lr": (1e-3, 4e-3), "epochs": (1,)}, n_captions=40)
    assert [(r["lr"], r["epochs"]) for r in result.rows] == [(1e-3, 1), (4e-3, 1)]
    assert all(0 <= r["heldout_map"] <= 100 for r in result.rows)
    assert result.best in result.rows and "held-out mAP" in result.format_table()


def test_paired_differences_are_t2ipal_minus_each_row_with_a_t_interval():
    from engine.demo.pipeline import DemoResult, paired_differences

    per_seed = {"t2ipal": [91.0, 92.0, 93.0], "t2i": [90.0, 90.0, 90.0], "short": [1.0, 2.0]}
    out = paired_differences(per_seed)
    assert set(out) == {"t2i"}  # the reference itself and rows with other seeds get no entry
    half = 4.302652729911275 * 1.0 / 3**0.5  # t(0.975, df=2) * sd(1, 2, 3) / sqrt(3)
    assert out["t2i"]["mean"] == pytest.approx(2.0)
    assert (out["t2i"]["low"], out["t2i"]["high"]) == (pytest.approx(2.0 - half), pytest.approx(2.0 + half))
    result = DemoResult("p", per_seed={k: v for k, v in per_seed.items() if k != "short"},
                        summary={"t2ipal": {"mean": 92.0, "std": 1.0}, "t2i": {"mean": 90.0, "std": 0.0}},
                        paired=out)
    table = result.format_table()
    assert "+2.00 [-0.48, +4.48]" in table and "(reference)" in table
