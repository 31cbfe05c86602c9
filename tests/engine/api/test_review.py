"""Decisions on tags are kept by later runs and undone exactly; the project's model is the only one used."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import api
from engine.errors import InputError
from engine.project import Project
from engine.tagging.store import ImageResult, TagStore


@pytest.fixture()
def tagged(tmp_path: Path) -> tuple[Project, str]:
    project = api.create_project(tmp_path / "p", labels=api.resolve_labels("dog,cat,car"))
    photo = str(tmp_path / "a.jpg")
    with TagStore(project.open_db()) as store:
        store.db.execute("INSERT INTO tag_models(checksum, path, labels_json, metadata_json, registered) "
                         "VALUES ('x', '', '[]', '{}', '')")
        run = store.start_run(1, [str(tmp_path)])
        store.write_batch([ImageResult(photo, 1, 1, tags={"dog": 0.9, "cat": 0.2})], run_id=run, model_id=1)
    return project, photo


def test_undo_puts_each_tag_back_exactly(tagged: tuple[Project, str]) -> None:
    project, photo = tagged
    before = api.image_tags(project, photo)
    steps = [api.decide(project, photo, "dog", "rejected"), api.decide(project, photo, "cat", "confirmed"),
             api.decide(project, photo, "car", "manual")]
    assert {lab: src for lab, _s, src in api.image_tags(project, photo)} == {
        "dog": "rejected", "cat": "confirmed", "car": "manual"}
    for step in reversed(steps):
        api.undo(project, step)
    assert api.image_tags(project, photo) == before


def test_filters_count_only_tags_in_force(tagged: tuple[Project, str]) -> None:
    project, photo = tagged
    flt = api.TagFilter(labels=["cat"], threshold=0.5)
    assert api.matching_images(project, flt) == []
    api.decide(project, photo, "cat", "confirmed")
    assert api.matching_images(project, flt) == [photo]
    assert api.label_counts(project, flt) == {"dog": 1, "cat": 1}
    api.decide(project, photo, "dog", "rejected")
    assert api.label_counts(project, flt) == {"cat": 1}
    assert api.tag_labels(project) == ["cat", "dog"]


def test_explain_needs_the_projects_exported_model(tagged: tuple[Project, str]) -> None:
    project, photo = tagged
    with pytest.raises(InputError, match="no exported model"):
        api.explain(project, photo, "dog")
