"""Decisions on tags are kept by later runs and undone exactly; the project's model is the only one used."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import api
from engine.errors import ConfigError, InputError
from engine.evaluation.calibration import Calibration
from engine.export.metadata import ModelMetadata
from engine.imaging import PreprocessSpec
from engine.project import Project
from engine.tagging.store import ImageResult, TagStore

# p = sigmoid(10 s - 5): score 0.9 -> 0.98, 0.2 -> 0.05, 0.55 -> 0.62; max-F1 thresholds 0.5
CALIBRATED = ModelMetadata(
    labels=("dog", "cat", "car"), thresholds=(0.5, 0.5, 0.5), preprocess=PreprocessSpec(size=32),
    model_checksum="calibrated", calibration=Calibration(a=(10.0,) * 3, b=(-5.0,) * 3, max_f1=(0.5, 0.5, 0.5)),
)


def write_scores(project: Project, rows: dict[str, dict[str, float]], meta: ModelMetadata = CALIBRATED) -> None:
    with TagStore(project.open_db()) as store:
        model = store.register_model(meta)
        run = store.start_run(model, ["/photos"])
        store.write_batch([ImageResult(path, 1, 1, tags=tags) for path, tags in rows.items()], run_id=run,
                          model_id=model)


@pytest.fixture()
def tagged(tmp_path: Path) -> tuple[Project, str]:
    project = api.create_project(tmp_path / "p", labels=api.resolve_labels("dog,cat,car"))
    photo = str(tmp_path / "a.jpg")
    write_scores(project, {photo: {"dog": 0.9, "cat": 0.2, "car": 0.1}})
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
    flt = api.TagFilter(labels=["cat"])
    assert api.matching_images(project, flt) == []
    api.decide(project, photo, "cat", "confirmed")
    assert api.matching_images(project, flt) == [photo]
    assert api.label_counts(project, flt) == {"dog": 1, "cat": 1}
    api.decide(project, photo, "dog", "rejected")
    assert api.label_counts(project, flt) == {"cat": 1}
    assert api.tag_labels(project) == ["car", "cat", "dog"]


def test_explain_needs_the_projects_exported_model(tagged: tuple[Project, str]) -> None:
    project, photo = tagged
    with pytest.raises(InputError, match="no exported model"):
        api.explain(project, photo, "dog")


@pytest.fixture()
def five(tmp_path: Path) -> Project:
    """Five photos whose "dog" probabilities are 0.05, 0.27, 0.62, 0.88, 0.98 (cat and car low)."""
    project = api.create_project(tmp_path / "q", labels=api.resolve_labels("dog,cat,car"))
    scores = [0.2, 0.4, 0.55, 0.7, 0.9]
    write_scores(project, {f"/photos/{i}.jpg": {"dog": s, "cat": 0.1, "car": 0.1} for i, s in enumerate(scores)})
    return project


def _dogs(project: Project) -> list[str]:
    return api.matching_images(project, api.TagFilter(labels=["dog"]))


def test_default_threshold_is_the_calibrated_max_f1_point(five: Project) -> None:
    assert _dogs(five) == ["/photos/2.jpg", "/photos/3.jpg", "/photos/4.jpg"]
    assert api.label_counts(five, api.TagFilter()) == {"dog": 3}
    views = {v.label: v for v in api.image_tag_views(five, "/photos/2.jpg")}
    assert views["dog"].in_force and not views["dog"].uncertain  # 0.62 is more than 0.1 above 0.5
    assert abs(views["dog"].probability - 0.6225) < 1e-3 and not views["cat"].in_force
    api.set_label_threshold(five, "dog", 0.65)
    views = {v.label: v for v in api.image_tag_views(five, "/photos/2.jpg")}
    assert not views["dog"].in_force and views["dog"].uncertain  # just below its threshold


def test_a_label_override_and_the_global_offset_move_the_same_tags_everywhere(five: Project, tmp_path: Path) -> None:
    api.set_label_threshold(five, "dog", 0.9)
    assert _dogs(five) == ["/photos/4.jpg"]
    assert api.label_thresholds(five)["dog"].own == 0.9
    api.set_global_offset(five, -0.25)  # 0.9 - 0.25 = 0.65 in force
    assert _dogs(five) == ["/photos/3.jpg", "/photos/4.jpg"]
    assert api.count_at(five, "dog", 0.9) == 2 and api.count_at(five, "dog", 0.4) == 4
    assert [h.path for h in api.query(five, label="dog")] == ["/photos/4.jpg", "/photos/3.jpg"]
    api.export_tags("csv", five, out=tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().count("dog") == 2
    api.set_label_threshold(five, "dog", None)  # back to max-F1 0.5, with the offset 0.25
    assert len(_dogs(five)) == 4
    with pytest.raises(Exception, match="threshold"):
        api.set_label_threshold(five, "dog", 1.5)


def test_human_decisions_stay_in_force_whatever_the_threshold(five: Project) -> None:
    api.decide(five, "/photos/0.jpg", "dog", "confirmed")
    api.decide(five, "/photos/4.jpg", "dog", "rejected")
    api.set_label_threshold(five, "dog", 1.0)
    assert _dogs(five) == ["/photos/0.jpg"]
    api.set_label_threshold(five, "dog", 0.0)
    assert "/photos/4.jpg" not in _dogs(five) and len(_dogs(five)) == 4


def test_precision_operating_point_uses_the_heldout_curve(tmp_path: Path) -> None:
    import numpy as np

    from engine.evaluation.calibration import fit_calibration

    rng = np.random.default_rng(0)
    y = (rng.random((400, 3)) < 0.3).astype(int)
    s = y * 2.0 + rng.normal(0, 1.0, y.shape)
    cal = fit_calibration(s, y)
    meta = ModelMetadata(labels=("dog", "cat", "car"), thresholds=(0.0,) * 3, preprocess=PreprocessSpec(size=32),
                         model_checksum="c2", calibration=cal)
    project = api.create_project(tmp_path / "r", labels=api.resolve_labels("dog,cat,car"))
    write_scores(project, {f"/p/{i}.jpg": {"dog": float(v)} for i, v in enumerate(np.linspace(-2, 4, 50))}, meta)
    at_f1 = len(_dogs(project))
    api.set_operating_point(project, "precision", 0.95)
    high = api.label_thresholds(project)["dog"]
    assert high.default > cal.max_f1[0] and len(_dogs(project)) < at_f1
    probs = cal.probabilities(s)[:, 0]
    kept = probs >= high.default
    assert y[kept, 0].mean() >= 0.95  # the held-out precision at that point reaches the target
    with pytest.raises(Exception, match="operating_point"):
        api.set_operating_point(project, "best")


def test_histogram_counts_every_photo_of_the_label(five: Project) -> None:
    counts, edges = api.score_histogram(five, "dog", bins=10)
    assert sum(counts) == 5 and len(edges) == 11 and counts[0] == 1 and counts[9] == 1


def test_tagged_and_failed_photos_are_counted_and_listed_with_their_reason(tmp_path: Path) -> None:
    project = api.create_project(tmp_path / "f", labels=api.resolve_labels("dog,cat,car"))
    with TagStore(project.open_db()) as store:
        model = store.register_model(CALIBRATED)
        run = store.start_run(model, ["/photos"])
        store.write_batch([ImageResult("/photos/ok.jpg", 1, 1, tags={"dog": 0.9}),
                           ImageResult("/photos/b.jpg", 1, 1, error="not an image"),
                           ImageResult("/photos/a.jpg", 1, 1, error="truncated file")], run_id=run, model_id=model)
    assert api.tagged_count(project) == 1
    assert api.failed_images(project) == [api.FailedImage("/photos/a.jpg", "truncated file"),
                                          api.FailedImage("/photos/b.jpg", "not an image")]
    assert api.failed_images(db=project.db_path, limit=1) == [api.FailedImage("/photos/a.jpg", "truncated file")]
    with pytest.raises(InputError, match="not both"):
        api.failed_images(project, db=project.db_path)


def test_views_query_and_histogram_keep_each_label_apart(five: Project) -> None:
    api.decide(five, "/photos/1.jpg", "cat", "manual")
    views = {v.label: v for v in api.image_tag_views(five, "/photos/1.jpg")}
    assert (views["cat"].source, views["dog"].source, views["car"].source) == ("manual", "auto", "auto")
    assert views["cat"].in_force and not views["dog"].in_force  # a person's tag holds at any probability
    assert [h.path for h in api.query(five, label="cat")] == ["/photos/1.jpg"]
    assert {h.label for h in api.query(five)} == {"dog", "cat"}
    counts, edges = api.score_histogram(five, "dog", bins=4)
    assert edges == [0.0, 0.25, 0.5, 0.75, 1.0] and counts == [1, 1, 1, 2]  # 0.05, 0.27, 0.62, 0.88, 0.98


def test_the_xmp_export_gets_the_naming_the_person_chose(five: Project) -> None:
    with pytest.raises(ConfigError, match="naming"):
        api.export_tags("xmp", five, naming="sideways")
    with pytest.raises(InputError, match="say where to write the CSV file"):
        api.export_tags("csv", five)
    with pytest.raises(InputError, match="unknown export format 'pdf'"):
        api.export_tags("pdf", five)


def test_the_xmp_export_honours_naming_dry_run_and_progress(tmp_path: Path) -> None:
    project = api.create_project(tmp_path / "x", labels=api.resolve_labels("dog,cat,car"))
    photo = tmp_path / "IMG_1.jpg"
    photo.write_bytes(b"")
    write_scores(project, {str(photo): {"dog": 0.9, "cat": 0.1}})
    seen: list[object] = []
    result = api.export_tags("xmp", project, naming="stem", dry_run=True, progress=seen.append)
    assert [(c.sidecar, c.create, c.add_subject) for c in result.changes] == [(str(tmp_path / "IMG_1.xmp"), True,
                                                                               ["dog"])]
    assert result.changes[0].add_hierarchical == ["dog"]  # hierarchical keywords by default
    assert seen and result.written == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["IMG_1.jpg", "x"]


def test_csv_export_writes_csv_and_views_list_a_persons_tags(tagged: tuple[Project, str], tmp_path: Path) -> None:
    project, photo = tagged
    api.export_tags("csv", project, out=tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines()[0].startswith("path,")
    assert [lab for lab, _s, _src in api.image_tags(project, photo)] == ["dog", "cat", "car"]  # best score first
    api.decide(project, photo, "bird", "manual")  # a label the model does not know: no score, no rule
    api.decide(project, photo, "car", "confirmed")  # 0.1 is far below the threshold: a person's decision holds
    assert [lab for lab, _s, _src in api.image_tags(project, photo)] == ["bird", "dog", "cat", "car"]
    views = api.image_tag_views(project, photo)
    assert [v.label for v in views] == ["bird", "dog", "cat", "car"]
    assert {v.label: v.in_force for v in views} == {"bird": True, "dog": True, "cat": False, "car": True}
    assert views[0].probability is None and views[0].threshold is None
    assert len(api.score_histogram(project, "dog")[0]) == 20
    write_scores(project, {"/p/dog_only.jpg": {"dog": 0.9}})
    api.decide(project, "/p/dog_only.jpg", "cat", "manual")  # a model label added by hand: a rule, no score
    cat = {v.label: v for v in api.image_tag_views(project, "/p/dog_only.jpg")}["cat"]
    assert cat.in_force and cat.score is None and cat.probability is None and cat.threshold == 0.5
