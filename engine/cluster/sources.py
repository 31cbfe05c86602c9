"""What a cluster job tags: local folders and files (scanned like the local tagger) and pyarrow filesystem URIs."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from engine.errors import DependencyMissing, InputError
from engine.tagging.scan import ScanEntry, scan_folders


def is_uri(source: str) -> bool:
    """True for `scheme://...` (s3://, gs://, hdfs://, file://); a Windows drive letter is not a scheme."""
    scheme = urlsplit(source).scheme
    return len(scheme) > 1 and "://" in source


@dataclass(frozen=True)
class Sources:
    """The sources of one job, split into local paths (absolute) and URIs (kept as given)."""

    local: tuple[str, ...]
    uris: tuple[str, ...]

    @classmethod
    def parse(cls, sources: Sequence[str | os.PathLike]) -> Sources:
        texts = [os.fspath(s) for s in sources]
        if not texts:
            raise InputError("no folders or URIs given to tag")
        local = tuple(os.path.abspath(t) for t in texts if not is_uri(t))
        for root in local:
            if not os.path.exists(root):
                raise InputError(f"{root} does not exist")
        return cls(local, tuple(t.rstrip("/") for t in texts if is_uri(t)))

    @property
    def roots(self) -> list[str]:
        return [*self.local, *self.uris]


def _filesystem(uri: str):  # -> tuple[pyarrow.fs.FileSystem, str]
    try:
        from pyarrow import fs
    except ImportError as exc:  # pragma: no cover - pyarrow comes with ray[data]
        raise DependencyMissing('URIs need pyarrow; install it with: pip install "t2ipal-tagger[cluster]"') from exc
    try:
        return fs.FileSystem.from_uri(uri)
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError with its own text
        raise InputError(f"cannot open {uri}: {exc}") from exc


def _excluded(rel: str, exclude: Sequence[str]) -> bool:
    parts = rel.lower().split("/")
    return any(fnmatch.fnmatchcase(part, p.lower()) for part in parts for p in exclude) or any(
        "/" in p and fnmatch.fnmatchcase(rel.lower(), p.lower()) for p in exclude
    )


def _included(rel: str, include: Sequence[str]) -> bool:
    name = rel.rsplit("/", 1)[-1].lower()
    return any(fnmatch.fnmatchcase(name, p.lower()) or ("/" in p and fnmatch.fnmatchcase(rel.lower(), p.lower()))
               for p in include)


def scan_uri(uri: str, include: Sequence[str], exclude: Sequence[str]) -> Iterator[ScanEntry]:
    """Image files under a URI (a folder, recursively, or one file), sorted; `path` is the file's full URI."""
    from pyarrow import fs

    filesystem, base = _filesystem(uri)
    prefix = uri[: len(uri) - len(base)] if uri.endswith(base) else f"{urlsplit(uri).scheme}://"
    info = filesystem.get_file_info(base)
    if info.type == fs.FileType.NotFound:
        raise InputError(f"{uri} does not exist")
    infos = [info] if info.type == fs.FileType.File else filesystem.get_file_info(fs.FileSelector(base, recursive=True))
    for item in sorted(infos, key=lambda i: i.path):
        rel = os.path.basename(item.path) if item is info else item.path[len(base):].lstrip("/")
        if item.type != fs.FileType.File or _excluded(rel, exclude) or not _included(rel, include):
            continue
        yield ScanEntry(prefix + item.path, item.size or 0, item.mtime_ns or 0)


def scan_sources(sources: Sources, include: Sequence[str], exclude: Sequence[str],
                 follow_symlinks: bool) -> Iterator[ScanEntry]:
    """Local sources through the local tagger's scan (same order and rules), then each URI."""
    if sources.local:
        yield from scan_folders(sources.local, include=include, exclude=exclude, follow_symlinks=follow_symlinks)
    for uri in sources.uris:
        yield from scan_uri(uri, include, exclude)


def read_uri(uri: str) -> bytes:
    """The whole file behind a URI (on a worker)."""
    filesystem, path = _filesystem(uri)
    with filesystem.open_input_stream(path) as stream:
        return stream.read()
