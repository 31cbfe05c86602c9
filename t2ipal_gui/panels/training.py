"""Training panel: backbone, variant, epochs; start / cancel / resume; live loss and held-out mAP; result summary."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import api
from engine.clip.config import VARIANTS, BackboneConfig, ModelConfig
from engine.errors import ConfigError
from engine.progress import ProgressEvent
from engine.training.config import TrainConfig
from t2ipal_gui.panels.base import Panel
from t2ipal_gui.pipeline import TrainingSettings
from t2ipal_gui.widgets import JobRow, format_duration
from t2ipal_gui.workers import Job

log = logging.getLogger(__name__)


class PlotWidget(QWidget):
    """Two series on shared x (epochs): loss (left scale) and held-out mAP (right scale, 0-100)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPlot")
        self.setMinimumHeight(180)
        self.loss: list[tuple[float, float]] = []
        self.map: list[tuple[float, float]] = []

    def clear(self) -> None:
        self.loss.clear()
        self.map.clear()
        self.update()

    def add(self, x: float, loss: float | None, heldout_map: float | None) -> None:
        if loss is not None:
            self.loss.append((x, loss))
        if heldout_map is not None:
            self.map.append((x, heldout_map))
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        r = self.rect().adjusted(44, 12, -44, -24)
        p.fillRect(self.rect(), pal.base())
        p.setPen(QPen(pal.mid().color()))
        p.drawRect(r)
        p.setPen(pal.text().color())
        if not self.loss and not self.map:
            text = "Loss and held-out mAP appear here while training runs"
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, text)
            return
        xs = [x for x, _ in self.loss + self.map]
        x0, x1 = min(xs), max(max(xs), min(xs) + 1e-9)
        lmax = max((v for _, v in self.loss), default=1.0) or 1.0

        def pt(x: float, y: float, ymax: float) -> QPointF:
            return QPointF(r.left() + (x - x0) / (x1 - x0) * r.width(), r.bottom() - y / ymax * r.height())

        for series, ymax, colour in ((self.loss, lmax, "#3d7be0"), (self.map, 100.0, "#e0803d")):
            if series:
                p.setPen(QPen(QColor(colour), 2))
                p.drawPolyline(QPolygonF([pt(x, y, ymax) for x, y in series]))
        p.setPen(QColor("#3d7be0"))
        p.drawText(4, r.top() + 10, f"{lmax:.3g}")
        p.drawText(4, r.bottom(), "loss")
        p.setPen(QColor("#e0803d"))
        p.drawText(r.right() + 6, r.top() + 10, "100")
        p.drawText(r.right() + 6, r.bottom(), "mAP")
        p.setPen(pal.text().color())
        p.drawText(r.left(), r.bottom() + 16, f"epoch {x0:.0f}")
        p.drawText(r.right() - 60, r.bottom() + 16, f"epoch {x1:.0f}")


class TrainingPanel(Panel):
    title = "Training"
    subtitle = (
        "Learn T2I-PAL prompts and the prototype adapter on a frozen CLIP. Cancel any time; start again to resume."
    )

    def build(self, content: QWidget) -> None:
        prefs = self.ctx.settings.preferences()
        self.clip_model = QLineEdit(prefs.clip_model)
        self.pretrained = QLineEdit(prefs.clip_pretrained)
        self.variant = QComboBox()
        self.variant.addItems(list(VARIANTS))
        self.variant.setCurrentText(ModelConfig().variant)
        self.epochs = QSpinBox(minimum=1, maximum=500, value=TrainConfig().epochs)
        form = QFormLayout()
        form.addRow("CLIP backbone:", self.clip_model)
        form.addRow("Weights:", self.pretrained)
        form.addRow("Variant:", self.variant)
        form.addRow("Epochs:", self.epochs)
        for w in (self.clip_model, self.pretrained):
            w.textChanged.connect(lambda *_: self._sync())
        self.variant.currentTextChanged.connect(lambda *_: self._sync())
        self.epochs.valueChanged.connect(lambda *_: self._sync())
        self.job_row = JobRow("Start / resume training", unit="steps")
        self.job_row.start_clicked.connect(self.start)
        self.export_row = JobRow("Export to ONNX", unit="steps")
        self.export_row.start_clicked.connect(self.export)
        self.export_row.start.setEnabled(False)
        self.plot = PlotWidget()
        self.summary = QLabel()
        self.summary.setObjectName("trainingSummary")
        self.summary.setWordWrap(True)
        self.per_label = QTableWidget(0, 2)
        self.per_label.setHorizontalHeaderLabels(["Label", "Threshold"])
        self.per_label.verticalHeader().setVisible(False)
        self.per_label.horizontalHeader().setStretchLastSection(True)
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(self.plot, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.per_label, 1)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top, 2)
        layout.addWidget(self.job_row)
        layout.addWidget(self.export_row)
        layout.addLayout(bottom, 1)
        self._sync()

    def options(self) -> TrainingSettings:
        prefs = self.ctx.settings.preferences()
        defaults = BackboneConfig()
        backbone = BackboneConfig(model_name=self.clip_model.text().strip() or defaults.model_name,
                                  pretrained=self.pretrained.text().strip() or None)
        return TrainingSettings(backbone, ModelConfig(variant=self.variant.currentText()),
                                TrainConfig(epochs=self.epochs.value()), prefs.device)

    def _sync(self) -> None:
        try:
            self.ctx.training_options = self.options()
        except ConfigError:  # a value the engine refuses (reported when training starts)
            self.ctx.training_options = None

    def depends_on(self) -> tuple[str, ...]:
        return ("model", "labels")

    def reset(self) -> None:
        self.plot.clear()
        self.summary.setText("")
        self.per_label.setRowCount(0)
        self.job_row.reset()
        self.export_row.reset()
        self.export_row.start.setEnabled(False)

    def refresh(self) -> None:
        """What the project's own model is: trained / exported, held-out mAP, per-label AP or thresholds."""
        status = api.model_status(self.active_project)
        self.summary.setText(status.describe())
        self.export_row.start.setEnabled(status.trained and not self.export_row.running)
        self.export_row.start.setToolTip("" if status.trained else "Train a model first")
        per_ap = status.summary.get("per_label_ap") or {}
        self._fill_per_label(per_ap or status.thresholds, "AP" if per_ap else "Threshold")
        if not self.plot.loss and not self.plot.map:
            for rec in status.summary.get("history") or []:
                self.plot.add(rec.get("epoch", 0), rec.get("loss"), rec.get("heldout_map"))

    def start(self, options: TrainingSettings | None = None) -> Job | None:
        try:
            settings = options or self.options()
        except ConfigError as exc:
            self.ctx.report(exc, "Training")
            return None
        self.plot.clear()
        job = self.ctx.runner.start(settings.run(self.active_project), name="Training")
        self.job_row.bind(job)
        job.progress.connect(self.for_this_project(self._progress))
        job.finished.connect(self.for_this_project(self.show_result))
        return job

    def export(self) -> Job:
        """Export the trained model to the project's ONNX file, the one the Tagging panel uses."""
        job = self.ctx.runner.start(api.export, self.active_project, name="ONNX export")
        self.export_row.bind(job)
        job.finished.connect(self.for_this_project(lambda _r: self.ctx.data_changed.emit("model")))
        return job

    def _progress(self, event: ProgressEvent) -> None:
        m = event.metrics
        if event.message == "epoch done" and "epoch" in m:
            self.plot.add(m["epoch"], m.get("loss"), m.get("heldout_map"))

    def show_result(self, result: Any) -> None:  # TrainResult
        self.ctx.data_changed.emit("model")  # the model status first, then this run's details over it
        held = f"{result.heldout_map:.1f}" if result.heldout_map is not None else "n/a"
        self.summary.setText(
            f"<b>Best epoch {result.best_epoch}</b> · held-out mAP {held} ({result.heldout_branch or '–'})"
            f" · {format_duration(result.seconds)}<br>Model folder: {result.model_dir}"
        )
        if not self.plot.loss:
            for rec in result.history:
                self.plot.add(rec.get("epoch", 0), rec.get("loss"), rec.get("heldout_map"))

    def _fill_per_label(self, values: dict[str, float], heading: str) -> None:
        self.per_label.setHorizontalHeaderLabels(["Label", heading])
        self.per_label.setRowCount(len(values))
        for row, (name, value) in enumerate(values.items()):
            self.per_label.setItem(row, 0, QTableWidgetItem(name))
            self.per_label.setItem(row, 1, QTableWidgetItem(f"{value:.2f}"))
