"""The CLIP quality filter: a fake backbone with known geometry, and the real tiny CLIP for the API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import ConfigError, InputError
from engine.imaging import PreprocessSpec
from engine.project import Project
from engine.synthesis import Manifest, RenderRequest, synthesize
from engine.synthesis.quality import QualityConfig, filter_synthetic, score_images

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}


class FakeBackbone:
    """Image feature = its mean RGB; text feature of "a photo of a <colour>." = that colour's axis."""

    preprocess_spec = PreprocessSpec(size=8, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))

    def encode_texts(self, texts: list[str]):  # type: ignore[no-untyped-def]
        import torch

        rows = []
        for t in texts:
            name = next((c for c in COLOURS if c in t), None)
            rows.append(torch.tensor(COLOURS[name], dtype=torch.float32) if name else torch.ones(3))
        return torch.nn.functional.normalize(torch.stack(rows), dim=-1)

    def image_features(self, images):  # type: ignore[no-untyped-def]
        import torch

        g = torch.nn.functional.normalize(images.mean(dim=(2, 3)) + 1e-3, dim=-1)
        return g, g[:, None, :]


class LabelColourBackend:
    """Paints the first label's colour, except for captions containing "wrong" (a failure case)."""

    name = "label-colour"

    def params_key(self) -> dict[str, str]:
        return {"model": "label-colour"}

    def render(self, requests: list[RenderRequest], *, cancel=None) -> list[Image.Image]:  # type: ignore[no-untyped-def]
        out = []
        for r in requests:
            colour = "blue" if "wrong" in r.caption else r.labels[0]
            out.append(Image.new("RGB", (16, 16), COLOURS[colour]))
        return out


def test_score_images_flags_labels_that_do_not_show() -> None:
    images = [Image.new("RGB", (16, 16), COLOURS["red"]), Image.new("RGB", (16, 16), COLOURS["red"])]
    scores = score_images(FakeBackbone(), images, [["red"], ["green"]], list(COLOURS))
    assert not scores[0].flagged and scores[0].margins["red"] > 0.5
    assert scores[1].flagged and scores[1].margins["green"] < 0
    both = score_images(FakeBackbone(), images[:1], [["red", "green"]], list(COLOURS))[0]
    assert both.flagged  # "all": green does not show
    anyof = score_images(FakeBackbone(), images[:1], [["red", "green"]], list(COLOURS), QualityConfig(require="any"))
    assert not anyof[0].flagged
    with pytest.raises(InputError, match="purple"):
        score_images(FakeBackbone(), images[:1], [["purple"]], list(COLOURS))
    with pytest.raises(ConfigError, match="template"):
        QualityConfig(template="no placeholder")


def test_filter_synthetic_marks_manifest(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    items = [
        {"text": "a red ball", "labels": ["red"]},
        {"text": "a green leaf", "labels": ["green"]},
        {"text": "a wrong green leaf", "labels": ["green"]},
    ]
    synthesize(items, LabelColourBackend(), project)
    manifest = Manifest(project.open_db(), project.synthetic_dir)
    result = filter_synthetic(manifest, FakeBackbone(), list(COLOURS), QualityConfig(batch_size=2))
    assert (result.scored, result.flagged) == (3, 1)
    kept = manifest.records(include_flagged=False)
    assert sorted(r.caption for r in kept) == ["a green leaf", "a red ball"]
    assert filter_synthetic(manifest, FakeBackbone(), list(COLOURS)).scored == 0  # already scored
    assert filter_synthetic(manifest, FakeBackbone(), list(COLOURS), rescore=True).scored == 3


def test_real_tiny_clip_backbone_api() -> None:
    from engine.clip.backbone import load_backbone
    from engine.clip.config import BackboneConfig

    backbone = load_backbone(BackboneConfig(model_name="tiny-test", pretrained=None))
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (48, 40, 3), dtype=np.uint8)) for _ in range(3)]
    scores = score_images(backbone, images, [["cat"], ["dog", "cat"], []], ["cat", "dog", "car"])
    assert len(scores) == 3 and set(scores[1].margins) == {"dog", "cat"}
    assert all(np.isfinite(s.score) for s in scores) and scores[2].margins == {}
