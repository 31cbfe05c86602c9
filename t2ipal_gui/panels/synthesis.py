"""Synthesis panel: model id or folder, steps, CFG, images per caption; start / cancel with ETA; preview per label."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import api
from engine.api import weights
from engine.errors import EngineError
from engine.synthesis import SynthesisConfig, available_backends
from engine.synthesis.diffusers_backend import DiffusersConfig
from t2ipal_gui.dialogs import confirm as ask
from t2ipal_gui.models.thumbnails import ThumbnailModel
from t2ipal_gui.panels.base import Panel
from t2ipal_gui.pipeline import SynthesisSettings
from t2ipal_gui.widgets import JobRow, format_duration
from t2ipal_gui.workers import Job

log = logging.getLogger(__name__)
DEMO_REFUSED = ("The demo renderer draws only the demo world's shapes. For your labels, fetch a text-to-image model "
                "(Preferences → Manage Models…) and use the diffusers backend.")


class SynthesisPanel(Panel):
    title = "Synthesis"
    subtitle = "Render images from your captions with a text-to-image model; delete the bad ones before training."

    def build(self, content: QWidget) -> None:
        prefs = self.ctx.settings.preferences()
        diffusers, run = DiffusersConfig(), SynthesisConfig()
        self.backend = QComboBox()
        self.backend.addItems(available_backends())
        self.backend.setCurrentText(SynthesisSettings().backend)  # the default; "demo" sorts first
        self.model_id = QLineEdit(prefs.synthesis_model)
        self.model_id.setPlaceholderText("hub id or local diffusers folder")
        self.steps = QSpinBox(minimum=1, maximum=200, value=diffusers.steps)
        self.cfg_scale = QDoubleSpinBox(minimum=0.0, maximum=30.0, value=diffusers.guidance_scale, singleStep=0.5)
        self.per_caption = QSpinBox(minimum=1, maximum=64, value=run.images_per_caption)
        form = QFormLayout()
        form.addRow("Backend:", self.backend)
        form.addRow("Model:", self.model_id)
        form.addRow("Steps:", self.steps)
        form.addRow("Guidance (CFG):", self.cfg_scale)
        form.addRow("Images per caption:", self.per_caption)
        self.backend.currentTextChanged.connect(lambda *_: self._sync())
        self.model_id.textChanged.connect(lambda *_: self._sync())
        for spin in (self.steps, self.cfg_scale, self.per_caption):
            spin.valueChanged.connect(lambda *_: self._sync())
        self.job_row = JobRow("Start synthesis", unit="img")
        self.job_row.start_clicked.connect(self.start)
        self.summary = QLabel()
        self.summary.setProperty("role", "subtitle")
        self.summary.setWordWrap(True)
        self.label_pick = QComboBox()
        self.label_pick.setMinimumWidth(160)
        self.label_pick.currentTextChanged.connect(lambda _t: self._show_label())
        delete = QPushButton("Delete selected")
        delete.setToolTip("Delete bad images (Del); the next run renders replacements")
        delete.clicked.connect(self.delete_selected)
        self.preview_count = QLabel()
        self.preview_count.setProperty("role", "subtitle")
        grid_bar = QHBoxLayout()
        grid_bar.addWidget(QLabel("Preview label:"))
        grid_bar.addWidget(self.label_pick)
        grid_bar.addWidget(self.preview_count, 1)
        grid_bar.addWidget(delete)
        self.model = ThumbnailModel(self, size=96)
        self.grid = QListView()
        self.grid.setObjectName("synthGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setIconSize(QSize(96, 96))
        self.grid.setGridSize(QSize(112, 112))
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setModel(self.model)
        self.empty_grid = QLabel("No synthetic images yet. Press “Start synthesis”.")
        self.empty_grid.setProperty("role", "empty")
        self.empty_grid.setAlignment(Qt.AlignmentFlag.AlignCenter)
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addStretch(1)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.job_row)
        layout.addWidget(self.summary)
        layout.addLayout(grid_bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.empty_grid, 1)
        self.records: list[Any] = []
        self._sync()

    def options(self) -> SynthesisSettings:
        """The backend's options: model / steps / CFG are diffusers settings; other backends take their own."""
        backend = self.backend.currentText() or SynthesisSettings().backend
        options: dict[str, Any] = {}
        if backend == "diffusers":
            options = {"model": self.model_id.text().strip() or None, "steps": self.steps.value(),
                       "guidance_scale": self.cfg_scale.value()}
        return SynthesisSettings(backend, options, SynthesisConfig(images_per_caption=self.per_caption.value()))

    def _sync(self) -> None:
        self.ctx.synthesis_options = self.options()

    def depends_on(self) -> tuple[str, ...]:
        return ("synthesis", "captions", "labels")

    def start(self) -> Job:
        job = self.ctx.runner.start(self.options().run(self.active_project), name="Synthesis")
        self.job_row.bind(job)
        job.finished.connect(self.for_this_project(self._finished))
        return job

    def _finished(self, result: Any) -> None:  # SynthesisResult
        self.summary.setText(f"{result.made} new images, {result.skipped} cached, in {format_duration(result.seconds)}"
                             + (f" — {result.images_per_second:.2f} images/s" if result.made else "")
                             + ("\n" + "\n".join(result.warnings) if result.warnings else ""))
        self.ctx.data_changed.emit("synthesis")

    def reset(self) -> None:
        self.records = []
        self.summary.setText("")
        self.job_row.reset()
        self.label_pick.blockSignals(True)
        self.label_pick.clear()
        self.label_pick.blockSignals(False)
        self.model.set_paths([])

    def _offer_demo(self) -> None:
        """The demo renderer draws only the demo world's shapes: offered for the demo world's labels only."""
        index = self.backend.findText("demo")
        item = self.backend.model().item(index) if index >= 0 else None  # type: ignore[attr-defined]
        if item is None:
            return
        try:
            names = list(api.load_labels(self.active_project).names)
        except EngineError:
            names = []
        ok = weights.demo_labels_only(names)
        item.setEnabled(ok)
        item.setToolTip("" if ok else DEMO_REFUSED)
        if not ok and self.backend.currentText() == "demo":
            self.backend.setCurrentText(SynthesisSettings().backend)

    def refresh(self) -> None:
        self._offer_demo()
        self.records = api.synthetic_images(self.active_project)
        current = self.label_pick.currentText()
        labels = sorted({lab for r in self.records for lab in r.labels})
        self.label_pick.blockSignals(True)
        self.label_pick.clear()
        self.label_pick.addItems(labels)
        if current in labels:
            self.label_pick.setCurrentText(current)
        self.label_pick.blockSignals(False)
        self._show_label()

    def _shown(self) -> list[Any]:
        label = self.label_pick.currentText()
        return [r for r in self.records if label in r.labels]

    def _show_label(self) -> None:
        shown = self._shown()
        project = self.active_project
        paths = [str(api.synthetic_path(project, r)) for r in shown]
        self.model.set_paths(paths, {p: r.caption[:40] for p, r in zip(paths, shown, strict=True)})
        self.preview_count.setText(f"{len(shown)} images" if shown else "")
        self.grid.setVisible(bool(self.records))
        self.empty_grid.setVisible(not self.records)

    def delete_selected(self) -> int:
        rows = sorted({i.row() for i in self.grid.selectionModel().selectedIndexes()})
        shown = self._shown()
        doomed = [shown[r] for r in rows if r < len(shown)]
        if not doomed:
            return 0
        if not ask.confirm(self, "Delete images", f"Delete {len(doomed)} synthetic image"
                           f"{'s' if len(doomed) != 1 else ''}?", "Delete",
                           informative="The next synthesis run renders replacements for them."):
            return 0
        n = api.delete_synthetic(self.active_project, doomed)
        log.info("deleted %d synthetic images", n)
        self.refresh()
        return n

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.grid.hasFocus():
            self.delete_selected()
        else:
            super().keyPressEvent(event)
