"""A model folder's labels.json is a label set; folders written in the older names/prompt_names format still load."""

from __future__ import annotations

import pytest

from engine.artifact import read_labels
from engine.errors import ArtifactError
from engine.labels.labelset import LabelSet


def test_label_set_format_round_trips() -> None:
    ls = LabelSet.from_dict({"name": "pets", "labels": [{"name": "dog", "parent": "animal"}, "animal", "hot_dog"]})
    back = read_labels(ls.to_dict(), source="labels.json")
    assert back == ls and back.prompt_names == ["dog", "animal", "hot dog"]


def test_old_format_is_converted() -> None:
    old = {"names": ["dog", "traffic_light", "animal"], "prompt_names": ["dog", "traffic_light", "animal"],
           "parents": {"dog": "animal"}}
    ls = read_labels(old, source="labels.json")
    assert ls.names == old["names"] and ls.prompt_names == old["prompt_names"]
    assert ls.parents == {"dog": "animal", "traffic_light": None, "animal": None}
    assert read_labels({"names": ["a", "b"]}, source="x").prompt_names == ["a", "b"]


def test_broken_labels_raise_artifact_error() -> None:
    with pytest.raises(ArtifactError, match="differ in length"):
        read_labels({"names": ["a", "b"], "prompt_names": ["a"]}, source="x")
    with pytest.raises(ArtifactError, match="duplicate"):
        read_labels({"names": ["a", "a"]}, source="x")
