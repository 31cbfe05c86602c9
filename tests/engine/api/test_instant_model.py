"""The training-free tagger as a project's model right after the label set is typed: saved, recorded, exported."""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine import api
from engine.api.models import INSTANT_THRESHOLD


def test_instant_model_tags_a_folder_before_any_caption(tiny_backbone_cfg, tmp_path):
    project = api.create_project(tmp_path / "p", labels=api.resolve_labels("red,green,blue"))
    result = api.make_instant_model(project, backbone=tiny_backbone_cfg)
    status = api.model_status(project)
    assert status.trained and status.exported and status.summary["variant"] == "instant"
    assert status.thresholds == {n: INSTANT_THRESHOLD for n in ("red", "green", "blue")}
    assert list(result.metadata.labels) == ["red", "green", "blue"]
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(np.full((64, 64, 3), 60 * i, np.uint8)).save(photos / f"{i}.png")
    api.tag(project, [photos])
    assert api.tagged_count(project) == 3
