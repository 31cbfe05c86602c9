"""Exports to a read-only folder or a full disk: a StorageError naming the folder, no file half-written."""

from __future__ import annotations

import csv
import errno
import io
import os
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.errors import StorageError
from engine.tagging import export_tags
from engine.tagging.export_tags import export_csv, export_json
from engine.tagging.runner import tag_folders

from .conftest import make_folder


@pytest.fixture
def tagged_db(tmp_path: Path, tiny_model: Path) -> tuple[Path, dict[str, str]]:
    files = make_folder(tmp_path / "photos", 6)
    tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db")
    return tmp_path / "t.db", files


class _FullDisk(io.StringIO):
    """A text file whose writes fail with ENOSPC once a few bytes went through (a disk filling up mid-export)."""

    def __init__(self, real) -> None:
        super().__init__()
        self.real = real

    def write(self, text: str) -> int:
        if self.tell() > 40:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(text)

    def close(self) -> None:
        self.real.close()
        super().close()


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="POSIX permissions (root ignores them)")
@pytest.mark.parametrize("export", [export_csv, export_json])
def test_read_only_folder_gives_a_storage_error_naming_it(tagged_db, tmp_path: Path, export) -> None:
    db, _ = tagged_db
    out_dir = tmp_path / "locked"
    out_dir.mkdir()
    out_dir.chmod(0o555)
    try:
        with pytest.raises(StorageError, match=str(out_dir)):
            export(db, out_dir / "tags.out")
        assert list(out_dir.iterdir()) == []
    finally:
        out_dir.chmod(0o755)


@pytest.mark.parametrize("export", [export_csv, export_json])
def test_permission_denied_gives_a_storage_error_naming_the_folder(tagged_db, tmp_path: Path, monkeypatch,
                                                                   export) -> None:
    """The same as a read-only folder where the tests run as root (which ignores permissions)."""
    db, _ = tagged_db

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export_tags.tempfile, "mkstemp", denied)
    with pytest.raises(StorageError, match="permission denied") as info:
        export(db, tmp_path / "out" / "tags.out")
    assert str(tmp_path / "out") in str(info.value)
    assert not (tmp_path / "out" / "tags.out").exists()


@pytest.mark.parametrize("export", [export_csv, export_json])
def test_full_disk_keeps_the_previous_export_and_leaves_no_temp_file(tagged_db, tmp_path: Path, monkeypatch,
                                                                     export) -> None:
    db, _ = tagged_db
    out = tmp_path / "out" / "tags.out"
    out.parent.mkdir()
    out.write_text("the previous export\n")
    real_fdopen = os.fdopen
    monkeypatch.setattr(export_tags.os, "fdopen", lambda fd, *a, **k: _FullDisk(real_fdopen(fd, *a, **k)))
    with pytest.raises(StorageError, match=str(out.parent)) as info:
        export(db, out)
    assert "space" in str(info.value)
    assert out.read_text() == "the previous export\n"
    assert [p.name for p in out.parent.iterdir()] == ["tags.out"]


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="POSIX permissions (root ignores them)")
def test_cli_export_to_a_read_only_folder_says_so(tagged_db, tmp_path: Path, capsys) -> None:
    db, files = tagged_db
    out_dir = tmp_path / "locked"
    out_dir.mkdir()
    out_dir.chmod(0o555)
    try:
        code = main(["tags", "export", str(db), "--format", "csv", "-o", str(out_dir / "tags.csv")])
    finally:
        out_dir.chmod(0o755)
    assert code != 0
    err = capsys.readouterr().err
    assert str(out_dir) in err and "Traceback" not in err
    # and the same command to a writable folder writes exactly the tags in force
    assert main(["tags", "export", str(db), "--format", "csv", "-o", str(tmp_path / "tags.csv")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "tags.csv", encoding="utf-8")))
    assert {(r["path"], r["label"]) for r in rows} == set(files.items())
