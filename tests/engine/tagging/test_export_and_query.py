"""Query, CSV/JSON export, XMP sidecars (read back by an independent XML reader), and the CLI commands."""

from __future__ import annotations

import argparse
import csv
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine.cli import query_cmd, tag_cmd, tags_cmd
from engine.tagging.export_tags import export_csv, export_json, write_xmp_sidecars
from engine.tagging.query import query_tags
from engine.tagging.runner import tag_folders
from engine.tagging.store import TagStore

from .conftest import make_folder, make_tiny_onnx, tiny_metadata

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
LR = "{http://ns.adobe.com/lightroom/1.0/}"

PRE_EXISTING = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4">
   <dc:subject><rdf:Bag><rdf:li>holiday</rdf:li><rdf:li>Red</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>places|beach</rdf:li></rdf:Bag></lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""


def read_xmp_independently(path: str) -> tuple[set[str], set[str], dict[str, str]]:
    """(dc:subject, lr:hierarchicalSubject, other attributes) with the standard library XML parser."""
    root = ET.parse(path).getroot()
    subject = {li.text for el in root.iter(f"{DC}subject") for li in el.iter(f"{RDF}li")}
    hier = {li.text for el in root.iter(f"{LR}hierarchicalSubject") for li in el.iter(f"{RDF}li")}
    attrs: dict[str, str] = {}
    for desc in root.iter(f"{RDF}Description"):
        attrs.update(desc.attrib)
        for child in desc:
            if child.text and child.text.strip():
                attrs[child.tag] = child.text.strip()
    return subject, hier, attrs


@pytest.fixture
def tagged(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    model = make_tiny_onnx(tmp_path / "m.onnx", tiny_metadata(labels=("red", "green", "blue", "colour")))
    files = make_folder(tmp_path / "photos", 6, ext=".jpg")
    tag_folders([tmp_path / "photos"], model, tmp_path / "t.db")
    return tmp_path / "t.db", files


def test_query_filters(tagged) -> None:
    db, files = tagged
    reds = [p for p, c in files.items() if c == "red"]
    hits = query_tags(db, label="red")
    assert sorted(h.path for h in hits) == sorted(reds)
    assert all(h.score is not None and h.score > 0.5 for h in hits)
    assert hits[0].probability == max(h.probability for h in hits)
    with TagStore.open(db) as store:  # a label's own threshold at the best photo's probability keeps only it
        store.set_label_threshold("red", hits[0].probability)
    assert [h.path for h in query_tags(db, label="red")] == [hits[0].path]
    with TagStore.open(db) as store:
        store.set_label_threshold("red", None)
    with TagStore.open(db) as store:
        store.set_decision(reds[0], "red", "rejected")
        store.set_decision(reds[0], "sunset", "manual")
    assert reds[0] not in {h.path for h in query_tags(db, label="red")}
    assert [h.path for h in query_tags(db, label="red", sources=("rejected",))] == [reds[0]]
    assert [h.path for h in query_tags(db, label="sunset")] == [reds[0]]
    with pytest.raises(Exception, match="not in this database"):
        query_tags(db, label="unicorn")


def test_csv_and_json_export(tagged, tmp_path: Path) -> None:
    db, files = tagged
    n = export_csv(db, tmp_path / "out" / "tags.csv")
    rows = list(csv.DictReader(open(tmp_path / "out" / "tags.csv", encoding="utf-8")))
    assert n == len(rows) == len(files)
    assert {(r["path"], r["label"]) for r in rows} == {(p, c) for p, c in files.items()}
    assert all(r["source"] == "auto" and float(r["score"]) > 0.5 for r in rows)
    assert export_json(db, tmp_path / "tags.json") == len(files)
    data = json.loads((tmp_path / "tags.json").read_text())
    assert {d["path"]: d["tags"][0]["label"] for d in data} == files
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_xmp_round_trip_keeps_existing_keywords(tagged) -> None:
    db, files = tagged
    red = next(p for p, c in files.items() if c == "red")
    blue = next(p for p, c in files.items() if c == "blue")
    stem_sidecar = os.path.splitext(red)[0] + ".xmp"
    Path(stem_sidecar).write_text(PRE_EXISTING, encoding="utf-8")
    image_bytes = {p: Path(p).read_bytes() for p in files}

    dry = write_xmp_sidecars(db, dry_run=True)
    assert dry.written == 0 and len(dry.changes) == len(files)
    red_change = next(c for c in dry.changes if c.image == red)
    assert red_change.sidecar == stem_sidecar and not red_change.create  # auto naming found the existing one
    assert red_change.add_subject == []  # "Red" is already there (case-insensitive)
    assert red_change.add_hierarchical == ["colour|red"]
    assert Path(stem_sidecar).read_text(encoding="utf-8") == PRE_EXISTING
    assert not Path(blue + ".xmp").exists()

    result = write_xmp_sidecars(db)
    assert result.errors == 0 and result.written == len(files)
    subject, hier, attrs = read_xmp_independently(stem_sidecar)
    assert subject == {"holiday", "Red"}
    assert hier == {"places|beach", "colour|red"}
    assert any(v == "4" for k, v in attrs.items() if k.endswith("Rating"))  # unrelated metadata kept
    subject, hier, _ = read_xmp_independently(blue + ".xmp")  # new sidecar, IMG.jpg.xmp convention
    assert subject == {"blue"} and hier == {"colour|blue"}
    assert {p: Path(p).read_bytes() for p in files} == image_bytes  # image files never touched

    again = write_xmp_sidecars(db)
    assert again.written == 0 and again.unchanged == len(files)  # idempotent
    both = write_xmp_sidecars(db, naming="both")
    assert os.path.exists(os.path.splitext(blue)[0] + ".xmp") and both.errors == 0
    assert read_xmp_independently(os.path.splitext(blue)[0] + ".xmp")[0] == {"blue"}
    folder = os.path.dirname(blue)
    assert not [n for n in os.listdir(folder) if n.endswith(".tmp")]


def test_xmp_unparseable_sidecar_is_left_alone(tagged) -> None:
    db, files = tagged
    green = next(p for p, c in files.items() if c == "green")
    Path(green + ".xmp").write_bytes(b"\x00\x01 not xmp")
    result = write_xmp_sidecars(db, naming="ext")
    assert result.errors == 1
    assert Path(green + ".xmp").read_bytes() == b"\x00\x01 not xmp"


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for mod in (tag_cmd, query_cmd, tags_cmd):
        mod.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_tag_query_export(tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = make_folder(tmp_path / "photos", 4)
    db = str(tmp_path / "t.db")
    assert _cli(["tag", str(tmp_path / "photos"), "--model", str(tiny_model), "--db", db, "--no-progress",
                 "--batch-size", "2"]) == 0
    assert "4 tagged" in capsys.readouterr().err
    assert _cli(["query", db, "--label", "green"]) == 0
    assert capsys.readouterr().out.split() == sorted(p for p, c in files.items() if c == "green")
    assert _cli(["tags", "export", db, "--format", "xmp", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("would create") == 4 and not list((tmp_path / "photos").rglob("*.xmp"))
    assert _cli(["tags", "export", db, "--format", "csv", "-o", str(tmp_path / "t.csv")]) == 0
    assert (tmp_path / "t.csv").read_text().count("\n") == 5
