"""A project is a folder: its SQLite database, feature/image caches, trained models and exports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from engine.db import open_db

DB_NAME = "project.db"


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
        """The project's current trained model folder."""
        return self.models_dir / "current"

    @property
    def onnx_path(self) -> Path:
        """The project's current exported tagging model."""
        return self.exports_dir / "model.onnx"

    def latest_onnx(self) -> Path | None:
        found = sorted(self.exports_dir.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
        return found[0] if found else None

    def create(self) -> Project:
        for folder in (self.root, self.synthetic_dir, self.feature_cache_dir, self.models_dir, self.exports_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def open_db(self) -> sqlite_utils.Database:
        self.create()
        return open_db(self.db_path)


def project_at(path: str | Path) -> Project:
    return Project(Path(path).expanduser().resolve())
