"""Captions can be edited (labels follow the words), deleted and put back exactly."""

from __future__ import annotations

import pytest

from engine import api
from engine.errors import InputError
from engine.labels import LabelSet


@pytest.fixture
def project(tmp_path):
    project = api.create_project(tmp_path / "p")
    api.save_labels(project, LabelSet.from_dict({"name": "pets", "labels": [
        {"name": "cat"}, {"name": "dog"}, {"name": "car"}]}))
    api.add_captions(project, ["a cat on a sofa", "a dog in the park", "a red car"])
    return project


def test_edit_relabels_and_refuses_text_without_labels(project):
    first, second, _ = api.list_captions(project)
    edited = api.update_caption(project, first.id, "a cat   and a car")
    assert edited.text == "a cat and a car" and edited.labels == ["cat", "car"]
    assert api.caption_stats(project).per_label == {"cat": 1, "dog": 1, "car": 2}
    with pytest.raises(InputError, match="names none of the labels"):
        api.update_caption(project, first.id, "a sofa")
    with pytest.raises(InputError, match="already a caption"):
        api.update_caption(project, first.id, second.text)
    assert [c.text for c in api.list_captions(project)][0] == "a cat and a car"


def test_delete_and_restore_round_trip(project):
    before = api.list_captions(project)
    deleted = api.delete_captions(project, [before[1].id])
    assert [c.text for c in deleted] == ["a dog in the park"]
    assert [c.text for c in api.list_captions(project)] == ["a cat on a sofa", "a red car"]
    assert api.restore_captions(project, deleted) == 1
    assert api.list_captions(project) == before
