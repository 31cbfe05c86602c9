"""The exact CSV, JSON and XMP a person gets from the tags in force, and what a failed export leaves behind."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import Cancelled, ConfigError, InputError, StorageError
from engine.progress import CancelToken, ProgressEvent
from engine.tagging import export_tags
from engine.tagging.export_tags import export_csv, export_json, read_keywords, write_xmp_sidecars
from engine.tagging.store import ImageResult, TagStore

from .conftest import tiny_metadata

# Scores are raw; with no calibration each label's probability is sigmoid(a (s - 0.5)), its scale a fitted on the
# stored scores (red 6.16, green 7.09), threshold 0.5: an automatic tag is in force from s = 0.5.
LABELS = ("red", "green", "blue", "colour")


def _seed(db: Path, folder: Path) -> dict[str, str]:
    """Four photos and one unreadable file, with human decisions; returns name -> absolute path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {n: str(folder / n) for n in ("a.jpg", "b.jpg", "c.jpg", "d.jpg", "broken.jpg")}
    paths["raw"] = os.fsdecode(os.fsencode(str(folder)) + b"/caf\xe9.jpg")  # not UTF-8
    low = {"red": 0.1, "green": 0.2, "blue": 0.3, "colour": 0.0}
    with TagStore.open(db) as store:
        model = store.register_model(tiny_metadata(labels=LABELS), folder / "m.onnx")
        run = store.start_run(model, [str(folder)])
        store.write_batch([
            ImageResult(paths["a.jpg"], 1, 1, tags={**low, "red": 0.912345678, "blue": 0.51}),
            ImageResult(paths["b.jpg"], 1, 1, tags={**low, "green": 0.75}),
            ImageResult(paths["c.jpg"], 1, 1, tags=low),
            ImageResult(paths["d.jpg"], 1, 1, tags=low),  # nothing in force: in no export
            ImageResult(paths["raw"], 1, 1, tags={**low, "green": 0.8}),
            ImageResult(paths["broken.jpg"], 1, 1, error="cannot identify image file"),
        ], run_id=run, model_id=model)
        store.set_decision(paths["a.jpg"], "blue", "rejected")
        store.set_decision(paths["a.jpg"], "beach", "manual", score=0.7)  # a score, but no rule for the label
        store.set_decision(paths["b.jpg"], "Sunset", "manual")
        store.set_decision(paths["c.jpg"], "red", "confirmed")
        store.set_decision(paths["c.jpg"], "café", "manual")
    return paths


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    db = tmp_path / "t.db"
    return db, _seed(db, tmp_path / "photos")


def _shown(path: str) -> str:
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def test_csv_has_one_row_per_tag_in_force_with_exact_scores_and_probabilities(seeded, tmp_path: Path) -> None:
    db, p = seeded
    out = tmp_path / "tags.csv"
    assert export_csv(db, out) == 7
    text = out.read_bytes().decode("utf-8")
    raw = _shown(p["raw"])
    assert raw.endswith("/caf\\xe9.jpg")
    assert text.split("\r\n") == [
        "path,label,score,source,probability",
        f"{p['a.jpg']},beach,0.7,manual,",
        f"{p['a.jpg']},red,0.912346,auto,0.9268",
        f"{p['b.jpg']},Sunset,,manual,",
        f"{p['b.jpg']},green,0.75,auto,0.8547",
        f"{p['c.jpg']},café,,manual,",
        f"{p['c.jpg']},red,0.1,confirmed,0.0786",
        f"{raw},green,0.8,auto,0.8935",
        "",
    ]


def test_json_lists_each_image_with_its_tags(seeded, tmp_path: Path) -> None:
    db, p = seeded
    out = tmp_path / "tags.json"
    assert export_json(db, out) == 4
    text = out.read_text(encoding="utf-8")
    assert text.startswith('[\n{"path": ') and text.endswith("}\n]\n") and text.count("\n") == 6
    assert '"café"' in text  # written as UTF-8, not \u escapes
    data = json.loads(text)
    probs = {lab: [round(t["probability"], 4) if t["probability"] is not None else None
                   for t in d["tags"]] for d in data for lab in [d["path"]]}
    for d in data:
        for t in d["tags"]:
            t.pop("probability")
    assert data == [
        {"path": p["a.jpg"], "tags": [{"label": "beach", "score": 0.7, "source": "manual"},
                                      {"label": "red", "score": 0.912345678, "source": "auto"}]},
        {"path": p["b.jpg"], "tags": [{"label": "Sunset", "score": None, "source": "manual"},
                                      {"label": "green", "score": 0.75, "source": "auto"}]},
        {"path": p["c.jpg"], "tags": [{"label": "café", "score": None, "source": "manual"},
                                      {"label": "red", "score": 0.1, "source": "confirmed"}]},
        {"path": _shown(p["raw"]), "tags": [{"label": "green", "score": 0.8, "source": "auto"}]},
    ]
    assert probs == {p["a.jpg"]: [None, 0.9268], p["b.jpg"]: [None, 0.8547], p["c.jpg"]: [None, 0.0786],
                     _shown(p["raw"]): [0.8935]}


def test_exports_of_a_database_with_no_tags_in_force(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with TagStore.open(db) as store:
        store.register_model(tiny_metadata(labels=LABELS))
    assert export_csv(db, tmp_path / "t.csv") == 0
    assert (tmp_path / "t.csv").read_bytes() == b"path,label,score,source,probability\r\n"
    assert export_json(db, tmp_path / "t.json") == 0
    assert (tmp_path / "t.json").read_text() == "[\n]\n"
    assert write_xmp_sidecars(db).changes == []


def test_new_export_file_gets_the_usual_mode_and_replaces_the_old_one(seeded, tmp_path: Path) -> None:
    db, _ = seeded
    out = tmp_path / "new" / "deeper" / "tags.csv"  # folders are created
    old = os.umask(0o027)
    try:
        export_csv(db, out)
    finally:
        os.umask(old)
    assert os.umask(old) == old  # the umask is left as it was
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    out.write_text("stale")
    export_csv(db, out)
    assert out.read_text().startswith("path,label")
    assert sorted(os.listdir(out.parent)) == ["tags.csv"]


def test_an_error_while_writing_keeps_the_previous_file_and_no_temp_file(tmp_path: Path) -> None:
    out = tmp_path / "tags.csv"
    out.write_text("previous")
    with pytest.raises(KeyError, match="no such label"), export_tags._AtomicText(out) as fh:
        fh.write("half")
        raise KeyError("no such label")
    assert out.read_text() == "previous" and os.listdir(tmp_path) == ["tags.csv"]


def test_a_failed_move_into_place_is_a_storage_error_naming_the_folder(seeded, tmp_path: Path, monkeypatch) -> None:
    db, _ = seeded
    out = tmp_path / "out" / "tags.json"
    out.parent.mkdir()
    out.write_text("previous")

    def fail(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(export_tags.os, "replace", fail)
    with pytest.raises(StorageError) as info:
        export_json(db, out)
    assert str(info.value) == f"cannot write the export to {out.parent}: Invalid cross-device link"
    assert out.read_text() == "previous" and os.listdir(out.parent) == ["tags.json"]


def test_write_error_messages() -> None:
    full = export_tags._write_error("/x", OSError(errno.ENOSPC, "No space left on device"))
    assert str(full) == ("cannot write the export to /x: no space left on the disk; free some space or choose "
                         "another folder (the previous export, if any, is unchanged)")
    denied = export_tags._write_error("/x", PermissionError(errno.EACCES, "Permission denied"))
    assert str(denied) == "cannot write the export to /x: permission denied; choose a writable folder"
    assert str(export_tags._write_error("/x", OSError("odd"))) == "cannot write the export to /x: odd"
    assert all(isinstance(e, StorageError) for e in (full, denied))


def test_storage_error_when_the_temp_file_cannot_be_made(seeded, tmp_path: Path, monkeypatch) -> None:
    db, _ = seeded

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(export_tags.tempfile, "mkstemp", broken)
    with pytest.raises(StorageError, match=r"^cannot write the export to .*/out: Input/output error$"):
        export_csv(db, tmp_path / "out" / "t.csv")


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_sweep_removes_only_temp_files_of_dead_processes_once_per_folder(tmp_path: Path) -> None:
    dead = _dead_pid()
    names = [f".t2ipal-{dead}-a.tmp", f".t2ipal-{dead}-b.tmp", f".t2ipal-{os.getpid()}-mine.tmp",
             f".t2ipal-{os.getppid()}-parent.tmp", f".t2ipal-{dead}-a.tmpx", f"t2ipal-{dead}-a.tmp",
             ".t2ipal-x1-a.tmp", "photo.jpg"]
    for n in names:
        (tmp_path / n).write_text("x")
    assert export_tags.sweep_stale_temp_files(str(tmp_path)) == 2
    assert sorted(os.listdir(tmp_path)) == sorted(names[2:])
    (tmp_path / names[0]).write_text("x")
    assert export_tags.sweep_stale_temp_files(str(tmp_path) + "/") == 0  # once per folder and process
    assert (tmp_path / names[0]).exists()
    assert export_tags.sweep_stale_temp_files(str(tmp_path / "nope")) == 0


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "IMG.xmp"
    target.write_bytes(b"old")
    target.chmod(0o600)
    export_tags.atomic_write_bytes(str(target), b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["IMG.xmp"]


def test_atomic_write_failure_leaves_the_old_file_and_no_temp_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "IMG.xmp"
    target.write_bytes(b"old")

    def fail(src, dst):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(export_tags.os, "replace", fail)
    with pytest.raises(OSError, match="Input/output error"):
        export_tags.atomic_write_bytes(str(target), b"new")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["IMG.xmp"]


def test_sidecar_paths_for_each_naming(tmp_path: Path) -> None:
    img = str(tmp_path / "IMG.jpg")
    ext, stem = img + ".xmp", str(tmp_path / "IMG.xmp")
    assert export_tags.sidecar_paths(img, "ext") == [ext]
    assert export_tags.sidecar_paths(img, "stem") == [stem]
    assert export_tags.sidecar_paths(img, "both") == [ext, stem]
    assert export_tags.sidecar_paths(img, "auto") == [ext]
    Path(stem).write_text("")
    assert export_tags.sidecar_paths(img, "auto") == [stem]
    assert export_tags.sidecar_paths(img, "ext") == [ext]  # chosen, even where the other one exists
    Path(ext).write_text("")
    assert export_tags.sidecar_paths(img, "auto") == [ext, stem]
    assert export_tags.sidecar_paths(img, "stem") == [stem]


def _packet(body: bytes) -> bytes:
    return export_tags._EMPTY_XMP.replace(
        b'<rdf:Description rdf:about=""/>',
        b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        b'xmlns:lr="http://ns.adobe.com/lightroom/1.0/">' + body + b"</rdf:Description>")


def test_read_keywords_of_lists_single_values_and_empty_packets() -> None:
    assert read_keywords(export_tags._EMPTY_XMP) == ([], [])
    assert read_keywords(_packet(b"<dc:subject>holiday</dc:subject>")) == (["holiday"], [])
    assert read_keywords(_packet(b"<lr:hierarchicalSubject></lr:hierarchicalSubject>")) == ([], [])  # not [""]
    assert read_keywords(_packet(
        b"<dc:subject><rdf:Bag><rdf:li>b</rdf:li><rdf:li>a</rdf:li></rdf:Bag></dc:subject>"
        b"<lr:hierarchicalSubject><rdf:Seq><rdf:li>x|y</rdf:li></rdf:Seq></lr:hierarchicalSubject>")) == (
        ["b", "a"], ["x|y"])
    with pytest.raises(RuntimeError):
        read_keywords(b"\x00\x01 not xmp")


def test_as_bags_rewrites_only_the_keyword_arrays() -> None:
    packet = _packet(
        b"<dc:subject>\n <rdf:Seq><rdf:li>a</rdf:li></rdf:Seq>\n</dc:subject>"
        b"<lr:hierarchicalSubject><rdf:Alt><rdf:li>x|y</rdf:li></rdf:Alt> </lr:hierarchicalSubject>"
        b"<dc:creator><rdf:Seq><rdf:li>me</rdf:li></rdf:Seq></dc:creator>")
    assert export_tags.xmp_array_types(packet) == {export_tags.SUBJECT: "XmpSeq", export_tags.HIERARCHICAL: "XmpAlt"}
    bags = export_tags.as_bags(packet)
    assert bags == packet.replace(b"<rdf:Seq><rdf:li>a</rdf:li></rdf:Seq>", b"<rdf:Bag><rdf:li>a</rdf:li></rdf:Bag>") \
        .replace(b"<rdf:Alt><rdf:li>x|y</rdf:li></rdf:Alt>", b"<rdf:Bag><rdf:li>x|y</rdf:li></rdf:Bag>")
    assert export_tags.xmp_array_types(bags) == {export_tags.SUBJECT: "XmpBag", export_tags.HIERARCHICAL: "XmpBag"}
    assert export_tags.xmp_array_types(_packet(b"<dc:subject><rdf:Bag><rdf:li>a</rdf:li></rdf:Bag></dc:subject>")) \
        == {export_tags.SUBJECT: "XmpBag"}
    assert export_tags.xmp_array_types(export_tags._EMPTY_XMP) == {}


def test_xmp_writes_exactly_the_tags_in_force_and_keeps_existing_keywords(seeded) -> None:
    db, p = seeded
    stem = os.path.splitext(p["a.jpg"])[0] + ".xmp"
    Path(stem).write_bytes(_packet(
        b"<dc:subject><rdf:Bag><rdf:li>holiday</rdf:li><rdf:li>RED</rdf:li></rdf:Bag></dc:subject>"
        b"<lr:hierarchicalSubject><rdf:Bag><rdf:li>places|beach</rdf:li></rdf:Bag></lr:hierarchicalSubject>"))
    os.chmod(stem, 0o600)
    result = write_xmp_sidecars(db)
    assert (result.written, result.errors, result.unchanged, result.dry_run) == (4, 0, 0, False)
    changes = {c.image: (c.sidecar, c.create, c.add_subject, c.add_hierarchical, c.error) for c in result.changes}
    assert changes == {
        p["a.jpg"]: (stem, False, ["beach"], ["beach", "colour|red"], None),
        p["b.jpg"]: (p["b.jpg"] + ".xmp", True, ["Sunset", "green"], ["Sunset", "colour|green"], None),
        p["c.jpg"]: (p["c.jpg"] + ".xmp", True, ["café", "red"], ["café", "colour|red"], None),
        _shown(p["raw"]): (_shown(p["raw"] + ".xmp"), True, ["green"], ["colour|green"], None),
    }
    assert read_keywords(Path(stem).read_bytes()) == (["holiday", "RED", "beach"],
                                                      ["places|beach", "beach", "colour|red"])
    assert stat.S_IMODE(os.stat(stem).st_mode) == 0o600
    assert read_keywords(Path(p["b.jpg"] + ".xmp").read_bytes()) == (["Sunset", "green"], ["Sunset", "colour|green"])
    assert read_keywords(Path(p["raw"] + ".xmp").read_bytes()) == (["green"], ["colour|green"])
    assert not os.path.exists(p["d.jpg"] + ".xmp") and not os.path.exists(p["broken.jpg"] + ".xmp")
    again = write_xmp_sidecars(db)
    assert (again.written, again.errors, again.unchanged, again.changes) == (0, 0, 4, [])


def test_xmp_without_hierarchy_writes_only_dc_subject(seeded) -> None:
    db, p = seeded
    result = write_xmp_sidecars(db, naming="stem", hierarchical=False)
    b = next(c for c in result.changes if c.image == p["b.jpg"])
    assert (b.sidecar, b.add_subject, b.add_hierarchical) == (str(Path(p["b.jpg"]).with_suffix(".xmp")),
                                                              ["Sunset", "green"], [])
    data = Path(b.sidecar).read_bytes()
    assert read_keywords(data) == (["Sunset", "green"], []) and b"hierarchicalSubject" not in data
    assert export_tags.xmp_array_types(data) == {export_tags.SUBJECT: "XmpBag"}
    assert write_xmp_sidecars(db, naming="stem", hierarchical=False).unchanged == 4


def test_keywords_that_differ_only_in_case_are_written_once(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    p = _seed(db, tmp_path / "photos")
    with TagStore.open(db) as store:
        store.set_decision(p["b.jpg"], "sunset", "manual")
    result = write_xmp_sidecars(db, naming="ext")
    b = next(c for c in result.changes if c.image == p["b.jpg"])
    assert b.add_subject == ["Sunset", "green"]
    assert read_keywords(Path(b.sidecar).read_bytes())[0] == ["Sunset", "green"]


def test_xmp_dry_run_writes_nothing_and_both_naming_writes_two_sidecars(seeded, tmp_path: Path) -> None:
    db, p = seeded
    before = sorted(os.listdir(tmp_path / "photos"))
    dry = write_xmp_sidecars(db, naming="both", dry_run=True)
    assert sorted(os.listdir(tmp_path / "photos")) == before
    assert (dry.written, dry.errors, len(dry.changes), dry.dry_run) == (0, 0, 8, True)
    assert [c.sidecar for c in dry.changes[:2]] == [p["a.jpg"] + ".xmp", str(tmp_path / "photos" / "a.xmp")]
    assert all(c.create for c in dry.changes)
    done = write_xmp_sidecars(db, naming="both")
    assert done.written == 8
    assert read_keywords(Path(tmp_path / "photos" / "a.xmp").read_bytes())[0] == ["beach", "red"]


def test_a_bad_sidecar_is_reported_and_left_alone_while_the_others_are_written(seeded, monkeypatch) -> None:
    db, p = seeded
    Path(p["b.jpg"] + ".xmp").write_bytes(b"\x00\x01 not xmp")
    os.mkdir(p["c.jpg"] + ".xmp")  # a folder where the sidecar should be
    result = write_xmp_sidecars(db, naming="ext")
    errors = {c.image: c.error for c in result.changes if c.error}
    assert errors[p["b.jpg"]] == "RuntimeError: Failed to read input data"
    assert errors[p["c.jpg"]].startswith("IsADirectoryError: [Errno 21]")
    assert (result.errors, result.written) == (2, 2)
    assert Path(p["b.jpg"] + ".xmp").read_bytes() == b"\x00\x01 not xmp"


def test_a_sidecar_whose_keywords_would_change_as_bags_is_not_written(seeded, monkeypatch) -> None:
    db, p = seeded
    monkeypatch.setattr(export_tags, "as_bags", lambda packet: packet.replace(b">green<", b">blue<"))
    result = write_xmp_sidecars(db, naming="ext")
    errors = {c.image: c.error for c in result.changes if c.error}
    message = "ValueError: the sidecar's keywords changed when written as rdf:Bag; nothing was written"
    assert errors == {p["b.jpg"]: message, _shown(p["raw"]): message}
    assert not os.path.exists(p["b.jpg"] + ".xmp") and os.path.exists(p["a.jpg"] + ".xmp")


def test_xmp_progress_cancel_and_refusals(seeded, tmp_path: Path) -> None:
    db, p = seeded
    events: list[ProgressEvent] = []
    write_xmp_sidecars(db, dry_run=True, progress=events.append)
    assert (events[0].stage, events[0].done, events[0].total) == ("xmp", 1, None)
    assert all(e.done <= 4 for e in events)
    cancel = CancelToken()
    cancel.set()
    with pytest.raises(Cancelled):
        write_xmp_sidecars(db, cancel=cancel)
    assert not os.path.exists(p["a.jpg"] + ".xmp")
    with pytest.raises(ConfigError) as bad:
        write_xmp_sidecars(db, naming="sideways")
    assert str(bad.value) == "naming: 'sideways' is not one of 'auto', 'ext', 'stem', 'both'"
    empty = tmp_path / "empty.db"
    with pytest.raises(InputError) as info:
        write_xmp_sidecars(empty)
    assert str(info.value) == f"{empty} has no tagging results yet; run `t2ipal tag` first"


def test_csv_reader_round_trip_of_odd_labels(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    p = _seed(db, tmp_path / "photos")
    with TagStore.open(db) as store:
        store.set_decision(p["d.jpg"], 'say "cheese", please', "manual")
    export_csv(db, tmp_path / "t.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8"), newline="")))
    assert [p["d.jpg"], 'say "cheese", please', "", "manual", ""] in rows


def test_temp_files_are_named_for_the_sweep_and_live_beside_the_target(seeded, tmp_path: Path, monkeypatch) -> None:
    db, p = seeded
    made: list[str] = []
    real = export_tags.tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        made.append(name)
        return fd, name

    monkeypatch.setattr(export_tags.tempfile, "mkstemp", spy)
    export_csv(db, tmp_path / "out" / "t.csv")
    write_xmp_sidecars(db, naming="ext")
    assert len(made) == 5
    pattern = rf"\.t2ipal-{os.getpid()}-[^-/]+\.tmp"
    assert os.path.dirname(made[0]) == str(tmp_path / "out")
    assert all(os.path.dirname(m) == str(tmp_path / "photos") for m in made[1:])
    assert all(re.fullmatch(pattern, os.path.basename(m)) for m in made), made


def test_atomic_write_of_a_bare_file_name_writes_in_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    export_tags.atomic_write_bytes("IMG.xmp", b"data")
    assert (tmp_path / "IMG.xmp").read_bytes() == b"data" and os.listdir(tmp_path) == ["IMG.xmp"]


def test_missing_pyexiv2_says_to_reinstall(seeded, monkeypatch) -> None:
    db, _ = seeded
    monkeypatch.setitem(sys.modules, "pyexiv2", None)  # `import pyexiv2` raises ImportError
    with pytest.raises(ImportError) as info:
        write_xmp_sidecars(db)
    assert str(info.value) == "pyexiv2 is needed to write XMP sidecars; reinstall T2I-PAL Tagger"


def test_the_log_says_which_sidecar_was_left_and_which_temp_files_were_swept(seeded, tmp_path: Path, caplog) -> None:
    db, p = seeded
    folder = tmp_path / "photos"
    (folder / f".t2ipal-{_dead_pid()}-x.tmp").write_text("partial")
    Path(p["b.jpg"] + ".xmp").write_bytes(b"\x00\x01 not xmp")
    with caplog.at_level("INFO", logger="engine.tagging.export_tags"):
        write_xmp_sidecars(db, naming="ext")
    messages = [r.getMessage() for r in caplog.records]
    assert f"removed 1 temp file(s) left in {folder} by an interrupted export" in messages
    assert f"sidecar {p['b.jpg']}.xmp left unchanged: Failed to read input data" in messages


def test_csv_and_json_are_utf8_whatever_the_locale(seeded, tmp_path: Path) -> None:
    """A process whose locale encoding is ASCII (as a C locale or a Windows code page would be) writes UTF-8."""
    db, _ = seeded
    code = ("import locale, sys; locale.setlocale(locale.LC_CTYPE, 'C'); assert locale.getencoding() != 'utf-8'; "
            "from engine.tagging.export_tags import export_csv, export_json; "
            "export_csv(sys.argv[1], sys.argv[2]); export_json(sys.argv[1], sys.argv[3])")
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONUTF8": "0", "PYTHONPATH": os.getcwd()}
    out = subprocess.run([sys.executable, "-c", code, str(db), str(tmp_path / "t.csv"), str(tmp_path / "t.json")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"{tmp_path / 'photos' / 'c.jpg'},café,,manual,".encode() in (tmp_path / "t.csv").read_bytes()
    assert '"label": "café"'.encode() in (tmp_path / "t.json").read_bytes()
    export_csv(db, tmp_path / "here.csv")  # the same bytes as this (UTF-8 locale) process writes
    export_json(db, tmp_path / "here.json")
    assert (tmp_path / "t.csv").read_bytes() == (tmp_path / "here.csv").read_bytes()
    assert (tmp_path / "t.json").read_bytes() == (tmp_path / "here.json").read_bytes()
