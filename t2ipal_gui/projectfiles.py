"""Where the app keeps its per-project files inside the project folder (the engine's Project owns the rest)."""

from __future__ import annotations

from pathlib import Path

from engine.project import Project


def labels_path(project: Project) -> Path:
    return project.root / "labels.json"


def model_dir(project: Project) -> Path:
    return project.models_dir / "current"


def onnx_path(project: Project) -> Path:
    return project.exports_dir / "model.onnx"


def latest_onnx(project: Project) -> Path | None:
    found = sorted(project.exports_dir.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    return found[0] if found else None
