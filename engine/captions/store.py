"""CaptionStore: label sets and labelled captions in the project database (idempotent, all-or-nothing imports)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlite_utils

from engine.captions.sources import detect_format, iter_captions
from engine.db import register_migrations, transaction
from engine.errors import InputError
from engine.hashing import caption_hash
from engine.labels.labelset import LabelSet
from engine.labels.noun_filter import NounFilter
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel

log = logging.getLogger(__name__)

DEFAULT_MIN_COUNT = 50  # labels with fewer captions than this are reported as thin
NARRATIVE_MAX_WORDS = 77  # METHOD.md §2.1: only the first 77 words of a localized narrative are tagged
_BATCH = 5000


def _migration_1(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE labelsets (name TEXT PRIMARY KEY, data TEXT NOT NULL, fingerprint TEXT NOT NULL, "
        "updated_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE captions (id INTEGER PRIMARY KEY, labelset TEXT NOT NULL "
        "REFERENCES labelsets(name) ON DELETE CASCADE, hash TEXT NOT NULL, text TEXT NOT NULL, "
        "labels TEXT NOT NULL, given_labels TEXT, source TEXT NOT NULL, added_at REAL NOT NULL, "
        "UNIQUE(labelset, hash))"
    )
    db.execute("CREATE INDEX captions_source ON captions(labelset, source)")


register_migrations("captions", [_migration_1])


@dataclass(frozen=True)
class Caption:
    id: int
    text: str
    labels: list[str]
    source: str
    hash: str
    labelset: str = ""


@dataclass(frozen=True)
class ImportResult:
    path: str
    format: str
    labelset: str
    source: str
    read: int  # captions read from the file
    added: int  # new rows stored
    duplicates: int  # already stored (or repeated in the file)
    unlabelled: int  # no label of the set mentioned: not stored
    skipped: int  # dropped by options (e.g. max_per_image)
    elapsed_s: float
    thin_labels: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.read / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class CaptionStats:
    labelset: str
    names: list[str]
    total: int
    per_label: dict[str, int]
    cooccurrence: np.ndarray  # (C, C) int64: captions mentioning both labels; the diagonal is per_label
    per_source: dict[str, int]
    min_count: int
    thin_labels: list[str]

    def top_pairs(self, k: int = 10) -> list[tuple[str, str, int]]:
        c = self.cooccurrence
        n = len(c)
        pairs = [(self.names[i], self.names[j], int(c[i, j])) for i in range(n) for j in range(i + 1, n) if c[i, j]]
        return sorted(pairs, key=lambda p: -p[2])[:k]

    def to_dict(self) -> dict:
        return {
            "labelset": self.labelset,
            "total": self.total,
            "per_label": self.per_label,
            "per_source": self.per_source,
            "min_count": self.min_count,
            "thin_labels": self.thin_labels,
            "top_pairs": [list(p) for p in self.top_pairs(20)],
        }


class CaptionStore:
    """Label sets and captions of one project database; every write is one transaction."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    # -- label sets --------------------------------------------------------------------------------
    def add_labelset(self, labelset: LabelSet, *, relabel: bool = True) -> None:
        """Store (or replace) a label set; with `relabel`, stored captions are re-tagged when it changed."""
        row = self.db.execute("SELECT fingerprint FROM labelsets WHERE name = ?", [labelset.name]).fetchone()
        changed = row is not None and row[0] != labelset.fingerprint()
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO labelsets(name, data, fingerprint, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET data = excluded.data, fingerprint = excluded.fingerprint, "
                "updated_at = excluded.updated_at",
                [labelset.name, labelset.to_json(), labelset.fingerprint(), time.time()],
            )
            if changed and relabel:
                self._relabel(labelset)

    def get_labelset(self, name: str) -> LabelSet:
        row = self.db.execute("SELECT data FROM labelsets WHERE name = ?", [name]).fetchone()
        if row is None:
            known = ", ".join(self.list_labelsets()) or "none"
            raise InputError(f"no label set {name!r} in this project (stored: {known}); add it with a caption import")
        return LabelSet.from_dict(json.loads(row[0]), source=f"project label set {name!r}")

    def list_labelsets(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM labelsets ORDER BY name").fetchall()]

    def _relabel(self, labelset: LabelSet) -> None:
        nf = NounFilter(labelset)
        known = set(labelset.names)
        sql = "SELECT id, text, given_labels FROM captions WHERE labelset = ?"
        rows = self.db.execute(sql, [labelset.name]).fetchall()
        updates = []
        for cid, text, given in rows:
            labels = [n for n in json.loads(given) if n in known] if given else nf.names_of(text)
            updates.append((json.dumps(labels), cid))
        self.db.conn.executemany("UPDATE captions SET labels = ? WHERE id = ?", updates)
        log.info("re-tagged %d captions for label set %s", len(updates), labelset.name)

    # -- import ------------------------------------------------------------------------------------
    def import_file(
        self,
        path: str | Path,
        fmt: str = "auto",
        labelset: LabelSet | None = None,
        *,
        source: str | None = None,
        max_per_image: int | None = None,
        min_count: int = DEFAULT_MIN_COUNT,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> ImportResult:
        """Stream a caption file in, tag each caption with the noun filter (or take the labels the file gives),
        skip duplicates and captions that mention no label. All or nothing: any error or a cancel rolls back."""
        if labelset is None:
            raise InputError("import_file needs a label set (the noun filter tags captions with its labels)")
        path = Path(path)
        fmt = detect_format(path, fmt)
        source = source or path.name
        start = time.perf_counter()
        nf = NounFilter(labelset)
        names = labelset.names
        max_words = NARRATIVE_MAX_WORDS if fmt == "narratives" else None
        reporter = ProgressReporter(progress, "import captions", None)
        read = unlabelled = skipped = 0
        per_image: dict[str, int] = {}
        conn = self.db.conn
        lookup = _lookup(labelset)
        with transaction(self.db):
            self._upsert_labelset(labelset)
            before = conn.total_changes
            batch: list[tuple] = []
            now = time.time()
            for raw in iter_captions(path, fmt):
                read += 1
                if max_per_image is not None and raw.key is not None:
                    seen = per_image.get(raw.key, 0)
                    if seen >= max_per_image:
                        skipped += 1
                        continue
                    per_image[raw.key] = seen + 1
                if raw.labels is not None:
                    labels = _given_labels(labelset, raw.labels, path, raw.line, lookup)
                    given = json.dumps(labels)
                else:
                    labels = [names[i] for i in nf.labels_of(raw.text, max_words=max_words)]
                    given = None
                if not labels:
                    unlabelled += 1
                    continue
                batch.append((labelset.name, caption_hash(raw.text), raw.text, json.dumps(labels), given, source, now))
                if len(batch) >= _BATCH:
                    self._insert(batch)
                    batch.clear()
                    check_cancel(cancel)
                    reporter.advance(_BATCH)
            self._insert(batch)
            check_cancel(cancel)
            added = conn.total_changes - before
        thin = self._thin(labelset, min_count)
        elapsed = time.perf_counter() - start
        reporter.report(force=True)
        result = ImportResult(
            str(path), fmt, labelset.name, source, read, added, read - added - unlabelled - skipped, unlabelled,
            skipped, elapsed, thin,
        )
        log.info(
            "imported %s: %d read, %d added, %d duplicates, %d without a label (%.0f captions/s)",
            path, read, added, result.duplicates, unlabelled, result.rate,
        )
        if thin:
            log.warning(
                "labels with fewer than %d captions: %s (generate more with `captions generate`)",
                min_count, ", ".join(thin),
            )
        return result

    def add_captions(
        self, labelset: LabelSet, captions: Iterable[str], *, source: str, cancel: CancelToken | None = None
    ) -> int:
        """Store captions (plain strings are tagged by the noun filter; objects with `.labels` keep theirs)."""
        nf = NounFilter(labelset)
        names = labelset.names
        lookup = _lookup(labelset)
        now = time.time()
        rows = []
        for text in captions:
            given = getattr(text, "labels", None)
            text = " ".join(str(text).split())
            if given is not None:
                labels = _given_labels(labelset, given, Path(source), 0, lookup)
                encoded = json.dumps(labels)
                rows.append((labelset.name, caption_hash(text), text, encoded, encoded, source, now))
            else:
                labels = [names[i] for i in nf.labels_of(text)]
                if labels:
                    rows.append((labelset.name, caption_hash(text), text, json.dumps(labels), None, source, now))  # type: ignore[arg-type]
        conn = self.db.conn
        with transaction(self.db):
            self._upsert_labelset(labelset)
            before = conn.total_changes
            for i in range(0, len(rows), _BATCH):
                self._insert(rows[i : i + _BATCH])
                check_cancel(cancel)
            return conn.total_changes - before

    def _upsert_labelset(self, labelset: LabelSet) -> None:
        row = self.db.execute("SELECT fingerprint FROM labelsets WHERE name = ?", [labelset.name]).fetchone()
        if row is not None and row[0] != labelset.fingerprint():
            stored = self.db.execute("SELECT count(*) FROM captions WHERE labelset = ?", [labelset.name]).fetchone()[0]
            if stored:
                self.add_labelset(labelset)  # changed definition: store it and re-tag what is there
                return
        self.db.execute(
            "INSERT INTO labelsets(name, data, fingerprint, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET data = excluded.data, fingerprint = excluded.fingerprint",
            [labelset.name, labelset.to_json(), labelset.fingerprint(), time.time()],
        )

    def _insert(self, rows: list[tuple]) -> None:
        if rows:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO captions(labelset, hash, text, labels, given_labels, source, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    # -- editing -----------------------------------------------------------------------------------
    def update_caption(self, labelset: LabelSet, caption_id: int, text: str) -> Caption:
        """Replace a caption's text; its labels are read again by the noun filter. InputError when it names none."""
        text = " ".join(text.split())
        labels = [labelset.names[i] for i in NounFilter(labelset).labels_of(text)]
        if not labels:
            raise InputError(f"“{text}” names none of the labels; a caption must mention at least one")
        row = self.db.execute("SELECT source FROM captions WHERE id = ? AND labelset = ?",
                              [caption_id, labelset.name]).fetchone()
        if row is None:
            raise InputError(f"caption {caption_id} is not in the label set {labelset.name!r}")
        h = caption_hash(text)
        with transaction(self.db):
            clash = self.db.execute("SELECT id FROM captions WHERE labelset = ? AND hash = ? AND id != ?",
                                    [labelset.name, h, caption_id]).fetchone()
            if clash is not None:
                raise InputError(f"“{text}” is already a caption")
            self.db.execute("UPDATE captions SET text = ?, hash = ?, labels = ?, given_labels = NULL WHERE id = ?",
                            [text, h, json.dumps(labels), caption_id])
        return Caption(caption_id, text, labels, row[0], h, labelset.name)

    def delete_captions(self, ids: Iterable[int]) -> list[Caption]:
        """Delete captions by id; returns what was deleted (so it can be put back)."""
        ids = [int(i) for i in ids]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with transaction(self.db):
            rows = self.db.execute(f"SELECT id, text, labels, source, hash, labelset FROM captions "
                                   f"WHERE id IN ({marks}) ORDER BY id", ids).fetchall()
            self.db.execute(f"DELETE FROM captions WHERE id IN ({marks})", ids)
        return [Caption(cid, text, json.loads(labels), src, h, ls) for cid, text, labels, src, h, ls in rows]

    def restore_captions(self, captions: Iterable[Caption]) -> int:
        """Put deleted captions back with their ids, labels and sources (undo of `delete_captions`)."""
        now = time.time()
        rows = [(c.id, c.labelset, c.hash, c.text, json.dumps(c.labels), c.source, now) for c in captions]
        with transaction(self.db):
            before = self.db.conn.total_changes
            self.db.conn.executemany("INSERT OR IGNORE INTO captions(id, labelset, hash, text, labels, source, "
                                     "added_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            return self.db.conn.total_changes - before

    # -- reading -----------------------------------------------------------------------------------
    def iter_captions(self, labelset_name: str | None = None, *, source: str | None = None) -> Iterator[Caption]:
        sql = "SELECT id, text, labels, source, hash, labelset FROM captions"
        where, params = [], []
        if labelset_name is not None:
            where.append("labelset = ?")
            params.append(labelset_name)
        if source is not None:
            where.append("source = ?")
            params.append(source)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        for cid, text, labels, src, h, ls in self.db.execute(sql, params):
            yield Caption(cid, text, json.loads(labels), src, h, ls)

    def count(self, labelset_name: str | None = None) -> int:
        if labelset_name is None:
            return self.db.execute("SELECT count(*) FROM captions").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM captions WHERE labelset = ?", [labelset_name]).fetchone()[0]

    def corpus(self, labelset: LabelSet | str) -> tuple[list[str], np.ndarray]:
        """Training view: caption texts and their (N, C) uint8 multi-hot labels in label-set order."""
        name = labelset if isinstance(labelset, str) else labelset.name
        ls = self.get_labelset(name) if isinstance(labelset, str) else labelset
        index = {n: i for i, n in enumerate(ls.names)}
        texts: list[str] = []
        rows: list[list[int]] = []
        for text, labels in self.db.execute("SELECT text, labels FROM captions WHERE labelset = ? ORDER BY id", [name]):
            texts.append(text)
            rows.append([index[n] for n in json.loads(labels) if n in index])
        y = np.zeros((len(texts), len(ls.names)), dtype=np.uint8)
        for r, idxs in enumerate(rows):
            y[r, idxs] = 1
        return texts, y

    def label_counts(self, labelset: LabelSet) -> dict[str, int]:
        counts = dict.fromkeys(labelset.names, 0)
        for (labels,) in self.db.execute("SELECT labels FROM captions WHERE labelset = ?", [labelset.name]):
            for n in json.loads(labels):
                if n in counts:
                    counts[n] += 1
        return counts

    def stats(self, labelset: LabelSet | str, *, min_count: int = DEFAULT_MIN_COUNT) -> CaptionStats:
        ls = self.get_labelset(labelset) if isinstance(labelset, str) else labelset
        _, y = self.corpus(ls)
        yf = y.astype(np.float64)  # BLAS; exact for counts below 2**53
        co = np.rint(yf.T @ yf).astype(np.int64)
        per_label = {n: int(co[i, i]) for i, n in enumerate(ls.names)}
        per_source = {
            src: n
            for src, n in self.db.execute(
                "SELECT source, count(*) FROM captions WHERE labelset = ? GROUP BY source ORDER BY source", [ls.name]
            ).fetchall()
        }
        thin = [n for n, c in per_label.items() if c < min_count]
        return CaptionStats(ls.name, ls.names, len(y), per_label, co, per_source, min_count, thin)

    def _thin(self, labelset: LabelSet, min_count: int) -> list[str]:
        return [n for n, c in self.label_counts(labelset).items() if c < min_count]


def _lookup(labelset: LabelSet) -> dict[str, str]:
    """Lower-cased name, prompt wording or synonym -> label name (for labels a file gives explicitly)."""
    out: dict[str, str] = {}
    for label in labelset.labels:
        for term in label.terms:
            out.setdefault(term.lower(), label.name)
    for label in labelset.labels:
        out[label.name.lower()] = label.name
    return out


def _given_labels(labelset: LabelSet, given: Iterable[str], path: Path, line: int, lookup: dict[str, str]) -> list[str]:
    out: list[str] = []
    for name in given:
        label = lookup.get(name.strip().lower())
        if label is None:
            where = f"{path}: line {line}: " if line else f"{path}: "
            raise InputError(
                f"{where}label {name!r} is not in label set {labelset.name!r}; known: {', '.join(labelset.names)}"
            )
        if label not in out:
            out.append(label)
    return [n for n in labelset.names if n in out]
