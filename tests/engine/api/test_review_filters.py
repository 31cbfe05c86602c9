"""Browse's review-state filters, file-name / folder search and per-photo review badges, through engine.api."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import api
from engine.errors import ConfigError
from engine.project import Project
from tests.engine.api.test_review import write_scores


@pytest.fixture()
def photos(tmp_path: Path) -> tuple[Project, list[str]]:
    project = api.create_project(tmp_path / "p", labels=api.resolve_labels("dog,cat,car"))
    paths = ["/photos/2023/Beach_dog.jpg", "/photos/2023/garden cat.jpg", "/photos/2024/Beach car.jpg",
             "/photos/2024/100%_sure.jpg", "/photos/2024/100x_sure.jpg"]
    write_scores(project, {p: {"dog": 0.9, "cat": 0.2, "car": 0.5} for p in paths})
    return project, paths


def _shown(project: Project, **kw: object) -> list[str]:
    flt = api.TagFilter(**kw)  # type: ignore[arg-type]
    found = api.matching_images(project, flt)
    assert api.matching_count(project, flt) == len(found)
    return found


def test_review_state_filters(photos: tuple[Project, list[str]]) -> None:
    project, paths = photos
    api.decide(project, paths[0], "dog", "confirmed")
    api.decide(project, paths[1], "dog", "rejected")
    api.decide(project, paths[2], "cat", "manual")
    assert _shown(project, review="reviewed") == sorted(paths[:3])
    assert _shown(project, review="unreviewed") == sorted(paths[3:])
    assert _shown(project, review="rejected") == [paths[1]]
    assert len(_shown(project, review="all")) == 5
    # combined with a label: dog is rejected on paths[1], so that photo is not "with dog" any more
    assert _shown(project, labels=["dog"], review="reviewed") == [paths[0], paths[2]]
    with pytest.raises(ConfigError):
        api.TagFilter(review="maybe")


def test_search_matches_file_names_and_folders_every_word(photos: tuple[Project, list[str]]) -> None:
    project, paths = photos
    assert _shown(project, search="beach") == [paths[0], paths[2]]  # case-insensitive
    assert _shown(project, search="2024 beach") == [paths[2]]  # every word, in any part of the path
    assert _shown(project, search="2023") == [paths[0], paths[1]]
    assert _shown(project, search="100%") == [paths[3]]  # % and _ are literal, not wildcards
    assert _shown(project, search="100_") == []  # as a wildcard, _ would match both "100%" and "100x"
    assert _shown(project, search="nothing") == []
    assert _shown(project, search="   ") == sorted(paths)


def test_review_states_badge_counts(photos: tuple[Project, list[str]]) -> None:
    project, paths = photos
    api.decide(project, paths[0], "dog", "confirmed")
    api.decide(project, paths[0], "cat", "manual")
    api.decide(project, paths[1], "dog", "rejected")
    states = api.review_states(project, [paths[0], paths[1], paths[3], "/not/tagged.jpg"])
    assert states[paths[0]] == api.ReviewState(confirmed=2, rejected=0, uncertain=1)  # car at p=0.5
    assert states[paths[1]] == api.ReviewState(confirmed=0, rejected=1, uncertain=1)
    assert states[paths[3]] == api.ReviewState(confirmed=0, rejected=0, uncertain=1) and not states[paths[3]].reviewed
    assert states["/not/tagged.jpg"] == api.ReviewState()
    api.decide(project, paths[3], "car", "rejected")  # decided: no longer uncertain
    assert api.review_states(project, [paths[3]])[paths[3]] == api.ReviewState(rejected=1)
