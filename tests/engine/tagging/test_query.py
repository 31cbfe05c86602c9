"""`query_tags` (the `t2ipal query` command): the tags in force, by label and source, best first, and its errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.tagging.query import query_tags
from engine.tagging.store import TagStore

from .test_store_semantics import fill, sigmoid


@pytest.fixture
def db(tmp_path: Path) -> Path:
    with TagStore.open(tmp_path / "t.db") as store:
        fill(store, tmp_path, {
            "a.jpg": {"red": 2.0, "green": 1.0},
            "b.jpg": {"red": 1.0, "green": -1.0},
            "c.jpg": {"red": 3.0, "green": 0.5},
        })  # no photo has a "blue" score at all
        store.set_decision(str(tmp_path / "b.jpg"), "red", "rejected")
        store.set_decision(str(tmp_path / "a.jpg"), "sunset", "manual")
        store.set_decision(str(tmp_path / "b.jpg"), "sky", "manual", score=0.7)  # a hand-made label with a score
        store.set_decision(str(tmp_path / "b.jpg"), "green", "confirmed")
    return tmp_path / "t.db"


def hits(db: Path, **kw: object) -> list[tuple[str, str, str, float | None]]:
    return [(os.path.basename(h.path), h.label, h.source, h.probability) for h in query_tags(db, **kw)]  # type: ignore[arg-type]


def test_every_tag_in_force_best_first_hand_made_first(db: Path) -> None:
    assert hits(db) == [
        ("a.jpg", "sunset", "manual", None),
        ("b.jpg", "sky", "manual", None),
        ("c.jpg", "red", "auto", pytest.approx(sigmoid(3.0))),
        ("a.jpg", "red", "auto", pytest.approx(sigmoid(2.0))),
        ("a.jpg", "green", "auto", pytest.approx(sigmoid(1.0))),
        ("c.jpg", "green", "auto", pytest.approx(sigmoid(0.5))),
        ("b.jpg", "green", "confirmed", pytest.approx(sigmoid(-1.0))),
    ]
    assert [h[:2] for h in hits(db, limit=3)] == [("a.jpg", "sunset"), ("b.jpg", "sky"), ("c.jpg", "red")]
    assert hits(db, limit=0) == []


def test_sources_select_and_rejected_come_last(db: Path) -> None:
    assert hits(db, label="red", sources=("auto", "rejected")) == [
        ("c.jpg", "red", "auto", pytest.approx(sigmoid(3.0))),
        ("a.jpg", "red", "auto", pytest.approx(sigmoid(2.0))),
        ("b.jpg", "red", "rejected", pytest.approx(sigmoid(1.0))),  # listed when asked, after the ones in force
    ]
    with TagStore.open(db) as store:  # a rejected tag with the best probability still comes after those in force
        store.set_decision(str(db.parent / "c.jpg"), "red", "rejected")
    assert hits(db, label="red", sources=("auto", "rejected")) == [
        ("a.jpg", "red", "auto", pytest.approx(sigmoid(2.0))),
        ("c.jpg", "red", "rejected", pytest.approx(sigmoid(3.0))),
        ("b.jpg", "red", "rejected", pytest.approx(sigmoid(1.0))),
    ]
    assert hits(db, sources=("confirmed",)) == [("b.jpg", "green", "confirmed", pytest.approx(sigmoid(-1.0)))]
    assert [h[:3] for h in hits(db, sources=("manual", "rejected"))] == [
        ("a.jpg", "sunset", "manual"), ("b.jpg", "sky", "manual"), ("c.jpg", "red", "rejected"),
        ("b.jpg", "red", "rejected")]


def test_labels_known_hand_made_and_unknown(db: Path) -> None:
    assert hits(db, label="blue") == []  # in the label set, no photo has it: no error
    assert hits(db, label="sky") == [("b.jpg", "sky", "manual", None)]
    with pytest.raises(InputError) as err:
        query_tags(db, label="purple")
    assert str(err.value) == "label 'purple' is not in this database; known labels: blue, green, red"


def test_many_labels_message_lists_the_first_20(tmp_path: Path) -> None:
    labels = tuple(f"l{i:02d}" for i in range(25))
    with TagStore.open(tmp_path / "t.db") as store:
        from .conftest import tiny_metadata

        store.register_model(tiny_metadata(labels=labels))
    with pytest.raises(InputError) as err:
        query_tags(tmp_path / "t.db", label="nope")
    assert str(err.value) == f"label 'nope' is not in this database; known labels: {', '.join(labels[:20])}"


def test_a_database_without_a_model_has_no_label_check(tmp_path: Path) -> None:
    TagStore.open(tmp_path / "empty.db").close()
    assert query_tags(tmp_path / "empty.db", label="anything") == []
    assert query_tags(tmp_path / "empty.db") == []


def test_errors_name_the_source_and_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        query_tags(tmp_path / "t.db", sources=("auto", "guessed", "maybe"))
    assert str(err.value) == "unknown tag source 'guessed'; use auto, confirmed, rejected, manual"
    with pytest.raises(InputError) as err:
        query_tags(tmp_path / "nowhere.db")
    assert str(err.value) == f"database {tmp_path / 'nowhere.db'} does not exist; run `t2ipal tag` first"


def test_non_utf8_file_names_come_back_exactly(tmp_path: Path) -> None:
    odd = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.jpg")
    with TagStore.open(tmp_path / "t.db") as store:
        fill(store, tmp_path, {"plain.jpg": {"red": 1.0}})
        from engine.tagging.store import ImageResult

        store.write_batch([ImageResult(odd, 1, 1, tags={"red": 2.0})], run_id=1, model_id=1)
    assert [h.path for h in query_tags(tmp_path / "t.db", label="red")] == [odd, str(tmp_path / "plain.jpg")]
