"""api.train checks the backbone's vocabulary before reading any image: cat/dog/car with the demo CLIP."""

from __future__ import annotations

import pytest

from engine import api
from engine.api import weights
from engine.clip.config import BackboneConfig
from engine.clip.vocabulary import VocabularyError
from engine.labels import LabelSet


def test_demo_clip_and_everyday_labels_are_refused_in_plain_words(tmp_path):
    project = api.create_project(tmp_path / "p")
    api.save_labels(project, LabelSet.from_dict({"name": "my labels", "labels": [
        {"name": "cat"}, {"name": "dog"}, {"name": "car"}]}))
    cfg = BackboneConfig(model_name="demo-clip", pretrained=None, tokenizer="demo-words")
    with pytest.raises(VocabularyError, match="cannot spell 3 of your labels: cat, dog, car"):
        api.train(project, backbone=cfg)
    assert not project.model_dir.exists() or not any(project.model_dir.iterdir())


def test_demo_models_are_offered_for_demo_labels_only():
    assert weights.demo_labels_only(["circle", "star"])
    assert not weights.demo_labels_only(["circle", "cat"])
    assert not weights.demo_labels_only([])
