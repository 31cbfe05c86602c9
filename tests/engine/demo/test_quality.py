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
        pytest.fail("resources/demo_clip/model.safetensors is missing; run `t2ipal demo pretrain`")
    from engine.demo.pretrain import load_demo_clip
    from engine.demo.tokenizer import DemoTokenizer

    return load_demo_clip(), DemoTokenizer()


def test_shipped_artifact_files_and_recipe() -> None:
    folder = Path(DEFAULT_OUT)
    assert (folder / "model.safetensors").stat().st_size <= MAX_WEIGHTS_BYTES
    recipe = json.loads((folder / "recipe.json").read_text())
    assert recipe["world"]["fingerprint"] == world_fingerprint(), "world changed since pretraining: re-run it"
    report = json.loads((folder / "quality.json").read_text())
    assert report["split"] == "test" and report["passed"] is True
    oc = json.loads((folder / "open_clip_config.json").read_text())
    assert oc["model_cfg"]["vision_cfg"]["image_size"] >= 128  # a 4x4 (or finer) attention-pool grid


def test_shipped_clip_passes_the_quality_gates(shipped: tuple[object, object]) -> None:
    model, tok = shipped
    report = quality.measure_quality(model, tok, n_test=400, n_probe=800, split="test")
    gates = report.gates()
    assert all(gates.values()), "\n".join(report.lines())


def test_engine_backbone_loads_the_shipped_clip_with_a_real_grid() -> None:
    import torch

    from engine.clip.backbone import BackboneConfig, load_backbone
    from engine.demo.pretrain import load_demo_clip

    cfg = BackboneConfig(model_name="demo-clip", pretrained=str(DEFAULT_OUT / "model.safetensors"),
                         tokenizer="demo-words")
    bb = load_backbone(cfg)
    assert bb.grid == (4, 4)
    x = torch.randn(2, 3, 128, 128)
    g, local = bb.image_features(x)
    assert local.shape == (2, 16, bb.embed_dim)
    ref = torch.nn.functional.normalize(load_demo_clip().encode_image(x), dim=-1)
    assert torch.allclose(g, ref, atol=1e-4)  # position-free pooling == encode_image (pos embed is zero)
    t = bb.encode_texts(["a photo of a circle."])
    assert t.shape == (1, bb.embed_dim)
