"""The tag store's meaning: which photos Browse shows, counts, decisions and undo, thresholds, messages."""

from __future__ import annotations

import dataclasses
import math
import os
import sqlite3
from pathlib import Path

import pytest

from engine.errors import ArtifactError, InputError, StorageError
from engine.evaluation.calibration import Calibration
from engine.tagging.filters import TagFilter
from engine.tagging.policy import LabelRule
from engine.tagging.store import ImageResult, TagStore, path_key

from .conftest import tiny_metadata

LABELS = ("red", "green", "blue")


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def calibrated(labels: tuple[str, ...] = LABELS, checksum: str = "cal-v1"):  # type: ignore[no-untyped-def]
    """A model whose probability is sigmoid(score) for every label, threshold 0.5 (raw score 0)."""
    n = len(labels)
    cal = Calibration(a=(1.0,) * n, b=(0.0,) * n, max_f1=(0.5,) * n, fitted_on="heldout_images", n_images=10)
    return dataclasses.replace(tiny_metadata(labels=labels, checksum=checksum), calibration=cal)


def fill(store: TagStore, root: Path, scores: dict[str, dict[str, float]], meta=None, errors=()) -> int:  # type: ignore[no-untyped-def]
    """Register `meta` (default: the calibrated model), write one run with these raw scores; the run id."""
    model = store.register_model(meta or calibrated(), root / "m.onnx")
    run = store.start_run(model, [str(root)])
    results = [ImageResult(str(root / name), 10, 1, tags=tags) for name, tags in scores.items()]
    results += [ImageResult(str(root / name), 10, 1, error=why) for name, why in errors]
    store.write_batch(results, run_id=run, model_id=model)
    return run


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with TagStore.open(tmp_path / "t.db") as s:
        yield s


def p(root: Path, name: str) -> str:
    return str(root / name)


# --- Browse: which photos a filter returns ----------------------------------------------------------------
@pytest.fixture
def browse(store: TagStore, tmp_path: Path) -> TagStore:
    fill(store, tmp_path, {
        "a.jpg": {"red": 2.0, "green": 1.0, "blue": -3.0},   # red, green
        "b.jpg": {"red": 1.5, "green": -1.0, "blue": -2.0},  # red
        "c.jpg": {"red": -2.0, "green": 0.5, "blue": 0.2},   # green, blue
        "d.jpg": {"red": -1.0, "green": -1.0, "blue": -1.0},  # nothing
    }, errors=[("e.jpg", "cannot identify image file")])
    return store


def test_filter_all_and_any_labels(browse: TagStore, tmp_path: Path) -> None:
    def shown(**kw: object) -> list[str]:
        flt = TagFilter(**kw)  # type: ignore[arg-type]
        found = browse.matching_paths(flt)
        assert browse.matching_count(flt) == len(found)
        return [os.path.basename(f) for f in found]

    assert shown() == ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]  # the unreadable photo is not shown
    assert shown(labels=["red"]) == ["a.jpg", "b.jpg"]
    assert shown(labels=["red", "green"], mode="all") == ["a.jpg"]
    assert shown(labels=["red", "green"], mode="any") == ["a.jpg", "b.jpg", "c.jpg"]
    assert shown(labels=["red", "blue"], mode="all") == []
    assert shown(labels=["green"], search="C.JPG") == ["c.jpg"]
    assert browse.matching_paths(TagFilter(), limit=2, offset=1) == [p(tmp_path, "b.jpg"), p(tmp_path, "c.jpg")]


def test_label_counts_and_status_counts(browse: TagStore, tmp_path: Path) -> None:
    assert browse.label_counts() == {"red": 2, "green": 2, "blue": 1}
    assert browse.counts() == {"done": 4, "error": 1, "missing": 0}
    browse.set_decision(p(tmp_path, "a.jpg"), "red", "rejected")
    browse.set_decision(p(tmp_path, "d.jpg"), "blue", "confirmed")
    browse.set_decision(p(tmp_path, "d.jpg"), "sunset", "manual")
    assert browse.label_counts() == {"red": 1, "green": 2, "blue": 2, "sunset": 1}
    assert browse.labels_in_force(p(tmp_path, "d.jpg")) == {"blue", "sunset"}
    assert browse.labels_in_force(p(tmp_path, "nowhere.jpg")) == set()


def test_review_state_filters_combine_with_search(browse: TagStore, tmp_path: Path) -> None:
    browse.set_decision(p(tmp_path, "a.jpg"), "red", "confirmed")
    browse.set_decision(p(tmp_path, "b.jpg"), "red", "rejected")
    browse.set_decision(p(tmp_path, "c.jpg"), "sunset", "manual")

    def shown(**kw: object) -> list[str]:
        flt = TagFilter(**kw)  # type: ignore[arg-type]
        found = [os.path.basename(f) for f in browse.matching_paths(flt)]
        assert browse.matching_count(flt) == len(found)
        return found

    assert shown(review="reviewed") == ["a.jpg", "b.jpg", "c.jpg"]
    assert shown(review="unreviewed") == ["d.jpg"]
    assert shown(review="rejected") == ["b.jpg"]
    assert shown(review="reviewed", search="b.jpg") == ["b.jpg"]  # both conditions, not only the last
    assert shown(review="rejected", search="a.jpg") == []
    assert shown(labels=["red"], review="reviewed", search="jpg") == ["a.jpg"]
    assert shown(search="d.jpg") == ["d.jpg"]  # search alone, no label


def test_search_every_word_case_insensitive_and_literal(store: TagStore, tmp_path: Path) -> None:
    names = ["Beach/dog.jpg", "garden/CAT.jpg", "100%_sure.jpg", "100x_sure.jpg", "1000ysure.jpg",
             "Été 2023/lac.jpg", "a\\b.jpg", "ab.jpg"]
    fill(store, tmp_path, {n: {"red": 1.0} for n in names})

    def shown(search: str) -> list[str]:
        flt = TagFilter(search=search)
        found = [os.path.relpath(f, tmp_path) for f in store.matching_paths(flt)]
        assert store.matching_count(flt) == len(found)
        return found

    assert shown("beach") == ["Beach/dog.jpg"]
    assert shown("cat") == ["garden/CAT.jpg"]
    assert shown("GARDEN cat") == ["garden/CAT.jpg"]
    assert shown("garden dog") == []
    assert shown("100%") == ["100%_sure.jpg"]  # % is a literal, not "anything"
    assert shown("_sure") == ["100%_sure.jpg", "100x_sure.jpg"]  # _ is a literal, not "one character"
    assert shown("été") == ["Été 2023/lac.jpg"]  # non-ASCII letters fold too
    assert shown("ÉTÉ") == ["Été 2023/lac.jpg"]
    assert shown("a\\b") == ["a\\b.jpg"]  # a backslash is a backslash
    assert len(shown("")) == len(names)


def test_default_page_is_5000_photos(store: TagStore, tmp_path: Path) -> None:
    fill(store, tmp_path, {f"{i:05d}.jpg": {"red": 1.0} for i in range(5001)})
    assert len(store.matching_paths(TagFilter())) == 5000
    assert store.matching_count(TagFilter(labels=["red"])) == 5001


# --- tags in force, decisions and undo ---------------------------------------------------------------------
def test_iter_tags_in_force_lists_rejected_only_when_asked(browse: TagStore, tmp_path: Path) -> None:
    browse.set_decision(p(tmp_path, "a.jpg"), "red", "rejected")
    rows = [(os.path.basename(path), label, source) for path, _, label, _, source in browse.iter_tags_in_force()]
    assert rows == [("a.jpg", "green", "auto"), ("b.jpg", "red", "auto"), ("c.jpg", "blue", "auto"),
                    ("c.jpg", "green", "auto")]
    rows = [(os.path.basename(r[0]), r[4]) for r in browse.iter_tags_in_force(label="red", rejected=True)]
    assert rows == [("a.jpg", "rejected"), ("b.jpg", "auto")]


def test_decision_messages(browse: TagStore, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        browse.set_decision(p(tmp_path, "a.jpg"), "red", "auto")
    assert str(err.value) == "source must be one of confirmed, rejected, manual, got 'auto'"
    with pytest.raises(InputError) as err:
        browse.set_decision(p(tmp_path, "zz.jpg"), "red", "confirmed")
    assert str(err.value) == f"{p(tmp_path, 'zz.jpg')} is not in the database; tag its folder first"
    with pytest.raises(InputError) as err:
        browse.restore_tag(p(tmp_path, "zz.jpg"), "red", None)
    assert str(err.value) == f"{p(tmp_path, 'zz.jpg')} is not in the database"


def test_undo_restores_the_exact_prior_state(browse: TagStore, tmp_path: Path) -> None:
    a = p(tmp_path, "a.jpg")
    before = browse.tags_of(a)
    counts = browse.label_counts()
    browse.set_decision(a, "sunset", "manual")
    browse.set_decision(a, "red", "rejected")
    browse.set_decision(a, "blue", "confirmed")
    assert browse.label_counts() == {"red": 1, "green": 2, "blue": 2, "sunset": 1}
    browse.restore_tag(a, "sunset", None)  # a tag a person added: gone again
    browse.restore_tag(a, "red", before["red"])
    browse.restore_tag(a, "blue", before["blue"])
    assert browse.tags_of(a) == before
    assert browse.label_counts() == counts


def test_tags_of_paths_many_photos_one_query_per_500(store: TagStore, tmp_path: Path) -> None:
    scores = {f"{i:04d}.jpg": {"red": i / 1000} for i in range(1201)}
    fill(store, tmp_path, scores)
    paths = [p(tmp_path, n) for n in scores] + [p(tmp_path, "unknown.jpg")]
    queries: list[str] = []
    store.db.conn.set_trace_callback(queries.append)
    tags = store.tags_of_paths(paths)
    assert len([q for q in queries if q.lstrip().upper().startswith("SELECT")]) == 3
    assert len(tags) == 1201 and p(tmp_path, "unknown.jpg") not in tags
    assert tags[paths[0]] == {"red": (0.0, "auto")}
    assert tags[paths[1200]] == {"red": (1.2, "auto")}
    assert tags[paths[600]] == {"red": (0.6, "auto")}

    queries.clear()
    known = store.lookup(paths)
    assert len([q for q in queries if q.lstrip().upper().startswith("SELECT")]) == 3
    assert len(known) == 1201 and known[paths[1200]].status == "done"

    run2 = store.start_run(1, [str(tmp_path)])
    queries.clear()
    store.mark_seen(paths[:1200], run2)
    assert len([q for q in queries if q.lstrip().upper().startswith("UPDATE")]) == 3
    store.db.conn.set_trace_callback(None)
    assert store.mark_missing([str(tmp_path)], run2) == 1  # only the photo the second scan did not see
    assert [path for path, k in store.lookup(paths).items() if k.status == "missing"] == [paths[1200]]


def test_non_utf8_names_come_back_exactly(store: TagStore, tmp_path: Path) -> None:
    odd = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.jpg")
    fill(store, tmp_path, {"plain.jpg": {"red": 1.0}}, errors=())
    model = store.register_model(calibrated(), tmp_path / "m.onnx")
    run = store.start_run(model, [str(tmp_path)])
    store.write_batch([ImageResult(odd, 1, 1, tags={"red": 2.0, "green": 0.3}),
                       ImageResult(odd + "x", 1, 1, error="truncated file")], run_id=run, model_id=model)
    assert store.tags_of_paths([odd]) == {odd: {"red": (2.0, "auto"), "green": (0.3, "auto"), }}
    assert store.failed() == [(odd + "x", "truncated file")]
    assert store.undecided_scores(["red"])[0] == [odd, p(tmp_path, "plain.jpg")]  # by stored text
    store.set_decision(odd, "red", "confirmed")
    assert store.human_decisions() == [(odd, "red", "confirmed")]


# --- runs, errors, missing files ---------------------------------------------------------------------------
def test_run_counters_and_failed_list(store: TagStore, tmp_path: Path) -> None:
    run = fill(store, tmp_path, {"a.jpg": {"red": 1.0}},
               errors=[("z.jpg", "cannot identify image file"), ("y.jpg", "truncated")])
    store.finish_run(run, "done")
    row = store.runs()[-1]
    assert (row["tagged"], row["errors"], row["skipped"], row["missing"], row["status"]) == (1, 2, 0, 0, "done")
    assert row["providers"] == ""
    assert row["started"].endswith("+00:00") and row["finished"].endswith("+00:00")  # UTC, whatever the zone
    model = store.register_model(calibrated(), tmp_path / "m.onnx")
    run2 = store.start_run(model, [str(tmp_path)], providers=("CUDAExecutionProvider", "CPUExecutionProvider"))
    assert store.runs()[-1]["providers"] == "CUDAExecutionProvider,CPUExecutionProvider"
    store.write_batch([ImageResult(p(tmp_path, "x.jpg"), 1, 1, error="bad header")], run_id=run2, model_id=model)
    store.finish_run(run2, "cancelled", skipped=3, missing=2)
    assert {k: store.runs()[-1][k] for k in ("tagged", "errors", "skipped", "missing")} == \
        {"tagged": 0, "errors": 1, "skipped": 3, "missing": 2}
    assert store.failed() == [(p(tmp_path, "x.jpg"), "bad header"), (p(tmp_path, "y.jpg"), "truncated"),
                              (p(tmp_path, "z.jpg"), "cannot identify image file")]
    assert store.failed(run_id=run2) == [(p(tmp_path, "x.jpg"), "bad header")]
    assert store.failed(run_id=run, limit=1) == [(p(tmp_path, "y.jpg"), "truncated")]


def test_mark_missing_sums_roots_and_handles_odd_roots(store: TagStore, tmp_path: Path) -> None:
    names = ["one/a.jpg", "one/b.jpg", "twoX/c.jpg", "twoXY/d.jpg", "three/e.jpg"]
    fill(store, tmp_path, {n: {"red": 1.0} for n in names})
    run2 = store.start_run(1, [str(tmp_path)])
    # the second scan found nothing: every photo under the roots is missing, other roots untouched
    assert store.mark_missing([str(tmp_path / "one"), str(tmp_path / "twoX") + "/"], run2) == 3
    assert store.counts() == {"done": 2, "error": 0, "missing": 3}
    assert store.image(p(tmp_path, "twoXY/d.jpg"))["status"] == "done"  # a sibling folder with a longer name
    assert store.mark_missing(["/"], run2) == 2  # the file-system root covers everything left
    assert store.counts() == {"done": 0, "error": 0, "missing": 5}
    assert store.tags_of(p(tmp_path, "one/a.jpg")) == {"red": (1.0, "auto")}  # their tags stay


def test_write_batch_error_names_the_database(store: TagStore, tmp_path: Path) -> None:
    model = store.register_model(calibrated(), tmp_path / "m.onnx")
    run = store.start_run(model, [str(tmp_path)])
    store.db.execute("CREATE TRIGGER full BEFORE INSERT ON tags BEGIN SELECT RAISE(ABORT, 'disk is full'); END")
    with pytest.raises(StorageError) as err:
        store.write_batch([ImageResult(p(tmp_path, "a.jpg"), 1, 1, tags={"red": 1.0})], run_id=run, model_id=model)
    assert str(err.value) == (f"could not write a batch of 1 results to {tmp_path / 't.db'}: disk is full; free some "
                              "space (or fix the folder's permissions) and run again to resume")
    assert store.counts() == {"done": 0, "error": 0, "missing": 0}  # nothing half-written
    assert store.runs()[-1]["tagged"] == 0


# --- models and label sets ---------------------------------------------------------------------------------
def test_label_set_mismatch_message(store: TagStore, tmp_path: Path) -> None:
    many = tuple(f"l{i:02d}" for i in range(12))
    store.register_model(tiny_metadata(labels=many, checksum="m12"))
    other = tuple(f"k{i:02d}" for i in range(12))
    with pytest.raises(InputError) as err:
        store.register_model(tiny_metadata(labels=other, checksum="k12"))
    assert str(err.value) == (
        "the model does not match this database's label set (labels not in the database: "
        + ", ".join(other[:10]) + "; database labels missing from the model: " + ", ".join(many[:10]) + "). "
        "Use a model trained on the same labels, or tag into a new database (--db).")
    with pytest.raises(InputError) as err:
        store.register_model(tiny_metadata(labels=many[:11], checksum="k11"), tmp_path / "small.onnx")
    assert str(err.value).startswith(f"{tmp_path / 'small.onnx'} does not match this database's label set "
                                     "(database labels missing from the model: l11). ")
    store.check_labels(tuple(reversed(many)))  # the same set in another order is fine
    with pytest.raises(InputError, match=r"^the model does not match this database's label set \(labels not"):
        store.check_labels((*many, "extra"))


def test_same_weights_other_label_order_is_refused(store: TagStore, tmp_path: Path) -> None:
    store.register_model(tiny_metadata(checksum="w1"), tmp_path / "a.onnx")
    reordered = tiny_metadata(labels=("blue", "green", "red"), checksum="w1")
    expected = ("has the weights of a model this database knows but its labels in another order, so its scores "
                "would land on the wrong labels; export the model again")
    with pytest.raises(InputError) as err:
        store.register_model(reordered, tmp_path / "b.onnx")
    assert str(err.value) == f"{tmp_path / 'b.onnx'} {expected}"
    with pytest.raises(InputError) as err:
        store.register_model(reordered)
    assert str(err.value) == f"the model {expected}"
    assert store.register_model(tiny_metadata(checksum="w1")) == 1  # same model again: same id


@pytest.mark.parametrize(("sqlite_message", "why"), [
    ("attempt to write a readonly database", "it is read-only for this user (a file or folder you may not write)"),
    ("disk I/O error", "disk I/O error"),
])
def test_cannot_register_message(store: TagStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 sqlite_message: str, why: str) -> None:
    def fail(*_: object) -> int:
        raise sqlite3.OperationalError(sqlite_message)

    monkeypatch.setattr(store, "_insert_model", fail)
    with pytest.raises(StorageError) as err:
        store.register_model(tiny_metadata())
    assert str(err.value) == (f"cannot write the tag database {tmp_path / 't.db'}: {why}; fix its permissions or "
                              "free some space, or tag into another database")


def test_labels_in_use_adds_hand_made_labels(store: TagStore, tmp_path: Path) -> None:
    assert store.labels_in_use() == []
    fill(store, tmp_path, {"a.jpg": {"red": 1.0}})
    store.set_decision(p(tmp_path, "a.jpg"), "sunset", "manual")
    assert store.labels_in_use() == ["blue", "green", "red", "sunset"]


# --- thresholds --------------------------------------------------------------------------------------------
def test_policy_setting_errors_and_values(store: TagStore) -> None:
    with pytest.raises(InputError) as err:
        store.set_policy_value("offset", 0.1)
    assert str(err.value) == "unknown threshold policy setting 'offset'"
    store.set_policy_value("global_offset", 0.25)
    store.set_policy_value("operating_point", "precision")
    store.set_policy_value("target_precision", 0.8)
    store.set_label_threshold("red", 0.7)
    policy = store.threshold_policy()
    assert (policy.global_offset, policy.operating_point, policy.target_precision, policy.overrides) == \
        (0.25, "precision", 0.8, {"red": 0.7})
    store.set_label_threshold("red", None)
    assert store.threshold_policy().overrides == {}


def test_thresholds_move_exactly_the_tags_they_should(browse: TagStore, tmp_path: Path) -> None:
    # red scores: a 2.0 (p .881), b 1.5 (p .818), c -2.0, d -1.0
    assert browse.count_at("red", 0.85) == 1
    assert browse.count_at("red", 0.8) == 2
    browse.set_label_threshold("red", sigmoid(1.5))  # at b's own probability: b stays
    assert [os.path.basename(x) for x in browse.matching_paths(TagFilter(labels=["red"]))] == ["a.jpg", "b.jpg"]
    browse.set_label_threshold("red", 0.85)
    assert browse.label_counts()["red"] == 1
    browse.set_decision(p(tmp_path, "d.jpg"), "red", "confirmed")
    browse.set_decision(p(tmp_path, "c.jpg"), "sunset", "manual")
    assert browse.count_at("red", 0.99) == 1  # only the confirmed one
    assert browse.count_at("sunset", 0.99) == 1  # a hand-made label: its manual tags count at any threshold
    assert browse.count_at("sunset", 0.0) == 1


def test_label_probabilities_use_the_given_rules(browse: TagStore) -> None:
    assert sorted(browse.label_probabilities("red")) == pytest.approx(sorted(map(sigmoid, [2.0, 1.5, -2.0, -1.0])))
    doubled = {"red": LabelRule("red", 2.0, 0.0, 0.5, 0.5)}
    assert sorted(browse.label_probabilities("red", doubled)) == \
        pytest.approx(sorted(sigmoid(2 * s) for s in [2.0, 1.5, -2.0, -1.0]))
    assert browse.label_probabilities("green", doubled) == []
    assert browse.label_probabilities("sunset") == []


def test_uncalibrated_model_probabilities_use_the_stored_spread(store: TagStore, tmp_path: Path) -> None:
    # no calibration: p = sigmoid(2 (s - 0.5) / std) with std over the stored (non-manual) scores
    scores = [0.9, 0.7, 0.3, 0.1]
    fill(store, tmp_path, {f"{i}.jpg": {"red": s, "green": 0.75} for i, s in enumerate(scores)}, meta=tiny_metadata())
    store.set_decision(p(tmp_path, "0.jpg"), "red", "manual", score=5.0)  # a manual score is not a model score
    std = math.sqrt(sum(s * s for s in scores[1:]) / 3 - (sum(scores[1:]) / 3) ** 2)
    expected = [sigmoid(2 * (s - 0.5) / std) for s in [5.0, *scores[1:]]]
    assert sorted(store.label_probabilities("red")) == pytest.approx(sorted(expected))
    assert store.label_probabilities("green") == pytest.approx([sigmoid(0.5)] * 4)  # no spread: taken as 1


@pytest.mark.parametrize(("prior", "shown"), [(0.0, ["0.jpg"]), (0.25, ["0.jpg"]), (0.5, ["0.jpg", "1.jpg"]),
                                              (1.0, ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]),
                                              (1.5, ["0.jpg", "1.jpg", "2.jpg", "3.jpg"])])  # hand-edited: all
def test_prior_matching_tags_the_caption_share_of_photos(store: TagStore, tmp_path: Path, prior: float,
                                                         shown: list[str]) -> None:
    cal = Calibration(priors=(prior, 0.5, 0.5))
    meta = dataclasses.replace(tiny_metadata(checksum="text-only"), calibration=cal)
    fill(store, tmp_path, {f"{i}.jpg": {"red": s} for i, s in enumerate([0.9, 0.7, 0.3, 0.1])}, meta=meta)
    assert [os.path.basename(x) for x in store.matching_paths(TagFilter(labels=["red"]))] == shown


# --- learning from decisions -------------------------------------------------------------------------------
def test_decisions_since_training(browse: TagStore, tmp_path: Path) -> None:
    a, b = p(tmp_path, "a.jpg"), p(tmp_path, "b.jpg")
    assert browse.decisions_since_training() == 0
    browse.set_decision(a, "red", "confirmed")
    browse.set_decision(b, "red", "rejected")
    assert browse.decisions_since_training() == 2  # never trained: every decision is new
    browse.mark_decisions_trained(browse.human_decisions())
    assert browse.decisions_since_training() == 0
    browse.set_decision(b, "red", "confirmed")  # changed: one old decision gone, one new
    browse.set_decision(a, "sunset", "manual")
    assert browse.decisions_since_training() == 3
    browse.restore_tag(a, "sunset", None)
    browse.set_decision(b, "red", "rejected")
    assert browse.decisions_since_training() == 0
    assert browse.human_decisions() == [(a, "red", "confirmed"), (b, "red", "rejected")]


def test_undecided_scores_rows_and_columns(browse: TagStore, tmp_path: Path) -> None:
    browse.set_decision(p(tmp_path, "b.jpg"), "green", "confirmed")
    paths, scores = browse.undecided_scores(["blue", "red", "sky"])
    assert [os.path.basename(x) for x in paths] == ["a.jpg", "c.jpg", "d.jpg"]
    assert scores == [[-3.0, 2.0, None], [0.2, -2.0, None], [-1.0, -1.0, None]]


def test_tagged_folders_in_first_run_order(store: TagStore, tmp_path: Path) -> None:
    model = store.register_model(calibrated())
    store.start_run(model, ["/photos/b", "/photos/a"])
    store.start_run(model, [Path("/photos/c"), "/photos/b"])
    assert store.tagged_folders() == ["/photos/b", "/photos/a", "/photos/c"]


def test_database_file_and_integrity(store: TagStore, tmp_path: Path) -> None:
    assert store.file == str(tmp_path / "t.db")
    assert store.integrity_ok() is True
    assert TagStore(sqlite_utils_memory()).file == "the tag database"


def sqlite_utils_memory():  # type: ignore[no-untyped-def]
    import sqlite_utils

    return sqlite_utils.Database(memory=True)


def test_model_metadata_latest_or_by_id_and_default_policy(store: TagStore, tmp_path: Path) -> None:
    assert store.model_metadata() is None and store.label_rules() == {}
    first = store.register_model(calibrated(checksum="first"))
    second = store.register_model(calibrated(checksum="second"))
    assert store.model_metadata().model_checksum == "second"  # type: ignore[union-attr]
    assert store.model_metadata(first).model_checksum == "first"  # type: ignore[union-attr]
    assert store.model_metadata(second + 1) is None
    policy = store.threshold_policy()
    assert (policy.operating_point, policy.target_precision, policy.global_offset, policy.overrides) == \
        ("max_f1", 0.9, 0.0, {})
    assert {k: (r.threshold, r.overridden) for k, r in store.label_rules().items()} == \
        {"red": (0.5, False), "green": (0.5, False), "blue": (0.5, False)}


def test_path_keys_keep_distinct_names_apart(store: TagStore, tmp_path: Path) -> None:
    byte_name = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.jpg")
    text_name = str(tmp_path) + "/caf\\xe9.jpg"  # a literal backslash, x, e, 9
    assert path_key(str(tmp_path / "plain.jpg")) == (str(tmp_path / "plain.jpg"), None)
    assert path_key(text_name) == (str(tmp_path) + "/caf\\\\xe9.jpg", os.fsencode(text_name))
    assert path_key(byte_name) == (str(tmp_path) + "/caf\\xe9.jpg", os.fsencode(byte_name))
    fill(store, tmp_path, {})
    store.write_batch([ImageResult(byte_name, 1, 1, tags={"red": 2.0}), ImageResult(text_name, 1, 1, tags={})],
                      run_id=1, model_id=1)
    assert store.counts()["done"] == 2
    assert set(store.matching_paths(TagFilter())) == {byte_name, text_name}
    assert store.labels_in_force(byte_name) == {"red"} and store.labels_in_force(text_name) == set()


def test_tampered_stored_model_names_the_stored_model(store: TagStore, tmp_path: Path) -> None:
    fill(store, tmp_path, {"a.jpg": {"red": 1.0}})
    store.db.execute("UPDATE tag_models SET metadata_json = '{}'")
    with pytest.raises(ArtifactError) as err:
        store.label_counts()
    assert str(err.value).startswith("stored model is not a T2I-PAL tagger export: metadata lacks ")
