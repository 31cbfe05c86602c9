"""Per-project file locations, as the engine's Project defines them (kept for the panels' imports)."""

from __future__ import annotations

from pathlib import Path

from engine.project import Project


def labels_path(project: Project) -> Path:
    return project.labelset_path


def model_dir(project: Project) -> Path:
    return project.model_dir


def onnx_path(project: Project) -> Path:
    return project.onnx_path


def latest_onnx(project: Project) -> Path | None:
    return project.latest_onnx()
