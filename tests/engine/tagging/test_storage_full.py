"""Tagging into a full disk or a folder the user may not write: a StorageError naming the database, whole batches
only, the CLI says so without a traceback, and the next run tags exactly the rest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import db as engine_db
from engine.cli.main import main
from engine.errors import StorageError
from engine.tagging import run_lock
from engine.tagging.runner import TagConfig, tag_folders
from engine.tagging.store import TagStore

from .conftest import make_folder

N_PHOTOS = 40
BATCH = 4


def _disk_fills_after_the_first_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first batch is written the database may not grow by one more page: SQLite then reports
    SQLITE_FULL, the error a full disk gives. The rest of the photos need several more pages."""
    real_write = TagStore.write_batch

    def write_then_fill(self, results, **kwargs):  # type: ignore[no-untyped-def]
        real_write(self, results, **kwargs)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(TagStore, "write_batch", write_then_fill)


def test_disk_full_while_tagging_keeps_whole_batches_and_the_next_run_tags_the_rest(
        tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = make_folder(tmp_path / "photos", N_PHOTOS)
    db = tmp_path / "tags.db"
    _disk_fills_after_the_first_batch(monkeypatch)
    with pytest.raises(StorageError, match="disk is full") as info:
        tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=BATCH))
    assert str(db) in str(info.value)  # the user is told which database (so which disk) is full
    monkeypatch.undo()

    with TagStore.open(db) as store:
        counts = store.counts()
        run = store.runs()[-1]
        assert store.integrity_ok()
        assert run["status"] == "failed"
        written = counts["done"]
        assert 0 < written < N_PHOTOS and written % BATCH == 0  # whole batches, never half of one
        assert run["tagged"] == written and counts["error"] == 0
        done_before = {p for p in files if store.image(p) is not None}
        assert len(done_before) == written
        assert all(store.labels_in_force(p) == {files[p]} for p in done_before)

    again = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=BATCH))
    assert (again.tagged, again.skipped, again.errors) == (N_PHOTOS - written, written, 0)
    with TagStore.open(db) as store:
        assert store.counts()["done"] == N_PHOTOS
        assert {p: store.labels_in_force(p) for p in files} == {p: {c} for p, c in files.items()}


def test_cli_tag_on_a_full_disk_says_which_database_and_exits_1(tmp_path: Path, tiny_model: Path, monkeypatch,
                                                                 capsys) -> None:
    make_folder(tmp_path / "photos", N_PHOTOS)
    db = tmp_path / "tags.db"
    _disk_fills_after_the_first_batch(monkeypatch)
    code = main(["tag", str(tmp_path / "photos"), "--model", str(tiny_model), "--db", str(db), "--no-progress",
                 "--batch-size", str(BATCH)])
    err = capsys.readouterr().err
    assert code == 1
    assert "disk is full" in err and str(db) in err and "Traceback" not in err


def test_a_database_in_a_read_only_folder_is_refused_by_name_and_left_untouched(
        tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The tests run as root, which ignores permissions: the app's own check of the folder is made to say no."""
    make_folder(tmp_path / "photos", 6)
    db = tmp_path / "tags.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    make_folder(tmp_path / "more", 3)
    before = db.read_bytes()
    real_access = os.access
    monkeypatch.setattr(engine_db.os, "access",
                        lambda path, mode: False if mode & os.W_OK else real_access(path, mode))
    with pytest.raises(StorageError, match="read-only") as info:
        tag_folders([tmp_path / "more"], tiny_model, db)
    assert str(db) in str(info.value)
    code = main(["tag", str(tmp_path / "more"), "--model", str(tiny_model), "--db", str(db), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and str(db) in err and "Traceback" not in err
    monkeypatch.undo()
    assert db.read_bytes() == before
    with TagStore.open(db) as store:
        assert store.counts()["done"] == 6 and len(store.runs()) == 1


def test_a_lock_file_that_cannot_be_created_is_a_storage_error_naming_the_folder(
        tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    make_folder(tmp_path / "photos", 3)
    db = tmp_path / "dbs" / "tags.db"

    def denied(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", f"{db}.tag-lock")

    monkeypatch.setattr(run_lock.FileLock, "acquire", denied)
    code = main(["tag", str(tmp_path / "photos"), "--model", str(tiny_model), "--db", str(db), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and str(db.parent) in err and "permission denied" in err.lower() and "Traceback" not in err
    assert not db.exists()
