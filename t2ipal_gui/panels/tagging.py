"""Tagging panel: choose folders (also by drag and drop), start / cancel, images/s and ETA."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from t2ipal_gui.panels.base import Panel
from t2ipal_gui.widgets import JobRow, format_duration

log = logging.getLogger(__name__)


class FolderList(QListWidget):
    """A list of folders that accepts folders dropped from the file manager."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("folderList")
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

    def folders(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def add_folder(self, path: str | Path) -> bool:
        path = str(Path(path))
        if not Path(path).is_dir() or path in self.folders():
            return False
        self.addItem(path)
        self.changed.emit()
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802, ANN001
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        added = [self.add_folder(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if any(added):
            event.acceptProposedAction()


class TaggingPanel(Panel):
    title = "Tagging"
    subtitle = "Tag photo folders with the exported model. Drop folders here; a re-run only reads new or changed files."
    parts = ("tagging",)

    def build(self, content: QWidget) -> None:
        self.folders = FolderList()
        self.folders.changed.connect(self._update_buttons)
        add = QPushButton("Add folder…")
        add.clicked.connect(self._add_dialog)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove)
        buttons = QVBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        hint = QLabel("Drag folders from your file manager into the list.")
        hint.setProperty("role", "subtitle")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folders, 1)
        folder_row.addLayout(buttons)
        self.model_path = QLineEdit()
        self.model_path.setPlaceholderText("the project's exported model (exports/*.onnx)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._pick_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_path, 1)
        model_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Model:", model_row)
        self.job_row = JobRow("Start tagging", unit="img")
        self.job_row.start_clicked.connect(self.start)
        self.summary = QLabel()
        self.summary.setObjectName("taggingSummary")
        self.summary.setProperty("role", "subtitle")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Folders to tag:"))
        layout.addLayout(folder_row, 1)
        layout.addWidget(hint)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.job_row)
        layout.addWidget(self.summary)
        self._update_buttons()

    def _add_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.folders.add_folder(folder)

    def _remove(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self._update_buttons()

    def _pick_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an exported model", "", "ONNX models (*.onnx)")
        if path:
            self.model_path.setText(path)

    def _update_buttons(self) -> None:
        self.ctx.tag_folders = self.folders.folders()
        self.job_row.start.setEnabled(bool(self.folders.count()) and not self.job_row.running)

    def refresh(self) -> None:
        onnx = self.project.latest_onnx()
        if onnx is not None and not self.model_path.text():
            self.model_path.setText(str(onnx))
        if not self.model_path.text():
            self.summary.setText("No exported model yet: train one (Training) or choose an .onnx file.")

    def depends_on(self) -> tuple[str, ...]:
        return ("model",)

    def start(self):  # noqa: ANN201 - Job | None
        from engine.tagging.runner import TagConfig, tag_folders

        folders = self.folders.folders()
        model = self.model_path.text().strip()
        if not folders or not model:
            self.ctx.report(ValueError("add at least one folder and choose a model first"), "Tagging")
            return None
        cfg = TagConfig(store_all_scores=True)  # all scores kept so Browse can move thresholds freely
        job = self.ctx.runner.start(tag_folders, folders, model, self.project.db_path, cfg, name="Tagging")
        self.job_row.bind(job)
        self.summary.setText("")
        job.finished.connect(self._finished)
        return job

    def _finished(self, result) -> None:  # noqa: ANN001 - TagRunResult
        self.summary.setText(
            f"Tagged {result.tagged} images ({result.skipped} unchanged, {result.errors} unreadable, "
            f"{result.missing} gone) in {format_duration(result.elapsed_s)} — {result.images_per_s:.1f} images/s."
        )
        self.ctx.data_changed.emit("tags")
