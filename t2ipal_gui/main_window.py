"""The main window: composes the panels, menus, docks and status bar; holds no pipeline logic."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence, QShowEvent, QUndoGroup
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
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine import api
from engine.project import Project
from t2ipal_gui import logbridge
from t2ipal_gui.context import AppContext
from t2ipal_gui.dialogs import confirm as ask
from t2ipal_gui.dialogs.about import AboutDialog
from t2ipal_gui.dialogs.error import OPEN_MODEL_MANAGER, ErrorReporter
from t2ipal_gui.dialogs.models import ModelManagerDialog
from t2ipal_gui.dialogs.new_project import NewProjectDialog
from t2ipal_gui.dialogs.preferences import PreferencesDialog
from t2ipal_gui.dialogs.shortcuts import ShortcutsDialog, docs_url
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
        self._fitted = False
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
        self.undo_group = QUndoGroup(self)
        for panel in self.panels.values():
            stack = getattr(panel, "undo_stack", None)
            if stack is not None:
                self.undo_group.addStack(stack)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.currentRowChanged.connect(self._activate_undo)
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
        file.addAction(self._action("&Close Project", self.close_project, QKeySequence.StandardKey.Close))
        file.addSeparator()
        file.addAction(self._action("&Preferences…", self.show_preferences, QKeySequence.StandardKey.Preferences))
        file.addAction(self._action("&Model Manager…", self.show_model_manager))
        file.addSeparator()
        file.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))
        edit = bar.addMenu("&Edit")
        undo = self.undo_group.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_group.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addAction(undo)
        edit.addAction(redo)
        self.undo_action, self.redo_action = undo, redo
        view = bar.addMenu("&View")
        for number, (key, panel) in enumerate(self.panels.items(), start=1):
            view.addAction(self._action(panel.title, partial(self.show_panel, key), f"Ctrl+{number}"))
        view.addSeparator()
        view.addAction(self.log_dock.toggleViewAction())
        run = bar.addMenu("&Run")
        run.addAction(self._action("Run &All Steps", self.oneclick.start, "Ctrl+R"))
        run.addAction(self._action("&Cancel All Jobs", self.ctx.runner.cancel_all, "Ctrl+."))
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&Keyboard Shortcuts", self.show_shortcuts, "F1"))
        help_menu.addAction(self._action("&User Guide", lambda: QDesktopServices.openUrl(docs_url())))
        help_menu.addSeparator()
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
    def new_project(self) -> NewProjectDialog:
        dialog = NewProjectDialog(str(self.ctx.settings.value("projects/location", "")), self)
        dialog.accepted.connect(lambda: self.create_project(dialog))
        dialog.open()
        return dialog

    def create_project(self, dialog: NewProjectDialog) -> bool:
        """Create the dialog's project (with its starting label set) and open it on Labels."""
        if not self._may_drop_edits():
            return False
        folder = dialog.folder()
        try:
            labelset = dialog.labelset()
            api.create_project(folder, labels=labelset)
        except Exception as exc:  # noqa: BLE001 - shown in the error dialog
            self.ctx.report(exc, f"Creating project {folder}")
            return False
        self.ctx.settings.set_value("projects/location", str(folder.parent))
        if self.open_project(folder, ask=False):
            self.show_panel("labels")
            return True
        return False

    def close_project(self) -> bool:
        if not self._may_drop_edits():
            return False
        self.ctx.close_project()
        return True

    def _may_drop_edits(self) -> bool:
        """Unsaved label edits are lost when the project closes: ask first."""
        labels = self.panels.get("labels")
        if labels is None or self.ctx.project is None or not labels.is_dirty():  # type: ignore[attr-defined]
            return True
        return ask.confirm(self, "Unsaved labels", "Your label edits are not saved.", "Discard Edits",
                           informative="Close the project without saving them? (Cancel, then Save in Labels.)")

    def _activate_undo(self, row: int) -> None:
        panel = list(self.panels.values())[row] if 0 <= row < len(self.panels) else None
        self.undo_group.setActiveStack(getattr(panel, "undo_stack", None))  # type: ignore[arg-type]  # None: none

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self)
        dialog.open()
        return dialog

    def open_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a project folder")
        if folder:
            self.open_project(folder)

    def open_project(self, folder: str | Path, create: bool = False, ask: bool = True) -> bool:
        if ask and not self._may_drop_edits():
            return False
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
        self.fit_to_screen()
        state = self.ctx.settings.window_state()
        if state is not None:
            self.restoreState(state)
        row = str(self.ctx.settings.value("window/panel", 0))
        self.nav.setCurrentRow(int(row) if row.isdigit() and int(row) < len(self.panels) else 0)

    def fit_to_screen(self) -> None:
        """Never larger than the screen's free area (1.5× scaling on a small screen), and on it."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()
        if frame.isNull() or frame.height() <= 0:  # not decorated yet: leave room for a title bar and borders
            frame = QSize(8, 40)
        width = min(self.width(), free.width() - frame.width())
        height = min(self.height(), free.height() - frame.height())
        self.setMinimumSize(min(self.minimumWidth(), width), min(self.minimumHeight(), height))
        self.resize(width, height)
        x = min(max(self.x(), free.left()), free.right() - width - frame.width() + 1)
        y = min(max(self.y(), free.top()), free.bottom() - height - frame.height() + 1)
        self.move(x, y)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._fitted:  # the window manager's frame is known once shown
            self._fitted = True
            QTimer.singleShot(0, self.fit_to_screen)

    def may_quit(self) -> bool:
        """A running job: ask whether to cancel it and quit, or keep it running."""
        running = self.ctx.runner.running()
        if not running:
            return self._may_drop_edits()
        box = QMessageBox(QMessageBox.Icon.Question, "A job is running",
                          f"“{running[-1].name}” is still running.", QMessageBox.StandardButton.NoButton, self)
        box.setInformativeText("Cancel it and quit? Finished work is kept; start it again to resume.")
        quit_button = box.addButton("Cancel Job and Quit", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep Running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is quit_button and self._may_drop_edits()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.may_quit():
            event.ignore()
            return
        self.ctx.settings.save_window(self.saveGeometry(), self.saveState())
        self.ctx.settings.set_value("window/panel", self.nav.currentRow())
        if not self.ctx.runner.shutdown(5000):
            log.warning("some jobs were still running when the window closed")
        super().closeEvent(event)
