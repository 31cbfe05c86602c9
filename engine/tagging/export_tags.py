"""Export tags in force: CSV, JSON, and XMP sidecars merged into dc:subject / lr:hierarchicalSubject."""

from __future__ import annotations

import csv
import itertools
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from engine.config import require_choice
from engine.errors import DependencyMissing, InputError
from engine.export.metadata import ModelMetadata
from engine.labels.hierarchy import keyword_path
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel
from engine.tagging.store import TagStore, real_path

log = logging.getLogger(__name__)

XMP_NAMINGS = ("auto", "ext", "stem", "both")  # ext: IMG.jpg.xmp, stem: IMG.xmp, auto: existing else ext
SUBJECT = "Xmp.dc.subject"
HIERARCHICAL = "Xmp.lr.hierarchicalSubject"
# An empty XMP packet for a new sidecar; all keywords are then written by exiv2 (pyexiv2).
_EMPTY_XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/">\n <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    b'  <rdf:Description rdf:about=""/>\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="w"?>\n'
)


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write via a temp file in the same folder + os.replace (keeps the old mode when replacing)."""
    folder = os.path.dirname(path) or "."
    mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else None
    fd, tmp = tempfile.mkstemp(prefix=".t2ipal-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class _AtomicText:
    """Context manager: a text file written to a temp file and moved into place on success."""

    def __init__(self, path: str | Path) -> None:
        self.path = os.fspath(path)

    def __enter__(self) -> IO[str]:
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=".t2ipal-", suffix=".tmp", dir=folder)
        self.fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self.fh

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.fh.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)


def _grouped(store: TagStore) -> Iterator[tuple[str, list[tuple[str, float | None, str]]]]:
    """Each image's tags in force under the project's threshold policy (what Browse shows)."""
    rows = store.iter_tags_in_force()
    for (path, raw), group in itertools.groupby(rows, key=lambda r: (r[0], r[1])):
        yield real_path(path, raw), [(label, score, source) for _, _, label, score, source in group]


def _probability(rules: dict, label: str, score: float | None) -> float | None:
    rule = rules.get(label)
    return None if rule is None or score is None else rule.probability(score)


def _display(path: str) -> str:
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def export_csv(db_path: str | Path, out: str | Path) -> int:
    """One row per tag in force (path, label, raw score, source, probability); returns the row count."""
    n = 0
    with TagStore.open(db_path) as store, _AtomicText(out) as fh:
        rules = store.label_rules()
        writer = csv.writer(fh)
        writer.writerow(["path", "label", "score", "source", "probability"])
        for path, tags in _grouped(store):
            for label, score, source in tags:
                p = _probability(rules, label, score)
                writer.writerow([_display(path), label, "" if score is None else f"{score:.6g}", source,
                                 "" if p is None else f"{p:.4f}"])
                n += 1
    return n


def export_json(db_path: str | Path, out: str | Path) -> int:
    """A JSON list of {path, tags: [{label, score, source, probability}]}, streamed; returns the image count."""
    n = 0
    with TagStore.open(db_path) as store, _AtomicText(out) as fh:
        rules = store.label_rules()
        fh.write("[")
        for path, tags in _grouped(store):
            item = {"path": _display(path), "tags": [
                {"label": lab, "score": s, "source": src, "probability": _probability(rules, lab, s)}
                for lab, s, src in tags]}
            fh.write(("\n" if n == 0 else ",\n") + json.dumps(item, ensure_ascii=False))
            n += 1
        fh.write("\n]\n")
    return n


@dataclass
class XmpChange:
    """What happens (or would happen, in a dry run) to one sidecar."""

    image: str
    sidecar: str
    create: bool
    add_subject: list[str] = field(default_factory=list)
    add_hierarchical: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class XmpResult:
    dry_run: bool
    changes: list[XmpChange] = field(default_factory=list)  # sidecars that change (or failed)
    unchanged: int = 0

    @property
    def written(self) -> int:
        return 0 if self.dry_run else sum(1 for c in self.changes if c.error is None)

    @property
    def errors(self) -> int:
        return sum(1 for c in self.changes if c.error is not None)


def sidecar_paths(image: str, naming: str) -> list[str]:
    ext, stem = image + ".xmp", os.path.splitext(image)[0] + ".xmp"
    if naming == "ext":
        return [ext]
    if naming == "stem":
        return [stem]
    if naming == "both":
        return [ext, stem]
    existing = [p for p in (ext, stem) if os.path.exists(p)]
    return existing or [ext]


def _pyexiv2():
    try:
        import pyexiv2
    except ImportError as exc:  # pragma: no cover - pinned dependency
        raise DependencyMissing("pyexiv2 is needed to write XMP sidecars; reinstall T2I-PAL Tagger") from exc
    pyexiv2.set_log_level(4)
    return pyexiv2


def _as_list(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[union-attr,attr-defined]


def read_keywords(data: bytes) -> tuple[list[str], list[str]]:
    """(dc:subject, lr:hierarchicalSubject) of an XMP packet, read with exiv2."""
    image = _pyexiv2().ImageData(data)
    try:
        xmp = image.read_xmp()
    finally:
        image.close()
    return _as_list(xmp.get(SUBJECT)), _as_list(xmp.get(HIERARCHICAL))


def _merge(existing: list[str], wanted: list[str]) -> list[str]:
    have = {k.casefold() for k in existing}
    out = []
    for k in wanted:
        if k.casefold() not in have:
            have.add(k.casefold())
            out.append(k)
    return out


def write_xmp_sidecars(
    db_path: str | Path,
    *,
    naming: str = "auto",
    dry_run: bool = False,
    hierarchical: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> XmpResult:
    """Add each image's tags to its XMP sidecar(s), never removing keywords already there.

    Image files themselves are never written. Each sidecar is replaced atomically; a sidecar that
    exiv2 cannot parse is reported and left untouched. `dry_run` only computes the changes.
    """
    require_choice("naming", naming, XMP_NAMINGS)
    pyexiv2 = _pyexiv2()
    result = XmpResult(dry_run)
    with TagStore.open(db_path) as store:
        meta: ModelMetadata | None = store.model_metadata()
        if meta is None:
            raise InputError(f"{db_path} has no tagging results yet; run `t2ipal tag` first")
        reporter = ProgressReporter(progress, "xmp")
        for image, tags in _grouped(store):
            check_cancel(cancel)
            labels = [label for label, _, _ in tags]
            paths = [keyword_path(meta.hierarchy, lab) for lab in labels] if hierarchical else []
            for sidecar in sidecar_paths(image, naming):
                change = XmpChange(_display(image), _display(sidecar), not os.path.exists(sidecar))
                try:
                    data = _EMPTY_XMP
                    if not change.create:
                        with open(sidecar, "rb") as fh:
                            data = fh.read()
                    subject, hier = read_keywords(data)
                    change.add_subject = _merge(subject, labels)
                    change.add_hierarchical = _merge(hier, paths)
                    if not change.add_subject and not change.add_hierarchical:
                        result.unchanged += 1
                        continue
                    if not dry_run:
                        handle = pyexiv2.ImageData(data)
                        try:
                            update = {SUBJECT: subject + change.add_subject}
                            if hierarchical:
                                update[HIERARCHICAL] = hier + change.add_hierarchical
                            handle.modify_xmp(update)
                            new = handle.get_bytes()
                        finally:
                            handle.close()
                        atomic_write_bytes(sidecar, new)
                except (OSError, RuntimeError, ValueError) as exc:
                    change.error = f"{type(exc).__name__}: {exc}"
                    log.warning("sidecar %s left unchanged: %s", change.sidecar, exc)
                result.changes.append(change)
            reporter.advance()
    return result
