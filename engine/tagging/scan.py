"""Recursive, streaming scan of photo folders with include/exclude patterns and no symlink loops."""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".heic", ".heif")
DEFAULT_INCLUDE = tuple(f"*{ext}" for ext in IMAGE_EXTENSIONS)
DEFAULT_EXCLUDE = (".*", "@eaDir", "#recycle", "$RECYCLE.BIN", "*.tmp")


@dataclass(frozen=True)
class ScanEntry:
    """One candidate file: absolute path, size and mtime (ns); `error` set when it cannot be read."""

    path: str
    size: int = 0
    mtime_ns: int = 0
    error: str | None = None


def _matches(name: str, rel: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        pat = pattern.lower()
        if fnmatch.fnmatchcase(name.lower(), pat) or ("/" in pat and fnmatch.fnmatchcase(rel.lower(), pat)):
            return True
    return False


def scan_folders(
    folders: Iterable[str | Path],
    *,
    include: Iterable[str] = DEFAULT_INCLUDE,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    follow_symlinks: bool = True,
) -> Iterator[ScanEntry]:
    """Yield image files under `folders` depth-first in sorted order, each real directory once.

    Patterns are fnmatch globs, case-insensitive, matched against the file/dir name, or against the
    path relative to its root when they contain "/". Broken symlinks and unreadable entries are
    yielded with `error` set so they become error rows; unreadable folders are logged and skipped.
    """
    include, exclude = tuple(include), tuple(exclude)
    seen_dirs: set[tuple[int, int]] = set()  # one entry per folder: bounded by the folder count
    seen_files: set[str] = set()  # only files given directly as roots
    for folder in folders:
        root = os.path.abspath(os.fspath(folder))
        try:
            st = os.stat(root)
        except OSError as exc:
            yield ScanEntry(root, error=f"cannot read folder: {exc.strerror or exc}")
            continue
        if not stat.S_ISDIR(st.st_mode):
            if _matches(os.path.basename(root), os.path.basename(root), include) and root not in seen_files:
                seen_files.add(root)
                yield _file_entry(root, st)
            continue
        yield from _walk(root, root, include, exclude, follow_symlinks, seen_dirs)


def _walk(
    root: str,
    top: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    follow: bool,
    seen_dirs: set[tuple[int, int]],
) -> Iterator[ScanEntry]:
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            log.warning("skipping folder %s: %s", folder, exc)
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:  # symlink loop or a folder reached twice
            continue
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            log.warning("cannot list folder %s: %s", folder, exc)
            continue
        subdirs: list[str] = []
        for entry in entries:
            rel = os.path.relpath(entry.path, root).replace(os.sep, "/")
            if _matches(entry.name, rel, exclude):
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=follow)
            except OSError:
                is_link, is_dir = False, False
            if is_dir:
                if follow or not is_link:
                    subdirs.append(entry.path)
                continue
            if not _matches(entry.name, rel, include):
                continue
            if is_link and not follow:
                continue
            try:
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                yield ScanEntry(entry.path, error="broken symlink" if is_link else "file vanished during scan")
                continue
            except OSError as exc:
                yield ScanEntry(entry.path, error=f"cannot stat: {exc.strerror or exc}")
                continue
            yield _file_entry(entry.path, st)
        stack.extend(reversed(subdirs))


def _file_entry(path: str, st: os.stat_result) -> ScanEntry:
    """A regular file as a candidate; a FIFO, device or socket as an error entry (never opened: it could block)."""
    if stat.S_ISREG(st.st_mode):
        return ScanEntry(path, st.st_size, st.st_mtime_ns)
    return ScanEntry(path, 0, st.st_mtime_ns, error="not a regular file (a FIFO, device or socket); never opened")


def count_candidates(folders: Iterable[str | Path], **kwargs: object) -> int:
    """Number of entries `scan_folders` would yield (a cheap pass so progress can show an ETA)."""
    return sum(1 for _ in scan_folders(folders, **kwargs))  # type: ignore[arg-type,misc]
