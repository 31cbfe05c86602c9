"""tag_folders: tags by colour, incremental runs, human decisions kept, label-set guard, cancel + resume."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from engine.errors import ArtifactError, Cancelled, InputError
from engine.progress import CancelToken, ProgressEvent
from engine.tagging.runner import TagConfig, tag_folders
from engine.tagging.store import TagStore

from .conftest import make_folder, make_tiny_onnx, tiny_metadata, write_photo


def test_tags_progress_and_incremental(tmp_path: Path, tiny_model: Path) -> None:
    files = make_folder(tmp_path / "photos", 12)
    db = tmp_path / "t.db"
    events: list[ProgressEvent] = []
    first = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=5), progress=events.append)
    assert (first.tagged, first.errors, first.skipped, first.candidates) == (12, 0, 0, 12)
    assert events[-1].done == 12 and events[-1].total == 12 and events[-1].rate
    with TagStore.open(db) as store:
        for path, colour in files.items():
            assert store.labels_in_force(path) == {colour}
            row = store.image(path)
            assert row["width"] == 48 and row["height"] == 40 and row["checksum"]
        red = next(p for p, c in files.items() if c == "red")
        blue = next(p for p, c in files.items() if c == "blue")
        store.set_decision(red, "red", "rejected")
        store.set_decision(red, "sunset", "manual")
        store.set_decision(blue, "blue", "confirmed")

    # change one file (now green), delete one, add one; human decisions on `red` must survive
    write_photo(Path(red), "green")
    os.utime(red, ns=(time.time_ns(), time.time_ns() + 10**9))
    gone = next(p for p, c in files.items() if c == "green")
    os.unlink(gone)
    new = write_photo(tmp_path / "photos" / "new_blue.png", "blue")
    second = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=5))
    assert (second.tagged, second.skipped, second.missing) == (2, 10, 1)
    with TagStore.open(db) as store:
        tags = store.tags_of(red)
        assert tags["red"][1] == "rejected" and tags["sunset"][1] == "manual" and tags["green"][1] == "auto"
        assert store.tags_of(blue)["blue"][1] == "confirmed"
        assert store.image(gone)["status"] == "missing"
        assert store.labels_in_force(str(new)) == {"blue"}
        assert store.counts() == {"done": 12, "error": 0, "missing": 1}

    # a new model (same labels) re-tags everything; human decisions still kept
    other = make_tiny_onnx(tmp_path / "v2.onnx", tiny_metadata(checksum="tiny-v2"))
    third = tag_folders([tmp_path / "photos"], other, db)
    assert third.tagged == 12 and third.skipped == 0
    with TagStore.open(db) as store:
        assert store.tags_of(red)["red"][1] == "rejected"
        assert store.integrity_ok()


def test_model_with_other_labels_is_refused(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 3)
    db = tmp_path / "t.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    other = make_tiny_onnx(tmp_path / "other.onnx", tiny_metadata(labels=("red", "green", "cat"), checksum="x"))
    with pytest.raises(InputError, match="does not match this database's label set.*cat.*blue"):
        tag_folders([tmp_path / "photos"], other, db)


def test_model_without_metadata_is_refused(tmp_path: Path, tiny_model: Path) -> None:
    import onnx

    model = onnx.load(str(tiny_model))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "bare.onnx"))
    make_folder(tmp_path / "photos", 1)
    with pytest.raises(ArtifactError, match="not a T2I-PAL tagger export"):
        tag_folders([tmp_path / "photos"], tmp_path / "bare.onnx", tmp_path / "t.db", TagConfig(trust_unverified=True))


def test_cancel_then_resume_tags_each_image_once(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 20)
    db = tmp_path / "t.db"
    cancel = CancelToken()

    def on_progress(event: ProgressEvent) -> None:
        if event.done >= 4:
            cancel.set()

    with pytest.raises(Cancelled):
        tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=4), progress=on_progress, cancel=cancel)
    with TagStore.open(db) as store:
        done = store.counts()["done"]
        assert 4 <= done < 20
        assert store.runs()[-1]["status"] == "cancelled"
    rest = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=4))
    assert rest.tagged == 20 - done and rest.skipped == done
    with TagStore.open(db) as store:
        assert sum(r["tagged"] for r in store.runs()) == 20


def test_bad_config_and_missing_folder(tmp_path: Path, tiny_model: Path) -> None:
    from engine.errors import ConfigError

    with pytest.raises(ConfigError, match="batch_size"):
        TagConfig(batch_size=0)
    with pytest.raises(InputError, match="does not exist"):
        tag_folders([tmp_path / "nope"], tiny_model, tmp_path / "t.db")


def test_resumed_run_still_counts_files_that_failed_before(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 6)
    (tmp_path / "photos" / "broken.jpg").write_bytes(b"not a jpeg at all")
    db = tmp_path / "t.db"
    first = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=4))
    assert (first.tagged, first.errors, first.unreadable) == (6, 1, 1)
    again = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=4))
    # nothing read again, but the broken file is still unreadable: the summary says 1, not 0
    assert (again.tagged, again.errors, again.skipped, again.still_unreadable, again.unreadable) == (0, 0, 7, 1, 1)
    retried = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=4, retry_errors=True))
    assert (retried.errors, retried.still_unreadable, retried.unreadable) == (1, 0, 1)
