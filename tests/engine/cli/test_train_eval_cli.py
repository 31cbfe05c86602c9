"""`t2ipal train` writes a model folder and `t2ipal eval` prints mAP, CF1 and OF1 (in-process CLI)."""

from __future__ import annotations

from engine.cli.main import main
from tests.engine.training.test_job import _write_set


def test_train_then_eval(tiny_clip_file, tmp_path, capsys):
    _write_set(tmp_path, n=16)
    out = tmp_path / "model"
    code = main(["train", "--labels", "red,green,blue", "--captions", str(tmp_path / "captions.csv"),
                 "--images", str(tmp_path / "images.csv"), "--out", str(out), "--backbone", "tiny-test",
                 "--pretrained", str(tiny_clip_file), "--epochs", "2", "--n-ctx", "4", "--device", "cpu",
                 "--no-progress"])
    assert code == 0 and (out / "weights.safetensors").exists()
    code = main(["eval", "--model", str(out), "--images", str(tmp_path / "images.csv"), "--device", "cpu",
                 "--no-progress", "--json", str(tmp_path / "report.json")])
    text = capsys.readouterr().out
    assert code == 0 and "mAP" in text and "CF1" in text and "OF1" in text
    assert (tmp_path / "report.json").exists()


def test_errors_are_reported_not_raised(tmp_path, capsys):
    code = main(["train", "--labels", "red,green", "--captions", str(tmp_path / "missing.csv"),
                 "--out", str(tmp_path / "m"), "--backbone", "tiny-test", "--pretrained", "none"])
    assert code == 1
    assert "missing.csv does not exist" in capsys.readouterr().err
