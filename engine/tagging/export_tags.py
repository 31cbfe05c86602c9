"""Export tags in force: CSV, JSON, and XMP sidecars merged into dc:subject / lr:hierarchicalSubject."""

from __future__ import annotations

import csv
import errno
import itertools
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from engine.config import require_choice
from engine.errors import DependencyMissing, InputError, StorageError
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


_TMP_PREFIX = ".t2ipal-"
_swept: set[str] = set()
_swept_lock = threading.Lock()


def _new_file_mode() -> int:
    """0666 less the umask: the mode any program would give a new file here."""
    with _swept_lock:  # os.umask can only be read by setting it
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _temp_file(folder: str) -> tuple[int, str]:
    """A temp file named after this process, so a later run can tell a dead writer's leftovers and sweep them."""
    sweep_stale_temp_files(folder)
    return tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", suffix=".tmp", dir=folder)


def sweep_stale_temp_files(folder: str) -> int:
    """Delete `.t2ipal-PID-*.tmp` files of processes that no longer run (once per folder and process)."""
    import psutil

    key = os.path.abspath(folder)
    with _swept_lock:
        if key in _swept:
            return 0
        _swept.add(key)
    removed = 0
    try:
        names = [n for n in os.listdir(key) if n.startswith(_TMP_PREFIX) and n.endswith(".tmp")]
    except OSError:
        return 0
    for name in names:
        pid = name[len(_TMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not psutil.pid_exists(int(pid)):
            try:
                os.unlink(os.path.join(key, name))
                removed += 1
            except OSError:
                pass
    if removed:
        log.info("removed %d temp file(s) left in %s by an interrupted export", removed, key)
    return removed


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write via a temp file in the same folder + os.replace (the old mode when replacing, else 0666 & ~umask)."""
    folder = os.path.dirname(path) or "."
    mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else _new_file_mode()
    fd, tmp = _temp_file(folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_error(folder: str, exc: OSError) -> StorageError:
    """What the person can do about a failed export write, naming the folder."""
    if exc.errno == errno.ENOSPC:
        return StorageError(f"cannot write the export to {folder}: no space left on the disk; free some space "
                            "or choose another folder (the previous export, if any, is unchanged)")
    if isinstance(exc, PermissionError):
        return StorageError(f"cannot write the export to {folder}: permission denied; choose a writable folder")
    return StorageError(f"cannot write the export to {folder}: {exc.strerror or exc}")


class _AtomicText:
    """Context manager: a text file written to a temp file and moved into place on success.

    A failed write (full disk, no permission) leaves the previous file and no temp file, and raises a
    StorageError naming the folder.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = os.fspath(path)
        self.folder = os.path.dirname(os.path.abspath(self.path))

    def __enter__(self) -> IO[str]:
        try:
            os.makedirs(self.folder, exist_ok=True)
            fd, self.tmp = _temp_file(self.folder)
        except OSError as exc:
            raise _write_error(self.folder, exc) from exc
        os.chmod(self.tmp, _new_file_mode())
        self.fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self.fh

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.fh.close()
            if exc_type is None:
                os.replace(self.tmp, self.path)
        except OSError as err:
            exc = err
        if exc is not None and os.path.exists(self.tmp):
            os.unlink(self.tmp)
        if isinstance(exc, OSError):
            raise _write_error(self.folder, exc) from exc


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


_BAG_PROPERTIES = {SUBJECT: b"dc:subject", HIERARCHICAL: b"lr:hierarchicalSubject"}
_ARRAY = re.compile(rb"<(dc:subject|lr:hierarchicalSubject)>(\s*)<rdf:(Seq|Bag|Alt)>(.*?)</rdf:\3>(\s*)</\1>", re.S)


def as_bags(packet: bytes) -> bytes:
    """The packet with dc:subject and lr:hierarchicalSubject as rdf:Bag, as the XMP spec defines them.

    pyexiv2 writes every list as rdf:Seq; exiv2 serialises arrays in element form, and an item's text is
    XML-escaped, so the container element is unambiguous. The caller reads the result back to check it.
    """
    return _ARRAY.sub(lambda m: b"<%s>%s<rdf:Bag>%s</rdf:Bag>%s</%s>" % (
        m.group(1), m.group(2), m.group(4), m.group(5), m.group(1)), packet)


def xmp_array_types(packet: bytes) -> dict[str, str]:
    """Array type (XmpBag, XmpSeq, XmpAlt) of dc:subject and lr:hierarchicalSubject in a serialised packet."""
    found = {m.group(1): m.group(3).decode() for m in _ARRAY.finditer(packet)}
    return {key: f"Xmp{found[tag]}" for key, tag in _BAG_PROPERTIES.items() if tag in found}


def _merge(existing: list[str], wanted: list[str]) -> list[str]:
    have = {k.casefold() for k in existing}
    out = []
    for k in wanted:
        if k.casefold() not in have:
            have.add(k.casefold())
            out.append(k)
    return out


def _checked_bags(packet: bytes) -> bytes:
    """`as_bags`, read back with exiv2: the keywords must be exactly those of the packet exiv2 wrote."""
    bags = as_bags(packet)
    if read_keywords(bags) != read_keywords(packet):
        raise ValueError("the sidecar's keywords changed when written as rdf:Bag; nothing was written")
    return bags


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
                        new = _checked_bags(new)
                        atomic_write_bytes(sidecar, new)
                except (OSError, RuntimeError, ValueError) as exc:
                    change.error = f"{type(exc).__name__}: {exc}"
                    log.warning("sidecar %s left unchanged: %s", change.sidecar, exc)
                result.changes.append(change)
            reporter.advance()
    return result
