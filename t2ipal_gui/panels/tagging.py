"""Tagging panel: the project's own exported model, folders (also by drag and drop), start / cancel, images/s, ETA."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
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

from engine import api
from engine.api import ModelStatus
from engine.project import Project
from t2ipal_gui.panels.base import Panel
from t2ipal_gui.pipeline import tag_stage
from t2ipal_gui.widgets import JobRow, format_duration
from t2ipal_gui.workers import Job

log = logging.getLogger(__name__)
SHOW_LABELS = 5  # labels named next to the model


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
        text = str(Path(path))
        if not Path(text).is_dir() or text in self.folders():
            return False
        self.addItem(text)
        self.changed.emit()
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        added = [self.add_folder(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if any(added):
            event.acceptProposedAction()


class TaggingPanel(Panel):
    title = "Tagging"
    subtitle = (
        "Tag photo folders with the project's exported model. Drop folders here; a re-run only reads new or changed "
        "files."
    )

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
        self.model_text = QLabel()
        self.model_text.setObjectName("taggingModel")
        self.model_text.setWordWrap(True)
        self.model_text.setToolTip("Every project tags with its own model: train and export it in the Training panel")
        self.model_ready = False
        form = QFormLayout()
        form.addRow("Model:", self.model_text)
        form.addRow("Advanced:", self._ray_row())
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

    def _ray_row(self) -> QWidget:
        """Run on a Ray cluster (needs the `cluster` extra); empty address: a local Ray instance."""
        self.on_ray = QCheckBox("Run on a Ray cluster")
        self.on_ray.setObjectName("tagOnRay")
        self.on_ray.setToolTip("Tag an archive across machines with Ray (pip install \"t2ipal-tagger[cluster]\"); "
                               "see docs/cluster.md")
        self.ray_address = QLineEdit()
        self.ray_address.setObjectName("rayAddress")
        self.ray_address.setPlaceholderText("address: auto, ray://head:10001, or empty for a local Ray")
        self.ray_address.setEnabled(False)
        self.on_ray.toggled.connect(self.ray_address.setEnabled)
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.on_ray)
        line.addWidget(self.ray_address, 1)
        return row

    def _add_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.folders.add_folder(folder)

    def _remove(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self._update_buttons()

    def _update_buttons(self) -> None:
        folders = self.folders.folders()
        if self.project is not None and folders != self.ctx.tag_folders:
            api.set_tag_folders(self.project, folders)
        self.ctx.tag_folders = folders
        self.job_row.start.setEnabled(self.model_ready and bool(self.folders.count()) and not self.job_row.running)

    def reset(self) -> None:
        self.folders.clear()
        self.summary.setText("")
        self.model_text.setText("")
        self.model_ready = False
        self.job_row.reset()
        self._update_buttons()

    def refresh(self) -> None:
        project = self.active_project
        if not self.folders.count():
            for folder in api.tag_folders(project):
                self.folders.add_folder(str(folder))
        status = api.model_status(project)
        self.model_ready = status.exported and status.labels_match
        self.model_text.setText(describe_model(project, status))
        self._update_buttons()

    def depends_on(self) -> tuple[str, ...]:
        return ("model", "labels")

    def start(self) -> Job | None:
        folders = self.folders.folders()
        if not folders or not self.model_ready:
            self.ctx.report(ValueError("add at least one folder, and export the project's model first"), "Tagging")
            return None
        address = self.ray_address.text().strip() if self.on_ray.isChecked() else None
        job = self.ctx.runner.start(tag_stage(self.active_project, folders, address),
                                    name="Tagging on Ray" if address is not None else "Tagging")
        self.job_row.bind(job)
        self.summary.setText("")
        job.finished.connect(self.for_this_project(self._finished))
        # a cancelled or failed run keeps the batches it wrote: Browse shows them either way
        job.done.connect(self.for_this_project(lambda: self.ctx.data_changed.emit("tags")))
        return job

    def _finished(self, result: Any) -> None:  # TagRunResult
        self.summary.setText(
            f"Tagged {result.tagged} images ({result.skipped - result.still_unreadable} unchanged, "
            f"{result.unreadable} unreadable, "
            f"{result.missing} gone) in {format_duration(result.elapsed_s)} — {result.images_per_s:.1f} images/s."
        )


def describe_model(project: Project, status: ModelStatus) -> str:
    """One line on the project's model: its file, backbone and labels, or what to do to get one."""
    if not status.exported or status.record.onnx_path is None:
        if status.trained:
            return "The trained model is not exported yet: export it in the Training panel."
        return "No exported model yet: train and export one in the Training panel."
    path = status.record.onnx_path
    try:
        shown = str(path.relative_to(project.root))
    except ValueError:
        shown = str(path)
    labels = status.record.labels
    named = ", ".join(labels[:SHOW_LABELS]) + (", …" if len(labels) > SHOW_LABELS else "")
    count = f"{len(labels)} label{'s' if len(labels) != 1 else ''}" + (f": {named}" if labels else "")
    text = f"{shown} ({', '.join(filter(None, [status.backbone, count]))})"
    if not status.labels_match:
        text += " — the label set changed since training: retrain and export before tagging."
    return text
