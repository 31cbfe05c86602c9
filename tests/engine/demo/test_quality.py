"""Quality gates of the shipped demo CLIP, re-measured on a small photo-style test set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.demo import quality
from engine.demo.pretrain import DEFAULT_OUT, MAX_WEIGHTS_BYTES, world_fingerprint


def test_modality_gap_figures_on_known_vectors() -> None:
    img = np.array([[1.0, 0.0], [0.0, 1.0]])
    txt = np.array([[1.0, 0.0], [1.0, 0.0]])
    gap = quality.modality_gap(img, txt)
    assert gap["image_image_cos"] == pytest.approx(0.0)
    assert gap["text_text_cos"] == pytest.approx(1.0)
    assert gap["matched_image_text_cos"] == pytest.approx(0.5)
    assert gap["unmatched_image_text_cos"] == pytest.approx(0.5)
    assert gap["centroid_distance"] == pytest.approx(np.linalg.norm([0.5 - 1.0, 0.5]))


def test_map_is_100_for_perfect_scores_and_low_for_reversed() -> None:
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], np.float32)
    assert quality.mean_average_precision(y * 2 - 1, y) == pytest.approx(100.0)
    assert quality.mean_average_precision(1 - y, y) < 60


@pytest.fixture(scope="module")
def shipped() -> tuple[object, object]:
    if not (DEFAULT_OUT / "model.safetensors").is_file():
        pytest.fail("engine/demo/demo_clip/model.safetensors is missing; run `t2ipal demo pretrain`")
    from engine.demo.pretrain import load_demo_clip
    from engine.demo.tokenizer import DemoTokenizer

    return load_demo_clip(), DemoTokenizer()


def test_shipped_artifact_files_and_recipe() -> None:
    folder = Path(DEFAULT_OUT)
    assert (folder / "model.safetensors").stat().st_size <= MAX_WEIGHTS_BYTES
    recipe = json.loads((folder / "recipe.json").read_text())
    assert recipe["world"]["fingerprint"] == world_fingerprint(), "world changed since pretraining: re-run it"
    report = json.loads((folder / "quality.json").read_text())
    assert report["split"] == "test" and report["n_test"] >= 1000
    assert report["gates"] == {k: report[k] >= v for k, v in report["thresholds"].items()}
    oc = json.loads((folder / "open_clip_config.json").read_text())
    assert oc["model_cfg"]["vision_cfg"]["image_size"] >= 128  # a 4x4 (or finer) attention-pool grid


@pytest.fixture(scope="module")
def report(shipped: tuple[object, object]) -> quality.QualityReport:
    model, tok = shipped
    return quality.measure_quality(model, tok, n_test=400, n_probe=800, split="test")


@pytest.mark.parametrize("gate", ["zero_shot_map", "linear_probe_map", "gap_margin", "centroid_distance"])
def test_shipped_clip_passes_gate(report: quality.QualityReport, gate: str) -> None:
    assert report.gates()[gate], "\n".join(report.lines())


def test_shipped_report_matches_the_shipped_weights(report: quality.QualityReport) -> None:
    # quality.json was measured on 1,000 test images and this report on the first 400 of them: a report written
    # for other weights (or a stale one) would differ by far more than this sampling tolerance
    shipped_report = json.loads((Path(DEFAULT_OUT) / "quality.json").read_text())
    assert report.zero_shot_map == pytest.approx(shipped_report["zero_shot_map"], abs=4.0)
    assert report.linear_probe_map == pytest.approx(shipped_report["linear_probe_map"], abs=4.0)
    for key in ("image_image_cos", "matched_image_text_cos", "centroid_distance"):
        assert getattr(report, key) == pytest.approx(shipped_report[key], abs=0.03), key
