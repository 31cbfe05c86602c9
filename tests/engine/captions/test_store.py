"""CaptionStore: idempotent imports, rollback on bad input or cancel, stats, relabelling, generated captions."""

from __future__ import annotations

import pytest

from engine.captions.generate import GeneratedCaption
from engine.captions.store import CaptionStore
from engine.db import open_db
from engine.errors import Cancelled, InputError
from engine.hashing import caption_hash
from engine.labels.labelset import LabelSet
from engine.progress import CancelToken

from .conftest import write_coco


@pytest.fixture
def store(tmp_path):
    return CaptionStore(open_db(tmp_path / "project.db"))


def test_import_twice_adds_nothing(store, pets, coco_file):
    r = store.import_file(coco_file, "auto", pets, min_count=2)
    assert (r.read, r.added, r.duplicates, r.unlabelled) == (6, 4, 1, 1)
    assert r.format == "coco" and r.source == coco_file.name
    assert set(r.thin_labels) == {"cat", "bicycle", "person", "frisbee"}  # person: 1 caption (the duplicate)
    again = store.import_file(coco_file, "auto", pets)
    assert (again.added, again.duplicates) == (0, 5)
    assert store.count() == store.count("pets") == 4
    caps = list(store.iter_captions("pets"))
    assert caps[1].labels == ["dog", "frisbee"] and caps[1].source == coco_file.name
    assert caps[0].hash == caption_hash("a DOG runs on the   beach.")
    assert store.get_labelset("pets") == pets and store.list_labelsets() == ["pets"]


def test_max_per_image(store, pets, coco_file):
    r = store.import_file(coco_file, "coco", pets, max_per_image=1)
    assert r.skipped == 2 and r.added == 3


def test_failed_import_rolls_back(store, pets, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a dog\n" * 3 + "a cat,unicorn\n")
    with pytest.raises(InputError, match=r"bad\.csv: line 4: label 'unicorn' is not in label set 'pets'"):
        store.import_file(bad, "auto", pets)
    assert store.count() == 0 and store.list_labelsets() == []
    truncated = write_coco(tmp_path / "t.json", extra="")
    truncated.write_text(truncated.read_text()[:-40])
    with pytest.raises(InputError, match="malformed JSON"):
        store.import_file(truncated, "coco", pets)
    assert store.count() == 0


def test_cancel_rolls_back(store, pets, tmp_path, monkeypatch):
    import engine.captions.store as mod

    monkeypatch.setattr(mod, "_BATCH", 2)
    path = tmp_path / "c.txt"
    path.write_text("".join(f"dog number {i}\n" for i in range(10)))
    token = CancelToken()
    events = []

    def progress(ev):
        events.append(ev)
        token.set()

    with pytest.raises(Cancelled):
        store.import_file(path, "text", pets, progress=progress, cancel=token)
    assert store.count() == 0 and events
    assert store.import_file(path, "text", pets).added == 10


def test_csv_labels_and_stats(store, pets, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("caption,labels\nsomething odd,Kitten;dog\na man and a dog\na bike\n")
    store.import_file(path, "csv", pets, source="mine")
    caps = {c.text: c.labels for c in store.iter_captions("pets", source="mine")}
    assert caps == {"something odd": ["dog", "cat"], "a man and a dog": ["dog", "person"], "a bike": ["bicycle"]}
    st = store.stats(pets, min_count=2)
    assert st.total == 3 and st.per_label == {"dog": 2, "cat": 1, "bicycle": 1, "person": 1, "frisbee": 0}
    assert st.cooccurrence[0, 1] == 1 and st.cooccurrence[0, 3] == 1 and st.cooccurrence[1, 2] == 0
    assert st.thin_labels == ["cat", "bicycle", "person", "frisbee"]
    assert st.per_source == {"mine": 3}
    assert st.top_pairs(1)[0][2] == 1
    texts, y = store.corpus("pets")
    assert y.shape == (3, 5) and y.sum() == 5 and texts[0] == "something odd"


def test_changed_labelset_relabels(store, pets, coco_file):
    store.import_file(coco_file, "coco", pets)
    bigger = LabelSet.from_dict({**pets.to_dict(), "labels": pets.to_dict()["labels"] + [{"name": "beach"}]})
    store.add_labelset(bigger)
    first = next(store.iter_captions("pets"))
    assert first.labels == ["dog", "beach"]
    assert store.get_labelset("pets") == bigger


def test_add_generated_captions(store, pets):
    caps = [GeneratedCaption("a kitten and a puppy", ["cat", "dog"]), "plain text with a bike", "no label here"]
    assert store.add_captions(pets, caps, source="generated:test") == 2
    assert store.add_captions(pets, caps, source="generated:test") == 0
    got = {c.text: c.labels for c in store.iter_captions("pets")}
    assert got == {"a kitten and a puppy": ["dog", "cat"], "plain text with a bike": ["bicycle"]}


def test_labelset_lookup_errors(store):
    with pytest.raises(InputError, match="no label set 'x'"):
        store.get_labelset("x")
