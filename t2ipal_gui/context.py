"""What every panel shares: settings, the job runner, the open project, and change notifications."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine import api
from engine.project import Project
from t2ipal_gui.pipeline import SynthesisSettings, TrainingSettings
from t2ipal_gui.settings import AppSettings
from t2ipal_gui.workers import JobRunner

log = logging.getLogger(__name__)


class AppContext(QObject):
    """`project_changed(Project | None)`; `data_changed(area)` where area is one of
    "labels", "captions", "synthesis", "model", "tags" — panels refresh what depends on it."""

    project_changed = Signal(object)
    data_changed = Signal(str)
    error = Signal(object, str)  # exception, context: shown by the one error dialog

    def __init__(self, settings: AppSettings, runner: JobRunner | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.runner = runner or JobRunner(self)
        self.project: Project | None = None
        # what the one-click run uses; the panels keep these current
        self.synthesis_options: SynthesisSettings | None = None
        self.training_options: TrainingSettings | None = None
        self.tag_folders: list[str] = []

    def open_project(self, path: str | Path, *, create: bool = False) -> Project:
        project = api.create_project(path) if create else api.open_project(path)
        self.project = project
        self.tag_folders = []
        self.settings.add_recent(project.root)
        log.info("opened project %s", project.root)
        self.project_changed.emit(project)
        return project

    def close_project(self) -> None:
        self.project = None
        self.tag_folders = []
        self.project_changed.emit(None)

    def report(self, exc: BaseException, context: str = "") -> None:
        log.error("%s: %s", context or "error", exc)
        self.error.emit(exc, context)
