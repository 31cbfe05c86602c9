"""One hierarchy walk: ancestors root first, free keyword groups kept as the root, cycles cut."""

from __future__ import annotations

from engine.export.metadata import ModelMetadata
from engine.imaging import PreprocessSpec
from engine.labels.hierarchy import ancestors, keyword_path
from engine.labels.labelset import LabelSet


def test_root_first_and_free_keyword_root() -> None:
    parents = {"dog": "animal", "animal": "Nature|Living", "cat": None}
    assert ancestors(parents, "dog") == ["Nature|Living", "animal"]
    assert ancestors(parents, "cat") == [] and ancestors(parents, "unknown") == []
    assert keyword_path(parents, "dog") == "Nature|Living|animal|dog"


def test_cycles_are_cut() -> None:
    assert ancestors({"a": "b", "b": "a"}, "a") == ["b"]
    assert ancestors({"a": "a"}, "a") == []


def test_labelset_and_metadata_agree() -> None:
    ls = LabelSet.from_dict({"name": "t", "labels": [
        {"name": "animal", "parent": "Nature"}, {"name": "dog", "parent": "animal"}, "cat"]})
    assert ls.ancestors("dog") == ["animal"]  # labels only: the free group "Nature" is no label
    assert ls.path("dog") == "Nature|animal|dog"
    meta = ModelMetadata(labels=tuple(ls.names), thresholds=(0.0,) * 3, preprocess=PreprocessSpec(size=32),
                         model_checksum="x", hierarchy=ls.parents)
    assert meta.ancestors("dog") == ["Nature", "animal"]
    assert keyword_path(meta.hierarchy, "dog") == ls.path("dog")
