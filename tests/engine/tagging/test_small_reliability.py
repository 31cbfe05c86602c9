"""Smaller reliability fixes: failed files listed, distinct odd names, read-only and future databases, sidecars."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine import api
from engine.cli.main import main
from engine.errors import StorageError
from engine.tagging import export_tags
from engine.tagging.runner import tag_folders
from engine.tagging.store import TagStore, path_key

from .conftest import make_folder, write_photo

REPO = Path(__file__).resolve().parents[3]


def _with_bad_files(root: Path, bad: int) -> None:
    make_folder(root, 2)
    for i in range(bad):
        (root / f"broken_{i:02d}.jpg").write_bytes(b"not a jpeg")


def test_tag_lists_failed_files_and_query_errors_lists_them_all(tmp_path: Path, tiny_model: Path, capsys) -> None:
    _with_bad_files(tmp_path / "photos", 23)
    db = tmp_path / "t.db"
    assert main(["tag", str(tmp_path / "photos"), "--model", str(tiny_model), "--db", str(db), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "broken_00.jpg" in err and "broken_19.jpg" in err and "broken_20.jpg" not in err
    assert "and 3 more" in err and f"t2ipal query {db} --errors" in err
    failed = api.failed_images(db=db)
    assert [Path(f.path).name for f in failed] == [f"broken_{i:02d}.jpg" for i in range(23)]
    assert all(f.error for f in failed)
    assert main(["query", str(db), "--errors"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 23 and lines[0].startswith(str(tmp_path / "photos" / "broken_00.jpg") + "\t")


def test_literal_backslash_and_undecodable_byte_get_their_own_rows(tmp_path: Path, tiny_model: Path) -> None:
    folder = tmp_path / "photos"
    literal = write_photo(folder / "caf\\xe9.png", "red")
    raw = os.fsdecode(os.fsencode(str(folder)) + b"/caf\xe9.png")
    write_photo(Path(raw), "blue")
    assert path_key(str(literal))[0] != path_key(raw)[0]
    result = tag_folders([folder], tiny_model, tmp_path / "t.db")
    assert result.tagged == 2
    with TagStore.open(tmp_path / "t.db") as store:
        assert store.counts()["done"] == 2
        assert store.labels_in_force(str(literal)) == {"red"} and store.labels_in_force(raw) == {"blue"}
        assert sorted(os.fsencode(p) for p in store.matching_paths(_everything())) == sorted(
            [os.fsencode(str(literal)), os.fsencode(raw)])


def _everything():
    from engine.tagging.filters import TagFilter

    return TagFilter()  # no labels: every photo


def test_future_database_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE schema_versions (area TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    con.execute("INSERT INTO schema_versions VALUES ('tags', 99)")
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(StorageError, match="newer than this app"):
        TagStore.open(db)
    assert db.read_bytes() == before  # not switched to WAL, nothing migrated
    assert not Path(f"{db}-wal").exists()


def test_query_reads_a_read_only_database(tmp_path: Path, tiny_model: Path, capsys) -> None:
    import shutil
    import tempfile

    make_folder(tmp_path / "photos", 3)
    shared = Path(tempfile.mkdtemp(prefix="t2ipal-ro-"))  # outside pytest's private (0700) folders
    os.chmod(shared, 0o755)
    db = shared / "t.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    code = "import sys; from engine.cli.main import main; sys.exit(main(['query', sys.argv[1], '--label', 'red']))"
    os.chmod(db, 0o444)
    os.chmod(db.parent, 0o555)
    try:  # as another user when we are root (root can write anything)
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        out = subprocess.run([*prefix, sys.executable, "-c", code, str(db)], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120, cwd="/")
    finally:
        os.chmod(db.parent, 0o755)
        shutil.rmtree(shared)
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(out.stdout.splitlines()) == 1 and "red" in out.stdout


def test_query_escapes_a_newline_in_a_file_name(tmp_path: Path, tiny_model: Path, capsys) -> None:
    write_photo(tmp_path / "photos" / "two\nlines_red.png", "red")
    db = tmp_path / "t.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    assert main(["query", str(db), "--label", "red"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "two\\nlines_red.png" in out


def test_new_sidecar_gets_the_usual_mode_and_no_temp_files_stay(tmp_path: Path, tiny_model: Path) -> None:
    files = make_folder(tmp_path / "photos", 3)
    db = tmp_path / "t.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    folder = Path(next(iter(files))).parent
    stale = folder / f".t2ipal-{_dead_pid()}-abc.tmp"  # left by an export killed mid-write
    stale.write_bytes(b"partial")
    old = os.umask(0o022)
    try:
        export_tags.write_xmp_sidecars(db)
    finally:
        os.umask(old)
    sidecar = Path(next(iter(files)) + ".xmp")
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o644
    assert not stale.exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".t2ipal-")]


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def _array_types(sidecar: Path) -> dict[str, str]:
    from engine.tagging.export_tags import xmp_array_types

    return xmp_array_types(sidecar.read_bytes())


def test_xmp_keywords_are_written_as_bags(tmp_path: Path, tiny_model: Path) -> None:
    files = make_folder(tmp_path / "photos", 3)
    db = tmp_path / "t.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    first = next(iter(files))
    existing = Path(first + ".xmp")  # an older sidecar of ours, with Seq arrays, gets converted on merge
    existing.write_bytes(export_tags._EMPTY_XMP.replace(
        b'<rdf:Description rdf:about=""/>',
        b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Seq>'
        b"<rdf:li>holiday</rdf:li></rdf:Seq></dc:subject></rdf:Description>"))
    export_tags.write_xmp_sidecars(db)
    for path in files:
        sidecar = Path(path + ".xmp")
        assert _array_types(sidecar) == {"Xmp.dc.subject": "XmpBag", "Xmp.lr.hierarchicalSubject": "XmpBag"}
        assert b"rdf:Seq" not in sidecar.read_bytes()
        subject, hier = export_tags.read_keywords(sidecar.read_bytes())
        assert files[path] in subject and f"colour|{files[path]}" in hier
    assert export_tags.read_keywords(existing.read_bytes())[0] == ["holiday", files[first]]


def test_exiftool_reads_the_bags(tmp_path: Path, tiny_model: Path) -> None:
    import json
    import shutil

    exiftool = shutil.which("exiftool")
    if exiftool is None:
        pytest.skip("exiftool is not installed")
    files = make_folder(tmp_path / "photos", 1)
    db = tmp_path / "t.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    export_tags.write_xmp_sidecars(db)
    sidecar = next(iter(files)) + ".xmp"
    out = subprocess.run([exiftool, "-j", "-struct", "-XMP-dc:Subject", "-XMP-lr:HierarchicalSubject", sidecar],
                         capture_output=True, text=True, check=True)
    (info,) = json.loads(out.stdout)
    colour = next(iter(files.values()))
    assert info["Subject"] in (colour, [colour]) and info["HierarchicalSubject"] in (f"colour|{colour}",
                                                                                   [f"colour|{colour}"])
    assert "<rdf:Bag>" in Path(sidecar).read_text()
