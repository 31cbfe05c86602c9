"""The synthetic-image cache: atomic PNG writes under the project folder and a SQLite manifest."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from PIL import Image

from engine.db import register_migrations, transaction
from engine.errors import StorageError
from engine.hashing import sha256_file
from engine.synthesis.seeds import canonical_json

log = logging.getLogger(__name__)

TABLE = "synthetic_images"
PARAMS_TABLE = "synthesis_params"
TMP_SUFFIX = ".tmp"


def _v1(db: sqlite_utils.Database) -> None:
    db.execute(
        f"""CREATE TABLE {PARAMS_TABLE} (
            params_hash TEXT PRIMARY KEY,
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            params_json TEXT NOT NULL,
            created_at REAL NOT NULL)"""
    )
    db.execute(
        f"""CREATE TABLE {TABLE} (
            id INTEGER PRIMARY KEY,
            params_hash TEXT NOT NULL REFERENCES {PARAMS_TABLE}(params_hash),
            caption_key TEXT NOT NULL,
            idx INTEGER NOT NULL,
            caption_id TEXT,
            caption TEXT NOT NULL,
            labels_json TEXT NOT NULL DEFAULT '[]',
            seed INTEGER NOT NULL,
            model TEXT NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            created_at REAL NOT NULL,
            quality_score REAL,
            quality_flagged INTEGER,
            quality_json TEXT,
            UNIQUE (params_hash, caption_key, idx))"""
    )
    db.execute(f"CREATE INDEX idx_{TABLE}_caption ON {TABLE}(caption_key)")


register_migrations("synthesis", [_v1])


@dataclass(frozen=True)
class ImageRecord:
    """One manifest row; `path` is relative to the project's synthetic folder."""

    params_hash: str
    caption_key: str
    index: int
    caption: str
    labels: tuple[str, ...]
    seed: int
    model: str
    path: str
    sha256: str
    width: int
    height: int
    caption_id: str | None = None
    quality_score: float | None = None
    quality_flagged: bool | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "params_hash": self.params_hash,
            "caption_key": self.caption_key,
            "idx": self.index,
            "caption_id": self.caption_id,
            "caption": self.caption,
            "labels_json": json.dumps(list(self.labels)),
            "seed": self.seed,
            "model": self.model,
            "path": self.path,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "created_at": time.time(),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ImageRecord:
        flagged = row.get("quality_flagged")
        return cls(
            params_hash=row["params_hash"],
            caption_key=row["caption_key"],
            index=int(row["idx"]),
            caption=row["caption"],
            labels=tuple(json.loads(row["labels_json"] or "[]")),
            seed=int(row["seed"]),
            model=row["model"],
            path=row["path"],
            sha256=row["sha256"],
            width=int(row["width"]),
            height=int(row["height"]),
            caption_id=row.get("caption_id"),
            quality_score=row.get("quality_score"),
            quality_flagged=None if flagged is None else bool(flagged),
        )


def relative_path(params_hash: str, key: str, index: int) -> str:
    """Where image `index` of caption `key` lives inside the synthetic folder (POSIX separators)."""
    return f"{params_hash[:16]}/{key[:2]}/{key[:20]}_{index:03d}.png"


def encode_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG", compress_level=4)
    return buf.getvalue()


def _storage_error(path: Path, exc: OSError) -> StorageError:
    if exc.errno == errno.ENOSPC or exc.errno == getattr(errno, "EDQUOT", -1):
        return StorageError(
            f"disk full while writing {path}; free some space (or move the project) and run again to resume"
        )
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageError(f"cannot write to {path.parent}: permission denied; choose a writable project folder")
    return StorageError(f"cannot write {path}: {exc}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to `.<name>.<pid>.tmp` in the same folder, fsync, then `os.replace` (no partial files)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _storage_error(path, exc) from exc


def check_writable(folder: Path) -> None:
    """Create `folder` and write/remove a probe file, or raise a clear `StorageError`."""
    probe = folder / f".write-probe.{os.getpid()}{TMP_SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise _storage_error(probe, exc) from exc


def sweep_temp_files(folder: Path) -> int:
    """Remove temp files left by killed runs (those whose writer process is gone)."""
    import psutil

    removed = 0
    if not folder.is_dir():
        return 0
    for tmp in folder.rglob(f".*{TMP_SUFFIX}"):
        parts = tmp.name.rsplit(".", 2)
        pid = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else -1
        if pid == os.getpid() or (pid > 0 and psutil.pid_exists(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.info("removed %d partial file(s) left by an interrupted run in %s", removed, folder)
    return removed


@dataclass
class ManifestReport:
    """Differences between the manifest and the files on disk (all paths relative)."""

    rows: int = 0
    missing_files: list[str] = field(default_factory=list)
    unregistered_files: list[str] = field(default_factory=list)
    bad_checksums: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not (self.missing_files or self.unregistered_files or self.bad_checksums or self.temp_files)


class Manifest:
    """The synthesis tables of a project database, rooted at the project's synthetic folder."""

    def __init__(self, db: sqlite_utils.Database, root: Path) -> None:
        self.db = db
        self.root = Path(root)

    def register_params(self, params_hash: str, backend: str, model: str, params: dict[str, Any]) -> None:
        with transaction(self.db):
            self.db.execute(
                f"INSERT OR IGNORE INTO {PARAMS_TABLE}(params_hash, backend, model, params_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [params_hash, backend, model, canonical_json(params), time.time()],
            )

    def records(self, params_hash: str | None = None, *, include_flagged: bool = True) -> list[ImageRecord]:
        """Manifest rows (of one parameter set, or all); `include_flagged=False` drops quality-flagged ones."""
        clauses, args = [], []
        if params_hash:
            clauses.append("params_hash = ?")
            args.append(params_hash)
        if not include_flagged:
            clauses.append("(quality_flagged IS NULL OR quality_flagged = 0)")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        cur = self.db.execute(f"SELECT * FROM {TABLE} {where} ORDER BY caption_key, idx", args)
        cols = [c[0] for c in cur.description]
        return [ImageRecord.from_row(dict(zip(cols, r, strict=True))) for r in cur.fetchall()]

    def add(self, records: Sequence[ImageRecord]) -> None:
        """Insert rows in one transaction (idempotent: an existing (params, caption, index) is replaced)."""
        if not records:
            return
        rows = [r.to_row() for r in records]
        cols = list(rows[0])
        sql = (
            f"INSERT INTO {TABLE}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            "ON CONFLICT(params_hash, caption_key, idx) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("params_hash", "caption_key", "idx"))
        )
        with transaction(self.db):
            for row in rows:
                self.db.execute(sql, [row[c] for c in cols])

    def remove(self, params_hash: str, keys: Iterable[tuple[str, int]]) -> None:
        with transaction(self.db):
            for key, idx in keys:
                self.db.execute(
                    f"DELETE FROM {TABLE} WHERE params_hash = ? AND caption_key = ? AND idx = ?",
                    [params_hash, key, idx],
                )

    def set_quality(self, updates: Sequence[tuple[str, float, bool, dict[str, Any]]]) -> None:
        """(path, score, flagged, detail) per image."""
        with transaction(self.db):
            for path, score, flagged, detail in updates:
                self.db.execute(
                    f"UPDATE {TABLE} SET quality_score = ?, quality_flagged = ?, quality_json = ? WHERE path = ?",
                    [float(score), int(flagged), json.dumps(detail), path],
                )

    def verify(self, *, checksums: bool = False) -> ManifestReport:
        """Compare every row with the folder: missing files, unregistered PNGs, bad checksums, temp files."""
        report = ManifestReport()
        registered: set[str] = set()
        for rec in self.records():
            report.rows += 1
            registered.add(rec.path)
            path = self.root / rec.path
            if not path.is_file():
                report.missing_files.append(rec.path)
            elif checksums and sha256_file(path) != rec.sha256:
                report.bad_checksums.append(rec.path)
        if self.root.is_dir():
            for p in self.root.rglob("*"):
                if not p.is_file():
                    continue
                rel = p.relative_to(self.root).as_posix()
                if p.name.endswith(TMP_SUFFIX):
                    report.temp_files.append(rel)
                elif p.suffix == ".png" and rel not in registered:
                    report.unregistered_files.append(rel)
        return report
