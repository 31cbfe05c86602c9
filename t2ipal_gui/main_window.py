"""The main window: composes the panels, menus, docks and status bar; holds no pipeline logic."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.project import Project
from t2ipal_gui import logbridge
from t2ipal_gui.context import AppContext
from t2ipal_gui.dialogs.about import AboutDialog
from t2ipal_gui.dialogs.error import OPEN_MODEL_MANAGER, ErrorReporter
from t2ipal_gui.dialogs.models import ModelManagerDialog
from t2ipal_gui.dialogs.preferences import PreferencesDialog
from t2ipal_gui.oneclick import OneClickBar
from t2ipal_gui.panels.base import Panel
from t2ipal_gui.panels.browse import BrowsePanel
from t2ipal_gui.panels.captions import CaptionsPanel
from t2ipal_gui.panels.labels import LabelsPanel
from t2ipal_gui.panels.log import LogPanel
from t2ipal_gui.panels.synthesis import SynthesisPanel
from t2ipal_gui.panels.tagging import TaggingPanel
from t2ipal_gui.panels.training import TrainingPanel
from t2ipal_gui.resources import app_icon
from t2ipal_gui.settings import AppSettings
from t2ipal_gui.theme import apply_theme
from t2ipal_gui.widgets import JobStatus

log = logging.getLogger(__name__)

PANELS: list[type[Panel]] = [LabelsPanel, CaptionsPanel, SynthesisPanel, TrainingPanel, TaggingPanel, BrowsePanel]


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext | None = None) -> None:
        super().__init__()
        self.ctx = ctx or AppContext(AppSettings())
        self.setWindowTitle("T2I-PAL Tagger")
        self.setWindowIcon(app_icon())
        self.setObjectName("mainWindow")
        self.errors = ErrorReporter(self, {OPEN_MODEL_MANAGER: self.show_model_manager})
        self.ctx.runner.job_failed.connect(lambda job, exc: self.errors.show(exc, job.traceback, job.name))
        self.ctx.error.connect(lambda exc, where: self.errors.show(exc, context=where))
        self._build_central()
        self._build_log_dock()
        self._build_menus()
        self._build_status()
        self.ctx.project_changed.connect(self._project_changed)
        self._project_changed(self.ctx.project)
        self._restore()

    # -- composition ------------------------------------------------------------------------------
    def _build_central(self) -> None:
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(168)
        self.nav.setIconSize(QSize(18, 18))
        self.stack = QStackedWidget()
        self.panels: dict[str, Panel] = {}
        for number, cls in enumerate(PANELS, start=1):
            panel = cls(self.ctx)
            self.panels[cls.key()] = panel
            self.stack.addWidget(panel)
            item = QListWidgetItem(f"{number}  {cls.title}")
            item.setToolTip(cls.subtitle)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        self.oneclick = OneClickBar(self.ctx, self)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.oneclick)
        column.addWidget(self.stack, 1)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(right, 1)
        self.setCentralWidget(central)

    def _build_log_dock(self) -> None:
        self.log_panel = LogPanel(logbridge.handler())
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("logDock")
        self.log_dock.setWidget(self.log_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.resizeDocks([self.log_dock], [150], Qt.Orientation.Vertical)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addAction(self._action("&New Project…", self.new_project, QKeySequence.StandardKey.New))
        file.addAction(self._action("&Open Project…", self.open_project_dialog, QKeySequence.StandardKey.Open))
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addAction(self._action("&Close Project", self.ctx.close_project))
        file.addSeparator()
        file.addAction(self._action("&Preferences…", self.show_preferences, QKeySequence.StandardKey.Preferences))
        file.addSeparator()
        file.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))
        view = bar.addMenu("&View")
        for number, (key, panel) in enumerate(self.panels.items(), start=1):
            view.addAction(self._action(panel.title, partial(self.show_panel, key), f"Ctrl+{number}"))
        view.addSeparator()
        view.addAction(self.log_dock.toggleViewAction())
        run = bar.addMenu("&Run")
        run.addAction(self._action("Run &All Steps", self.oneclick.start, "Ctrl+R"))
        run.addAction(self._action("&Cancel All Jobs", self.ctx.runner.cancel_all, "Ctrl+."))
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&About T2I-PAL Tagger", lambda: AboutDialog(self).exec()))

    def _build_status(self) -> None:
        self.project_label = QLabel()
        self.project_label.setProperty("role", "subtitle")
        self.job_status = JobStatus(self.ctx.runner)
        self.statusBar().addWidget(self.project_label, 1)
        self.statusBar().addPermanentWidget(self.job_status)

    def _action(self, text: str, slot: Callable[[], object],
                shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(lambda *_: slot())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    # -- projects ---------------------------------------------------------------------------------
    def new_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose or create an empty folder for the new project")
        if folder:
            self.open_project(folder, create=True)

    def open_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a project folder")
        if folder:
            self.open_project(folder)

    def open_project(self, folder: str | Path, create: bool = False) -> bool:
        try:
            self.ctx.open_project(folder, create=create)
        except Exception as exc:  # noqa: BLE001 - shown in the error dialog
            self.ctx.report(exc, f"Opening project {folder}")
            return False
        return True

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.ctx.settings.recent_projects()
        for path in recent:
            self.recent_menu.addAction(self._action(path, partial(self.open_project, path)))
        if not recent:
            self.recent_menu.addAction("No recent projects").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(self._action("Clear List", self.ctx.settings.clear_recent))

    def _project_changed(self, project: Project | None) -> None:
        if project is None:
            self.setWindowTitle("T2I-PAL Tagger")
            self.project_label.setText("No project open")
        else:
            self.setWindowTitle(f"{project.root.name} — T2I-PAL Tagger")
            self.project_label.setText(f"Project: {project.root}")

    # -- misc -------------------------------------------------------------------------------------
    def show_panel(self, key: str) -> Panel:
        self.nav.setCurrentRow(list(self.panels).index(key))
        return self.panels[key]

    def show_model_manager(self) -> ModelManagerDialog:
        prefs = self.ctx.settings.preferences()
        dialog = ModelManagerDialog(self.ctx.runner, offline=prefs.offline, cache_dir=prefs.cache_dir, parent=self)
        dialog.open()
        return dialog

    def show_preferences(self) -> None:
        dialog = PreferencesDialog(self.ctx.settings.preferences(), self, self.ctx.runner)
        if dialog.exec():
            prefs = dialog.preferences()
            self.ctx.settings.save_preferences(prefs)
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_theme(app, prefs.theme)
            log.info("preferences saved")

    def recent_menu_actions(self) -> QMenu:
        self._fill_recent()
        return self.recent_menu

    def _restore(self) -> None:
        geometry = self.ctx.settings.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1180, 780)
        state = self.ctx.settings.window_state()
        if state is not None:
            self.restoreState(state)
        row = str(self.ctx.settings.value("window/panel", 0))
        self.nav.setCurrentRow(int(row) if row.isdigit() and int(row) < len(self.panels) else 0)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.ctx.settings.save_window(self.saveGeometry(), self.saveState())
        self.ctx.settings.set_value("window/panel", self.nav.currentRow())
        if not self.ctx.runner.shutdown(5000):
            log.warning("some jobs were still running when the window closed")
        super().closeEvent(event)
