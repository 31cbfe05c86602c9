"""A project is a folder: its SQLite database, feature/image caches, trained models and exports."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

# Imported for their migrations: every area's tables exist in any database opened through a Project.
import engine.captions.store  # noqa: F401
import engine.synthesis.cache  # noqa: F401
import engine.tagging.store  # noqa: F401
from engine.db import open_db, register_migrations

DB_NAME = "project.db"
STATE_TABLE = "project_state"


def _state_v1(db: sqlite_utils.Database) -> None:
    db.execute(f"CREATE TABLE {STATE_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


register_migrations("project", [_state_v1])


@dataclass(frozen=True)
class ModelRecord:
    """The project's current model: its trained folder and exported ONNX file (paths inside the project)."""

    model_dir: Path | None = None
    onnx_path: Path | None = None
    onnx_sha256: str = ""
    labels: tuple[str, ...] = ()

    @property
    def trained(self) -> bool:
        return self.model_dir is not None and self.model_dir.is_dir()

    @property
    def exported(self) -> bool:
        return self.onnx_path is not None and self.onnx_path.is_file()


@dataclass(frozen=True)
class Project:
    """Paths of one project folder; nothing is created until `create` or `open_db` is called."""

    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def synthetic_dir(self) -> Path:
        return self.root / "synthetic"

    @property
    def feature_cache_dir(self) -> Path:
        return self.root / "cache" / "features"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def labelset_path(self) -> Path:
        """The project's label set (JSON, engine.labels format)."""
        return self.root / "labels.json"

    @property
    def model_dir(self) -> Path:
        """Where training writes the project's model folder."""
        return self.models_dir / "current"

    @property
    def onnx_path(self) -> Path:
        """Where export writes the project's tagging model."""
        return self.exports_dir / "model.onnx"

    def create(self) -> Project:
        for folder in (self.root, self.synthetic_dir, self.feature_cache_dir, self.models_dir, self.exports_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def open_db(self) -> sqlite_utils.Database:
        """The project database, migrated; the caller closes it (prefer `with project.db() as db:`)."""
        self.create()
        return open_db(self.db_path)

    @contextmanager
    def db(self) -> Iterator[sqlite_utils.Database]:
        """`with project.db() as db:` opens the migrated project database and always closes it."""
        db = self.open_db()
        try:
            yield db
        finally:
            db.conn.close()

    # ---- the project's own model ------------------------------------------------------------------
    def _relative(self, path: Path | None) -> str:
        if path is None:
            return ""
        path = Path(path).resolve()
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def _absolute(self, text: str) -> Path | None:
        return (self.root / text) if text else None

    def model_record(self) -> ModelRecord:
        """What the project records as its current model (empty when it has none)."""
        with self.db() as db:
            state = dict(db.execute(f"SELECT key, value FROM {STATE_TABLE}").fetchall())
        return ModelRecord(
            model_dir=self._absolute(state.get("model_dir", "")),
            onnx_path=self._absolute(state.get("onnx_path", "")),
            onnx_sha256=state.get("onnx_sha256", ""),
            labels=tuple(json.loads(state.get("labels", "[]"))),
        )

    def record_model(self, **fields: object) -> ModelRecord:
        """Store some fields of the current-model record (model_dir, onnx_path, onnx_sha256, labels)."""
        allowed = {"model_dir", "onnx_path", "onnx_sha256", "labels"}
        unknown = set(fields) - allowed
        if unknown:
            raise KeyError(f"unknown model-record fields: {sorted(unknown)}")
        rows = []
        for key, value in fields.items():
            if key in ("model_dir", "onnx_path"):
                text = self._relative(value)  # type: ignore[arg-type]
            elif key == "labels":
                text = json.dumps(list(value))  # type: ignore[call-overload]
            else:
                text = str(value)
            rows.append((key, text))
        with self.db() as db:
            with db.conn:
                db.conn.executemany(
                    f"INSERT INTO {STATE_TABLE}(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    rows,
                )
        return self.model_record()

    # ---- small per-project state the front ends remember (e.g. the folders to tag) ---------------
    def paths_state(self, key: str) -> list[Path]:
        """Paths stored under `key` (relative to the project where they are inside it)."""
        with self.db() as db:
            row = db.execute(f"SELECT value FROM {STATE_TABLE} WHERE key = ?", [f"paths:{key}"]).fetchone()
        return [self.root / p for p in json.loads(row[0])] if row else []

    def set_paths_state(self, key: str, paths: Sequence[str | Path]) -> None:
        text = json.dumps([self._relative(Path(p)) for p in paths])
        with self.db() as db, db.conn:
            db.conn.execute(f"INSERT INTO {STATE_TABLE}(key, value) VALUES (?, ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [f"paths:{key}", text])


def project_at(path: str | Path) -> Project:
    return Project(Path(path).expanduser().resolve())
