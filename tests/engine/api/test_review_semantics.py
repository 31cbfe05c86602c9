"""What the review API hands a person: exact messages, pages, decisions, per-label thresholds, exports and queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import api
from engine.errors import Cancelled, InputError
from engine.export.metadata import ModelMetadata
from engine.imaging import PreprocessSpec
from engine.progress import CancelToken
from engine.project import Project
from engine.tagging.policy import ThresholdPolicy
from engine.tagging.store import ImageResult, TagStore
from tests.engine.api.test_review import CALIBRATED, write_scores

NEITHER = "give a project (--project DIR) or a tag database (DB), not both"


@pytest.fixture()
def four(tmp_path: Path) -> Project:
    """Four photos with dog probabilities 0.05, 0.62, 0.88, 0.98 (max-F1 threshold 0.5); cat and car low."""
    project = api.create_project(tmp_path / "p", labels=api.resolve_labels("dog,cat,car"))
    write_scores(project, {f"/photos/{i}.jpg": {"dog": s, "cat": 0.1, "car": 0.1}
                           for i, s in enumerate([0.2, 0.55, 0.7, 0.9])})
    return project


def test_a_project_or_a_database_is_asked_for_with_the_exact_message(four: Project, tmp_path: Path) -> None:
    for call in (lambda: api.query(), lambda: api.query(four, db=four.db_path), lambda: api.failed_images(),
                 lambda: api.export_tags("csv", out=tmp_path / "t.csv")):
        with pytest.raises(InputError) as caught:
            call()
        assert str(caught.value) == NEITHER


def test_the_same_answers_come_from_the_database_alone(four: Project, tmp_path: Path) -> None:
    db = four.db_path
    assert [h.path for h in api.query(db=db, label="dog")] == ["/photos/3.jpg", "/photos/2.jpg", "/photos/1.jpg"]
    assert api.export_tags("csv", db=db, out=tmp_path / "t.csv") == 3  # three dogs in force, nothing else
    assert (tmp_path / "t.csv").read_text().count("/photos/") == 3


def test_query_honours_limit_and_sources(four: Project) -> None:
    assert [h.path for h in api.query(four, label="dog", limit=2)] == ["/photos/3.jpg", "/photos/2.jpg"]
    api.decide(four, "/photos/3.jpg", "dog", "rejected")
    api.decide(four, "/photos/0.jpg", "cat", "confirmed")
    rejected = api.query(four, sources=("rejected",))
    assert [(h.path, h.label, h.source) for h in rejected] == [("/photos/3.jpg", "dog", "rejected")]
    assert [(h.path, h.label) for h in api.query(four, sources=("confirmed",))] == [("/photos/0.jpg", "cat")]


def test_failed_images_of_one_run_leave_the_other_runs_out(tmp_path: Path) -> None:
    project = api.create_project(tmp_path / "f", labels=api.resolve_labels("dog,cat,car"))
    with TagStore(project.open_db()) as store:
        model = store.register_model(CALIBRATED)
        first = store.start_run(model, ["/photos"])
        store.write_batch([ImageResult("/photos/a.jpg", 1, 1, error="truncated file")], run_id=first, model_id=model)
        second = store.start_run(model, ["/photos"])
        store.write_batch([ImageResult("/photos/b.jpg", 1, 1, error="not an image")], run_id=second, model_id=model)
    assert api.failed_images(project, run_id=second) == [api.FailedImage("/photos/b.jpg", "not an image")]
    assert api.failed_images(project, run_id=first) == [api.FailedImage("/photos/a.jpg", "truncated file")]
    assert len(api.failed_images(project)) == 2


def test_a_decision_says_what_was_decided_and_undo_restores_the_score(four: Project) -> None:
    before = api.image_tags(four, "/photos/2.jpg")
    step = api.decide(four, "/photos/2.jpg", "dog", "rejected")
    assert (step.path, step.label, step.source, step.before) == ("/photos/2.jpg", "dog", "rejected", (0.7, "auto"))
    assert "/photos/2.jpg" not in api.matching_images(four, api.TagFilter(labels=["dog"]))
    assert api.label_counts(four, api.TagFilter()) == {"dog": 2}
    api.undo(four, step)
    assert api.image_tags(four, "/photos/2.jpg") == before
    assert api.label_counts(four, api.TagFilter()) == {"dog": 3}


def test_hand_added_tags_come_first_whatever_the_raw_scores(tmp_path: Path) -> None:
    # an uncalibrated model's raw scores are not probabilities: they can be far above 1
    raw = ModelMetadata(labels=("dog", "cat", "car"), thresholds=(1.5, 1.5, 1.5), preprocess=PreprocessSpec(size=32),
                        model_checksum="raw")
    project = api.create_project(tmp_path / "r", labels=api.resolve_labels("dog,cat,car"))
    write_scores(project, {"/photos/a.jpg": {"dog": 2.5, "cat": 3.5, "car": -4.0}}, raw)
    api.decide(project, "/photos/a.jpg", "bird", "manual")
    assert [(lab, s) for lab, s, _src in api.image_tags(project, "/photos/a.jpg")] == [
        ("bird", None), ("cat", 3.5), ("dog", 2.5), ("car", -4.0)]


def test_a_tag_exactly_at_its_cutoff_is_in_force_in_the_view_as_in_browse(four: Project) -> None:
    with TagStore(four.open_db()) as store:
        cutoff = store.label_rules()["dog"].cutoff
    write_scores(four, {"/photos/edge.jpg": {"dog": cutoff, "cat": 0.6, "car": 0.3}})
    views = api.image_tag_views(four, "/photos/edge.jpg")
    assert [(v.label, v.score) for v in views] == [("cat", 0.6), ("dog", cutoff), ("car", 0.3)]  # most probable first
    dog = views[1]
    assert dog.in_force and dog.uncertain and dog.threshold == 0.5 and dog.probability == pytest.approx(0.5)
    assert "/photos/edge.jpg" in api.matching_images(four, api.TagFilter(labels=["dog"]))


def test_label_thresholds_name_each_label_with_default_own_and_in_force(four: Project) -> None:
    api.set_label_threshold(four, "dog", 0.8)
    api.set_global_offset(four, 0.1)
    got = api.label_thresholds(four)
    assert got["dog"] == api.LabelThreshold("dog", 0.5, 0.8, pytest.approx(0.9))
    assert got["cat"] == api.LabelThreshold("cat", 0.5, None, pytest.approx(0.6))
    assert [h.path for h in api.query(four, label="dog")] == ["/photos/3.jpg"]  # 0.98 >= 0.9 > 0.88


def test_the_project_policy_is_what_was_set(four: Project) -> None:
    assert api.policy(four) == ThresholdPolicy()
    api.set_operating_point(four, "precision", 0.8)
    api.set_global_offset(four, -0.2)
    api.set_label_threshold(four, "cat", 0.3)
    assert api.policy(four) == ThresholdPolicy("precision", 0.8, -0.2, {"cat": 0.3})


def test_an_unknown_label_is_refused_naming_the_models_labels(four: Project) -> None:
    with pytest.raises(InputError) as caught:
        api.set_label_threshold(four, "bird", 0.5)
    assert str(caught.value) == "the project's model has no label 'bird'; its labels: car, cat, dog"
    assert api.policy(four).overrides == {}


def test_matching_images_pages_in_path_order(four: Project) -> None:
    flt = api.TagFilter()
    assert api.matching_images(four, flt, limit=2) == ["/photos/0.jpg", "/photos/1.jpg"]
    assert api.matching_images(four, flt, limit=2, offset=2) == ["/photos/2.jpg", "/photos/3.jpg"]
    assert api.matching_images(four, flt, offset=3) == ["/photos/3.jpg"]


def test_matching_images_default_page_is_5000(tmp_path: Path) -> None:
    project = api.create_project(tmp_path / "big", labels=api.resolve_labels("dog,cat,car"))
    write_scores(project, {f"/photos/{i:05d}.jpg": {"dog": 0.9} for i in range(5001)})
    page = api.matching_images(project, api.TagFilter())
    assert len(page) == 5000 and page[-1] == "/photos/04999.jpg"
    assert api.matching_count(project, api.TagFilter()) == 5001


def test_export_formats_and_their_messages(four: Project, tmp_path: Path) -> None:
    assert api.export_tags("json", four, out=tmp_path / "t.json") == 3  # photos with a tag in force
    data = json.loads((tmp_path / "t.json").read_text())
    assert [(item["path"], [t["label"] for t in item["tags"]]) for item in data] == [
        ("/photos/1.jpg", ["dog"]), ("/photos/2.jpg", ["dog"]), ("/photos/3.jpg", ["dog"])]
    with pytest.raises(InputError) as caught:
        api.export_tags("pdf", four)
    assert str(caught.value) == "unknown export format 'pdf'; use csv, json, xmp"


def _xmp_project(tmp_path: Path) -> tuple[Project, Path]:
    project = api.create_project(tmp_path / "x", labels=api.resolve_labels("dog,cat,car"))
    photo = tmp_path / "IMG_1.jpg"
    photo.write_bytes(b"")
    write_scores(project, {str(photo): {"dog": 0.9, "cat": 0.1}})
    return project, photo


def test_the_xmp_export_by_default_writes_sidecars_next_to_the_photo(tmp_path: Path) -> None:
    project, photo = _xmp_project(tmp_path)
    result = api.export_tags("xmp", db=project.db_path)
    sidecar = tmp_path / "IMG_1.jpg.xmp"  # naming "auto" with no sidecar yet: the photo's name plus .xmp
    assert result.written == 1 and [c.sidecar for c in result.changes] == [str(sidecar)]
    text = sidecar.read_text()
    assert "dog" in text and "cat" not in text and "hierarchicalSubject" in text


def test_a_flat_xmp_export_writes_no_hierarchical_keywords(tmp_path: Path) -> None:
    project, _photo = _xmp_project(tmp_path)
    result = api.export_tags("xmp", project, hierarchical=False)
    assert [(c.add_subject, c.add_hierarchical) for c in result.changes] == [(["dog"], [])]
    assert "hierarchicalSubject" not in (tmp_path / "IMG_1.jpg.xmp").read_text()


def test_a_cancelled_xmp_export_writes_nothing(tmp_path: Path) -> None:
    project, _photo = _xmp_project(tmp_path)
    token = CancelToken()
    token.set()
    with pytest.raises(Cancelled):
        api.export_tags("xmp", project, cancel=token)
    assert not (tmp_path / "IMG_1.jpg.xmp").exists()


def test_would_tag_n_photos_is_what_browse_shows_at_a_photos_own_probability(tmp_path: Path) -> None:
    # the threshold editor's "would tag N photos" (count_at) must agree with Browse once that threshold is saved,
    # also when the threshold is exactly a photo's probability (the probability -> score round trip rounds)
    project = api.create_project(tmp_path / "c", labels=api.resolve_labels("dog,cat,car"))
    scores = [0.3 + 0.5 * ((i * 7919) % 101) / 101 + i * 1e-4 for i in range(13)]  # 7 and 12 round up
    write_scores(project, {f"/photos/{i:02d}.jpg": {"dog": s} for i, s in enumerate(scores)})
    with TagStore(project.open_db()) as store:
        rule = store.label_rules()["dog"]
    for score in scores:
        p = rule.probability(score)
        would = api.count_at(project, "dog", p)
        api.set_label_threshold(project, "dog", p)
        shown = api.matching_images(project, api.TagFilter(labels=["dog"]))
        assert would == len(shown) == sum(s >= score for s in scores)
