"""Folder scan: patterns, sorted order, symlink loops, broken links, non-UTF-8 names."""

from __future__ import annotations

import os
from pathlib import Path

from engine.tagging.scan import count_candidates, scan_folders

from .conftest import write_photo


def _names(entries) -> list[str]:
    return [os.path.basename(e.path) for e in entries]


def test_include_exclude_and_order(tmp_path: Path) -> None:
    for rel in ["b/2.jpg", "a/1.PNG", "a/skip.txt", ".hidden/x.jpg", "a/raw/3.webp", "a/thumbs/4.jpg"]:
        write_photo(tmp_path / rel, "red", fmt="PNG")
    entries = list(scan_folders([tmp_path], exclude=(".*", "thumbs")))
    assert _names(entries) == ["1.PNG", "3.webp", "2.jpg"]  # depth-first, sorted; extension case ignored
    assert all(e.error is None and e.size > 0 and e.mtime_ns > 0 for e in entries)
    only_jpg = list(scan_folders([tmp_path], include=("*.jpg",), exclude=("a/thumbs/*", ".*")))
    assert _names(only_jpg) == ["2.jpg"]
    assert count_candidates([tmp_path], exclude=(".*", "thumbs")) == 3


def test_symlink_loop_and_overlapping_roots_visit_each_file_once(tmp_path: Path) -> None:
    write_photo(tmp_path / "top" / "a.png", "red")
    write_photo(tmp_path / "top" / "sub" / "b.png", "blue")
    os.symlink(tmp_path / "top", tmp_path / "top" / "sub" / "loop")  # a loop back to the root
    entries = list(scan_folders([tmp_path / "top", tmp_path / "top" / "sub"]))
    assert sorted(_names(entries)) == ["a.png", "b.png"]
    no_follow = list(scan_folders([tmp_path / "top"], follow_symlinks=False))
    assert sorted(_names(no_follow)) == ["a.png", "b.png"]


def test_broken_symlink_and_non_utf8_name(tmp_path: Path) -> None:
    write_photo(tmp_path / "ok.png", "green")
    os.symlink(tmp_path / "gone.jpg", tmp_path / "dangling.jpg")
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.png")
    with open(raw, "wb") as fh:
        fh.write((tmp_path / "ok.png").read_bytes())
    entries = {os.path.basename(e.path): e for e in scan_folders([tmp_path])}
    assert entries["dangling.jpg"].error == "broken symlink"
    weird = [e for name, e in entries.items() if name.startswith("caf")]
    assert len(weird) == 1 and weird[0].error is None
    assert os.fsencode(weird[0].path) == raw  # the exact bytes survive


def test_missing_root_is_an_error_entry(tmp_path: Path) -> None:
    (entry,) = list(scan_folders([tmp_path / "nope"]))
    assert entry.error and "cannot read folder" in entry.error
