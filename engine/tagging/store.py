"""TagStore: the tagging tables (images, tags, runs, models) in the project SQLite database."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from engine.db import open_db, register_migrations, transaction
from engine.errors import InputError, StorageError
from engine.export.metadata import ModelMetadata
from engine.tagging.filters import TagFilter
from engine.tagging.policy import LabelRule, ScoreStats, ThresholdPolicy, label_rules, needs_score_stats

log = logging.getLogger(__name__)

IMAGES = "tag_images"
TAGS = "tags"
RUNS = "tag_runs"
MODELS = "tag_models"
META = "tag_meta"
POLICY = "tag_policy"  # threshold policy settings: key -> JSON value
THRESHOLDS = "tag_label_thresholds"  # a person's own threshold per label (probability)

SOURCES = ("auto", "confirmed", "rejected", "manual")
HUMAN_SOURCES = ("confirmed", "rejected", "manual")
STATUSES = ("done", "error", "missing")
_CHUNK = 500


def _v1(db: sqlite_utils.Database) -> None:
    db.execute(
        f"""CREATE TABLE {MODELS} (
            id INTEGER PRIMARY KEY,
            checksum TEXT NOT NULL UNIQUE,
            path TEXT,
            labels_json TEXT NOT NULL,
            metadata_json TEXT NOT NULL,
            registered TEXT NOT NULL)"""
    )
    db.execute(
        f"""CREATE TABLE {RUNS} (
            id INTEGER PRIMARY KEY,
            model_id INTEGER NOT NULL REFERENCES {MODELS}(id),
            started TEXT NOT NULL,
            finished TEXT,
            status TEXT NOT NULL,
            folders_json TEXT NOT NULL,
            providers TEXT NOT NULL DEFAULT '',
            tagged INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            missing INTEGER NOT NULL DEFAULT 0)"""
    )
    db.execute(
        f"""CREATE TABLE {IMAGES} (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            path_bytes BLOB,
            size INTEGER,
            mtime_ns INTEGER,
            checksum TEXT,
            width INTEGER,
            height INTEGER,
            status TEXT NOT NULL CHECK (status IN ('done', 'error', 'missing')),
            error TEXT,
            model_id INTEGER REFERENCES {MODELS}(id),
            run_id INTEGER REFERENCES {RUNS}(id),
            seen_run INTEGER,
            updated TEXT NOT NULL)"""
    )
    db.execute(
        f"""CREATE TABLE {TAGS} (
            image_id INTEGER NOT NULL REFERENCES {IMAGES}(id) ON DELETE CASCADE,
            label TEXT NOT NULL,
            score REAL,
            source TEXT NOT NULL CHECK (source IN ('auto', 'confirmed', 'rejected', 'manual')),
            model_id INTEGER REFERENCES {MODELS}(id),
            run_id INTEGER REFERENCES {RUNS}(id),
            updated TEXT NOT NULL,
            PRIMARY KEY (image_id, label))"""
    )
    db.execute(f"CREATE INDEX idx_{TAGS}_label ON {TAGS}(label, score)")
    db.execute(f"CREATE INDEX idx_{IMAGES}_status ON {IMAGES}(status)")
    db.execute(f"CREATE TABLE {META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _v2_policy(db: sqlite_utils.Database) -> None:
    """The threshold policy (engine.tagging.policy): operating point, global offset, per-label overrides."""
    db.execute(f"CREATE TABLE {POLICY} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        f"""CREATE TABLE {THRESHOLDS} (
            label TEXT PRIMARY KEY,
            threshold REAL NOT NULL CHECK (threshold >= 0 AND threshold <= 1),
            updated TEXT NOT NULL)"""
    )


register_migrations("tags", [_v1, _v2_policy])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def path_key(path: str) -> tuple[str, bytes | None]:
    """(text stored in `path`, exact bytes or None): one text per distinct path, raw bytes when they differ.

    Non-UTF-8 bytes become `\\xNN` escapes; backslashes are doubled first, so a name with a literal
    `\\xe9` and one with the byte 0xE9 never share a row. Plain UTF-8 paths are stored unchanged.
    """
    raw = os.fsencode(path)
    text = raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")
    return text, (None if text == path else raw)


def _fold(text: str | None) -> str | None:
    """Lower-case text for the Browse search (SQLite's own LOWER folds ASCII letters only)."""
    return text.lower() if isinstance(text, str) else text


def real_path(text: str, raw: bytes | None) -> str:
    """The file-system path of a stored image (inverse of `path_key`)."""
    return os.fsdecode(raw) if raw else text


@dataclass(frozen=True)
class ImageResult:
    """The outcome for one file in a batch: scores per label, or an error message."""

    path: str
    size: int
    mtime_ns: int
    checksum: str | None = None
    width: int | None = None
    height: int | None = None
    error: str | None = None
    tags: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class KnownImage:
    size: int | None
    mtime_ns: int | None
    status: str
    model_id: int | None


class TagStore:
    """Owns the tagging schema; every write is an idempotent upsert inside one transaction."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        db.conn.create_function("t2i_fold", 1, _fold, deterministic=True)

    @classmethod
    def open(cls, path: str | Path) -> TagStore:
        return cls(open_db(path))

    def close(self) -> None:
        self.db.conn.close()

    @property
    def file(self) -> str:
        """The database file (for messages)."""
        row = self.db.execute("PRAGMA database_list").fetchone()
        return str(row[2]) if row and row[2] else "the tag database"

    def __enter__(self) -> TagStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- models and label set -------------------------------------------------------------
    def label_set(self) -> list[str] | None:
        row = self.db.execute(f"SELECT value FROM {META} WHERE key = 'label_set'").fetchone()
        return json.loads(row[0]) if row else None

    def check_labels(self, labels: Sequence[str], *, model: str = "the model") -> None:
        """Refuse a model whose labels differ from the ones this database was tagged with."""
        known = self.label_set()
        if known is None or set(known) == set(labels):
            return
        extra, lacking = sorted(set(labels) - set(known)), sorted(set(known) - set(labels))
        parts = []
        if extra:
            parts.append(f"labels not in the database: {', '.join(extra[:10])}")
        if lacking:
            parts.append(f"database labels missing from the model: {', '.join(lacking[:10])}")
        raise InputError(
            f"{model} does not match this database's label set ({'; '.join(parts)}). "
            "Use a model trained on the same labels, or tag into a new database (--db)."
        )

    def register_model(self, meta: ModelMetadata, path: str | Path | None = None) -> int:
        self.check_labels(meta.labels, model=str(path or "the model"))
        sql = f"SELECT labels_json FROM {MODELS} WHERE checksum = ?"
        known = self.db.execute(sql, [meta.model_checksum]).fetchone()
        if known is not None and json.loads(known[0]) != list(meta.labels):
            raise InputError(
                f"{path or 'the model'} has the weights of a model this database knows but its labels in another "
                "order, so its scores would land on the wrong labels; export the model again"
            )
        try:
            return self._insert_model(meta, path)
        except sqlite3.Error as exc:
            raise StorageError(self._cannot_write(exc)) from exc

    def _cannot_write(self, exc: Exception) -> str:
        why = ("it is read-only for this user (a file or folder you may not write)" if "readonly" in str(exc)
               else str(exc))
        return (f"cannot write the tag database {self.file}: {why}; fix its permissions or free some space, "
                "or tag into another database")

    def _insert_model(self, meta: ModelMetadata, path: str | Path | None) -> int:
        with transaction(self.db):
            self.db.execute(
                f"INSERT INTO {META}(key, value) VALUES ('label_set', ?) ON CONFLICT(key) DO NOTHING",
                [json.dumps(sorted(meta.labels))],
            )
            row = self.db.execute(
                f"""INSERT INTO {MODELS}(checksum, path, labels_json, metadata_json, registered)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(checksum) DO UPDATE SET path = excluded.path
                    RETURNING id""",
                [meta.model_checksum, str(path or ""), json.dumps(list(meta.labels)),
                 json.dumps(meta.to_props()), _now()],
            ).fetchone()
        return int(row[0])

    def model_metadata(self, model_id: int | None = None) -> ModelMetadata | None:
        """Metadata of a model (default: the most recently registered one)."""
        if model_id is None:
            row = self.db.execute(f"SELECT metadata_json FROM {MODELS} ORDER BY id DESC LIMIT 1").fetchone()
        else:
            row = self.db.execute(f"SELECT metadata_json FROM {MODELS} WHERE id = ?", [model_id]).fetchone()
        return ModelMetadata.from_props(json.loads(row[0]), source="stored model") if row else None

    # --- runs ---------------------------------------------------------------------------------
    def start_run(self, model_id: int, folders: Iterable[str], providers: Sequence[str] = ()) -> int:
        with transaction(self.db):
            row = self.db.execute(
                f"""INSERT INTO {RUNS}(model_id, started, status, folders_json, providers)
                    VALUES (?, ?, 'running', ?, ?) RETURNING id""",
                [model_id, _now(), json.dumps([path_key(str(f))[0] for f in folders]), ",".join(providers)],
            ).fetchone()
        return int(row[0])

    def finish_run(self, run_id: int, status: str, *, skipped: int = 0, missing: int = 0) -> None:
        with transaction(self.db):
            self.db.execute(
                f"""UPDATE {RUNS} SET status = ?, finished = ?, skipped = skipped + ?, missing = missing + ?
                    WHERE id = ?""",
                [status, _now(), skipped, missing, run_id],
            )

    def runs(self) -> list[dict[str, Any]]:
        return list(self.db.query(f"SELECT * FROM {RUNS} ORDER BY id"))

    # --- images -------------------------------------------------------------------------------
    def lookup(self, paths: Sequence[str]) -> dict[str, KnownImage]:
        """Stored facts for the given file-system paths (keyed by those paths)."""
        keys = {path_key(p)[0]: p for p in paths}
        out: dict[str, KnownImage] = {}
        items = list(keys)
        for start in range(0, len(items), _CHUNK):
            chunk = items[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for path, size, mtime, status, model_id in self.db.execute(
                f"SELECT path, size, mtime_ns, status, model_id FROM {IMAGES} WHERE path IN ({marks})", chunk
            ):
                out[keys[path]] = KnownImage(size, mtime, status, model_id)
        return out

    def mark_seen(self, paths: Sequence[str], run_id: int) -> None:
        """Record that unchanged files still exist (so the end of a full scan can mark the rest missing)."""
        keys = [path_key(p)[0] for p in paths]
        with transaction(self.db):
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"UPDATE {IMAGES} SET seen_run = ? WHERE path IN ({marks})", [run_id, *chunk])

    def write_batch(self, results: Sequence[ImageResult], *, run_id: int, model_id: int) -> None:
        """Upsert a batch of images and their auto tags in one transaction; human tags are kept."""
        now = _now()
        tagged = sum(1 for r in results if r.error is None)
        try:
            with transaction(self.db):
                for r in results:
                    text, raw = path_key(r.path)
                    (image_id,) = self.db.execute(
                        f"""INSERT INTO {IMAGES}(path, path_bytes, size, mtime_ns, checksum, width, height, status,
                                error, model_id, run_id, seen_run, updated)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT(path) DO UPDATE SET path_bytes = excluded.path_bytes, size = excluded.size,
                                mtime_ns = excluded.mtime_ns, checksum = excluded.checksum, width = excluded.width,
                                height = excluded.height, status = excluded.status, error = excluded.error,
                                model_id = excluded.model_id, run_id = excluded.run_id,
                                seen_run = excluded.seen_run, updated = excluded.updated
                            RETURNING id""",
                        [text, raw, r.size, r.mtime_ns, r.checksum, r.width, r.height,
                         "error" if r.error else "done", r.error, model_id, run_id, run_id, now],
                    ).fetchone()
                    self.db.execute(f"DELETE FROM {TAGS} WHERE image_id = ? AND source = 'auto'", [image_id])
                    if r.tags:  # a person's decision keeps its source and gets the new model's score
                        self.db.conn.executemany(
                            f"""INSERT INTO {TAGS}(image_id, label, score, source, model_id, run_id, updated)
                                VALUES (?, ?, ?, 'auto', ?, ?, ?) ON CONFLICT(image_id, label) DO UPDATE SET
                                    score = excluded.score, model_id = excluded.model_id, run_id = excluded.run_id,
                                    updated = excluded.updated""",
                            [(image_id, label, float(score), model_id, run_id, now) for label, score in r.tags.items()],
                        )
                self.db.execute(
                    f"UPDATE {RUNS} SET tagged = tagged + ?, errors = errors + ? WHERE id = ?",
                    [tagged, len(results) - tagged, run_id],
                )
        except Exception as exc:
            if isinstance(exc, StorageError):
                raise
            raise StorageError(f"could not write a batch of {len(results)} results to {self.file}: {exc}; "
                               "free some space (or fix the folder's permissions) and run again to resume") from exc

    def mark_missing(self, roots: Iterable[str], run_id: int) -> int:
        """Images under `roots` not seen by run `run_id` become status 'missing' (their tags stay)."""
        total = 0
        with transaction(self.db):
            for root in roots:
                text = path_key(os.path.abspath(root))[0].rstrip("/")
                cur = self.db.execute(
                    f"""UPDATE {IMAGES} SET status = 'missing', updated = ?
                        WHERE status != 'missing' AND (seen_run IS NULL OR seen_run != ?)
                        AND (path = ? OR substr(path, 1, ?) = ?)""",
                    [_now(), run_id, text, len(text) + 1, text + "/"],
                )
                total += cur.rowcount
        return total

    def failed(self, *, run_id: int | None = None, limit: int | None = None) -> list[tuple[str, str]]:
        """(path, reason) of images whose last read failed (only those of run `run_id` when given), by path."""
        sql = f"SELECT path, path_bytes, error FROM {IMAGES} WHERE status = 'error'"
        params: list[object] = []
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        sql += " ORDER BY path" + (f" LIMIT {int(limit)}" if limit is not None else "")
        return [(real_path(p, raw), err or "") for p, raw, err in self.db.execute(sql, params)]

    # --- human decisions ----------------------------------------------------------------------
    def set_decision(self, path: str, label: str, source: str, *, score: float | None = None) -> None:
        """Record a human decision (confirmed / rejected / manual); later runs never overwrite it."""
        if source not in HUMAN_SOURCES:
            raise InputError(f"source must be one of {', '.join(HUMAN_SOURCES)}, got {source!r}")
        text = path_key(path)[0]
        row = self.db.execute(f"SELECT id FROM {IMAGES} WHERE path = ?", [text]).fetchone()
        if row is None:
            raise InputError(f"{path} is not in the database; tag its folder first")
        with transaction(self.db):
            self.db.execute(
                f"""INSERT INTO {TAGS}(image_id, label, score, source, model_id, run_id, updated)
                    VALUES (?, ?, ?, ?, NULL, NULL, ?)
                    ON CONFLICT(image_id, label) DO UPDATE SET source = excluded.source,
                        score = COALESCE(excluded.score, {TAGS}.score), updated = excluded.updated""",
                [row[0], label, score, source, _now()],
            )

    # --- reading ------------------------------------------------------------------------------
    def image(self, path: str) -> dict[str, Any] | None:
        rows = list(self.db.query(f"SELECT * FROM {IMAGES} WHERE path = ?", [path_key(path)[0]]))
        return rows[0] if rows else None

    def tags_of(self, path: str) -> dict[str, tuple[float | None, str]]:
        """label -> (score, source) for one image."""
        return {
            label: (score, source)
            for label, score, source in self.db.execute(
                f"""SELECT t.label, t.score, t.source FROM {TAGS} t JOIN {IMAGES} i ON i.id = t.image_id
                    WHERE i.path = ?""",
                [path_key(path)[0]],
            )
        }

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for status, n in self.db.execute(f"SELECT status, COUNT(*) FROM {IMAGES} GROUP BY status"):
            out[status] = n
        return out

    # --- filtered views (Browse): the tags in force under the threshold policy ---------------------
    def _in_force_sql(self) -> tuple[str, list[object]]:
        """SELECT image_id, label, score, source of the tags in force: human ones plus auto at or above cutoff."""
        rules = self.label_rules()
        params: list[object] = []
        whens = []
        for label, rule in rules.items():
            whens.append("WHEN ? THEN ?")
            params += [label, rule.cutoff]
        case = f"CASE t.label {' '.join(whens)} ELSE 1e300 END" if whens else "1e300"
        sql = (
            f"SELECT t.image_id, t.label, t.score, t.source FROM {TAGS} t JOIN {IMAGES} i ON i.id = t.image_id "
            f"WHERE i.status = 'done' AND (t.source IN ('confirmed', 'manual') "
            f"OR (t.source = 'auto' AND t.score >= {case}))"
        )
        return sql, params

    def labels_in_use(self) -> list[str]:
        """The database's label set plus any label a person added by hand."""
        known = self.label_set() or []
        extra = [r[0] for r in self.db.execute(f"SELECT DISTINCT label FROM {TAGS}")]
        return sorted(set(known) | set(extra))

    def label_counts(self, flt: TagFilter | None = None) -> dict[str, int]:
        """Photos per label with that tag in force (the filter's labels do not narrow the counts)."""
        sql, params = self._in_force_sql()
        return dict(self.db.execute(f"SELECT label, COUNT(*) FROM ({sql}) GROUP BY label", params).fetchall())

    def _matching_where(self, flt: TagFilter) -> tuple[str, list[object]]:
        where = "i.status = 'done'"
        params: list[object] = []
        if flt.labels:
            sql, params = self._in_force_sql()
            marks = ",".join("?" * len(flt.labels))
            sub = f"SELECT image_id FROM ({sql}) WHERE label IN ({marks})"
            params = params + list(flt.labels)
            if flt.mode == "all":
                sub += f" GROUP BY image_id HAVING COUNT(DISTINCT label) = {len(flt.labels)}"
            where += f" AND i.id IN ({sub})"
        for extra, extra_params in (self._review_where(flt), self._search_where(flt)):
            if extra:
                where += f" AND {extra}"
                params = params + extra_params
        return where, params

    @staticmethod
    def _review_where(flt: TagFilter) -> tuple[str, list[object]]:
        """The review-state condition on `i` (images): any human decision, none, or a rejected tag."""
        human = f"SELECT image_id FROM {TAGS} WHERE source IN ('confirmed', 'rejected', 'manual')"
        return {
            "reviewed": (f"i.id IN ({human})", []),
            "unreviewed": (f"i.id NOT IN ({human})", []),
            "rejected": (f"i.id IN (SELECT image_id FROM {TAGS} WHERE source = 'rejected')", []),
        }.get(flt.review, ("", []))

    @staticmethod
    def _search_where(flt: TagFilter) -> tuple[str, list[object]]:
        """Every search word in the stored path (file name or folder), case-insensitive, every character literal.

        Words are compared with the stored text (`path_key`: backslashes doubled) and folded by Python, since
        SQLite's LOWER and LIKE fold ASCII letters only ("été" must find "Été 2023").
        """
        words = flt.search_words()
        clauses = " AND ".join("instr(t2i_fold(i.path), ?) > 0" for _ in words)
        return clauses, [path_key(w)[0].lower() for w in words]

    def tags_of_paths(self, paths: Sequence[str]) -> dict[str, dict[str, tuple[float | None, str]]]:
        """label -> (score, source) for each of `paths` (one query per chunk; unknown paths are left out)."""
        out: dict[str, dict[str, tuple[float | None, str]]] = {}
        by_text = {path_key(p)[0]: p for p in paths}
        texts = list(by_text)
        for start in range(0, len(texts), _CHUNK):
            chunk = texts[start:start + _CHUNK]
            rows = self.db.execute(
                f"""SELECT i.path, t.label, t.score, t.source FROM {TAGS} t JOIN {IMAGES} i ON i.id = t.image_id
                    WHERE i.path IN ({",".join("?" * len(chunk))})""",
                chunk,
            )
            for text, label, score, source in rows:
                out.setdefault(by_text[text], {})[label] = (score, source)
        return out

    def matching_paths(self, flt: TagFilter, *, limit: int = 5000, offset: int = 0) -> list[str]:
        """Paths of tagged photos that match the filter under the threshold policy, in path order (one page)."""
        where, params = self._matching_where(flt)
        rows = self.db.execute(
            f"SELECT i.path, i.path_bytes FROM {IMAGES} i WHERE {where} ORDER BY i.path "
            f"LIMIT {int(limit)} OFFSET {int(offset)}",
            params,
        )
        return [real_path(p, raw) for p, raw in rows]

    def matching_count(self, flt: TagFilter) -> int:
        """How many photos match the filter (every page of `matching_paths` together)."""
        where, params = self._matching_where(flt)
        return int(self.db.execute(f"SELECT COUNT(*) FROM {IMAGES} i WHERE {where}", params).fetchone()[0])

    def iter_tags_in_force(
        self, *, label: str | None = None, rejected: bool = False
    ) -> Iterator[tuple[str, bytes | None, str, float | None, str]]:
        """(path, path_bytes, label, score, source) of every tag in force, by path then label.

        The one definition every reader uses (Browse, query, CSV/JSON/XMP export): confirmed and manual
        tags, plus automatic tags whose probability reaches their label's threshold and nobody rejected.
        `rejected` adds the rejected tags (for listing them; they are never in force).
        """
        sql, params = self._in_force_sql()
        if rejected:
            sql += f" UNION ALL SELECT t.image_id, t.label, t.score, t.source FROM {TAGS} t JOIN {IMAGES} i " \
                   "ON i.id = t.image_id WHERE i.status = 'done' AND t.source = 'rejected'"
        where = ""
        if label is not None:
            where = "WHERE f.label = ?"
            params = [*params, label]
        yield from self.db.execute(
            f"SELECT i.path, i.path_bytes, f.label, f.score, f.source FROM ({sql}) f "
            f"JOIN {IMAGES} i ON i.id = f.image_id {where} ORDER BY i.path, f.label",
            params,
        )

    def restore_tag(self, path: str, label: str, state: tuple[float | None, str] | None) -> None:
        """Put one tag back as it was (`None`: no tag row), e.g. to undo a human decision."""
        text = path_key(path)[0]
        row = self.db.execute(f"SELECT id FROM {IMAGES} WHERE path = ?", [text]).fetchone()
        if row is None:
            raise InputError(f"{path} is not in the database")
        with transaction(self.db):
            if state is None:
                self.db.execute(f"DELETE FROM {TAGS} WHERE image_id = ? AND label = ?", [row[0], label])
            else:
                score, source = state
                self.db.execute(
                    f"""INSERT INTO {TAGS}(image_id, label, score, source, model_id, run_id, updated)
                        VALUES (?, ?, ?, ?, NULL, NULL, ?)
                        ON CONFLICT(image_id, label) DO UPDATE SET source = excluded.source,
                            score = excluded.score, updated = excluded.updated""",
                    [row[0], label, score, source, _now()],
                )

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


    def labels_in_force(self, path: str) -> set[str]:
        """The labels in force on one photo under the threshold policy."""
        row = self.db.execute(f"SELECT id FROM {IMAGES} WHERE path = ?", [path_key(path)[0]]).fetchone()
        if row is None:
            return set()
        sql, params = self._in_force_sql()
        return {r[0] for r in self.db.execute(f"SELECT label FROM ({sql}) WHERE image_id = ?", [*params, row[0]])}

    # --- the threshold policy -----------------------------------------------------------------------
    def threshold_policy(self) -> ThresholdPolicy:
        """The policy stored in the database (defaults: max-F1 operating point, no offset, no overrides)."""
        values = {k: json.loads(v) for k, v in self.db.execute(f"SELECT key, value FROM {POLICY}")}
        overrides = {label: float(t) for label, t in self.db.execute(f"SELECT label, threshold FROM {THRESHOLDS}")}
        return ThresholdPolicy(
            operating_point=str(values.get("operating_point", "max_f1")),
            target_precision=float(values.get("target_precision", 0.9)),
            global_offset=float(values.get("global_offset", 0.0)),
            overrides=overrides,
        )

    def set_policy_value(self, key: str, value: object) -> None:
        """Store one policy setting (operating_point, target_precision or global_offset), validated first."""
        if key not in ("operating_point", "target_precision", "global_offset"):
            raise InputError(f"unknown threshold policy setting {key!r}")
        self.threshold_policy().replace(**{key: value})  # raises ConfigError on a bad value
        with transaction(self.db):
            self.db.execute(
                f"INSERT INTO {POLICY}(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, json.dumps(value)],
            )

    def set_label_threshold(self, label: str, value: float | None) -> None:
        """A person's own threshold (probability in [0, 1]) for `label`; None goes back to the computed one."""
        with transaction(self.db):
            if value is None:
                self.db.execute(f"DELETE FROM {THRESHOLDS} WHERE label = ?", [label])
                return
            ThresholdPolicy(overrides={label: float(value)})
            self.db.execute(
                f"""INSERT INTO {THRESHOLDS}(label, threshold, updated) VALUES (?, ?, ?)
                    ON CONFLICT(label) DO UPDATE SET threshold = excluded.threshold, updated = excluded.updated""",
                [label, float(value), _now()],
            )

    def label_rules(self, policy: ThresholdPolicy | None = None) -> dict[str, LabelRule]:
        """Each label's probability mapping and threshold in force, for the latest model under the policy."""
        meta = self.model_metadata()
        policy = policy or self.threshold_policy()
        stats = self.score_stats(meta) if needs_score_stats(meta) else None
        return label_rules(meta, policy, stats)

    def score_stats(self, meta: ModelMetadata | None) -> dict[str, ScoreStats]:
        """Per label: the spread of its stored auto scores and the score its caption share of photos reaches."""
        if meta is None:
            return {}
        priors = dict(zip(meta.labels, meta.calibration.priors, strict=True)) \
            if meta.calibration is not None and meta.calibration.priors else {}
        out = {}
        for label, n, mean, sq in self.db.execute(
            f"SELECT label, COUNT(*), AVG(score), AVG(score * score) FROM {TAGS} "
            "WHERE source != 'manual' AND score IS NOT NULL GROUP BY label"
        ).fetchall():
            std = max(float(sq) - float(mean) ** 2, 0.0) ** 0.5
            at_share = None
            if label in priors:
                k = min(int(n) - 1, max(0, round(priors[label] * int(n)) - 1))
                row = self.db.execute(
                    f"SELECT score FROM {TAGS} WHERE label = ? AND source != 'manual' AND score IS NOT NULL "
                    "ORDER BY score DESC LIMIT 1 OFFSET ?", [label, k]).fetchone()
                at_share = float(row[0]) if row else None
            out[label] = ScoreStats(std or 1.0, at_share)
        return out

    def label_probabilities(self, label: str, rules: dict[str, LabelRule] | None = None) -> list[float]:
        """Probabilities of every stored score of `label` on tagged photos (rejected ones included)."""
        rule = (self.label_rules() if rules is None else rules).get(label)
        if rule is None:
            return []
        rows = self.db.execute(
            f"SELECT t.score FROM {TAGS} t JOIN {IMAGES} i ON i.id = t.image_id "
            "WHERE t.label = ? AND t.score IS NOT NULL AND i.status = 'done'", [label])
        return [rule.probability(float(r[0])) for r in rows]

    def count_at(self, label: str, threshold: float) -> int:
        """Photos `label` would be in force on if its threshold in force were `threshold` (probability)."""
        rules = self.label_rules()
        rule = rules.get(label)
        cutoff = rule.cutoff_at(threshold) if rule is not None else 1e300  # the same cutoff as Browse's
        (n,) = self.db.execute(
            f"SELECT COUNT(*) FROM {TAGS} t JOIN {IMAGES} i ON i.id = t.image_id WHERE t.label = ? "
            "AND i.status = 'done' AND (t.source IN ('confirmed', 'manual') OR (t.source = 'auto' AND t.score >= ?))",
            [label, cutoff],
        ).fetchone()
        return int(n)

    # --- learning from decisions: the review queue and what the last training learned from ----------------
    TRAINED_DECISIONS = "trained_decisions"  # META key: the decisions the current model was trained on (JSON)

    def human_decisions(self) -> list[tuple[str, str, str]]:
        """(path, label, source) of every human decision on a tagged photo, by path then label."""
        rows = self.db.execute(
            f"SELECT i.path, i.path_bytes, t.label, t.source FROM {TAGS} t JOIN {IMAGES} i ON i.id = t.image_id "
            f"WHERE i.status = 'done' AND t.source IN ('confirmed', 'rejected', 'manual') ORDER BY i.path, t.label")
        return [(real_path(p, raw), label, source) for p, raw, label, source in rows]

    def mark_decisions_trained(self, decisions: Sequence[tuple[str, str, str]]) -> None:
        """Remember the decisions a training learned from (what `decisions_since_training` compares with)."""
        value = json.dumps(sorted([list(d) for d in decisions]))
        with transaction(self.db):
            self.db.execute(f"INSERT OR REPLACE INTO {META}(key, value) VALUES (?, ?)", [self.TRAINED_DECISIONS, value])

    def decisions_since_training(self) -> int:
        """Decisions made, changed or undone since the current model was trained."""
        row = self.db.execute(f"SELECT value FROM {META} WHERE key = ?", [self.TRAINED_DECISIONS]).fetchone()
        trained = {tuple(d) for d in json.loads(row[0])} if row else set()
        return len(trained ^ set(self.human_decisions()))

    def undecided_scores(self, labels: Sequence[str]) -> tuple[list[str], list[list[float | None]]]:
        """Tagged photos nobody has decided anything on, and their stored scores over `labels` (None: no score)."""
        col = {label: j for j, label in enumerate(labels)}
        rows = self.db.execute(
            f"""SELECT i.id, i.path, i.path_bytes, t.label, t.score FROM {IMAGES} i JOIN {TAGS} t ON t.image_id = i.id
                WHERE i.status = 'done' AND NOT EXISTS (SELECT 1 FROM {TAGS} h WHERE h.image_id = i.id
                    AND h.source IN ('confirmed', 'rejected', 'manual'))
                ORDER BY i.path""")
        paths: list[str] = []
        scores: list[list[float | None]] = []
        last = None
        for image_id, path, raw, label, score in rows:
            if image_id != last:
                paths.append(real_path(path, raw))
                scores.append([None] * len(labels))
                last = image_id
            if label in col:
                scores[-1][col[label]] = score
        return paths, scores

    def tagged_folders(self) -> list[str]:
        """Every folder a tagging run of this database covered, in first-run order."""
        seen: dict[str, None] = {}
        for (folders,) in self.db.execute(f"SELECT folders_json FROM {RUNS} ORDER BY id"):
            for folder in json.loads(folders):
                seen.setdefault(str(folder), None)
        return list(seen)
