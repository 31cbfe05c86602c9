"""Training panel: backbone, variant, epochs; start / cancel / resume; live loss and held-out mAP; result summary."""

from __future__ import annotations

import logging

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
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

from engine.progress import ProgressEvent
from t2ipal_gui.jobs import TrainingOptions, run_export, run_training
from t2ipal_gui.panels.base import Panel
from t2ipal_gui.widgets import JobRow, format_duration

log = logging.getLogger(__name__)
VARIANTS = ("t2ipal", "zeroshot", "taidpt", "t2i", "t2ipal_noadapter", "t2ipal_global_adapter")


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

    def paintEvent(self, _event) -> None:  # noqa: N802, ANN001
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
    parts = ("captions", "synthesis", "training")

    def build(self, content: QWidget) -> None:
        prefs = self.ctx.settings.preferences()
        self.clip_model = QLineEdit(prefs.clip_model)
        self.pretrained = QLineEdit(prefs.clip_pretrained)
        self.variant = QComboBox()
        self.variant.addItems(VARIANTS)
        self.epochs = QSpinBox(minimum=1, maximum=500, value=10)
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
        self.plot = PlotWidget()
        self.summary = QLabel("No model trained yet.")
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

    def options(self) -> TrainingOptions:
        prefs = self.ctx.settings.preferences()
        return TrainingOptions(self.clip_model.text().strip() or "RN50", self.pretrained.text().strip() or None,
                               self.variant.currentText(), self.epochs.value(), prefs.device)

    def _sync(self) -> None:
        self.ctx.training_options = self.options()

    def start(self, options: TrainingOptions | None = None):  # noqa: ANN201 - Job
        self.plot.clear()
        job = self.ctx.runner.start(run_training, self.project, options or self.options(), name="Training")
        self.job_row.bind(job)
        job.progress.connect(self._progress)
        job.finished.connect(self.show_result)
        return job

    def export(self):  # noqa: ANN201 - Job
        """Export the trained model to exports/model.onnx, the file the Tagging panel uses."""
        job = self.ctx.runner.start(run_export, self.project, name="ONNX export")
        self.export_row.bind(job)
        job.finished.connect(lambda _r: self.ctx.data_changed.emit("model"))
        return job

    def _progress(self, event: ProgressEvent) -> None:
        m = event.metrics
        if event.message == "epoch done" and "epoch" in m:
            self.plot.add(m["epoch"], m.get("loss"), m.get("heldout_map"))

    def show_result(self, result) -> None:  # noqa: ANN001 - TrainResult
        held = f"{result.heldout_map:.1f}" if result.heldout_map is not None else "n/a"
        self.summary.setText(
            f"<b>Best epoch {result.best_epoch}</b> · held-out mAP {held} ({result.heldout_branch or '–'})"
            f" · {format_duration(result.seconds)}<br>Model folder: {result.model_dir}"
        )
        if not self.plot.loss:
            for rec in result.history:
                self.plot.add(rec.get("epoch", 0), rec.get("loss"), rec.get("heldout_map"))
        self._fill_per_label(result)
        self.ctx.data_changed.emit("model")

    def _fill_per_label(self, result) -> None:  # noqa: ANN001
        per_ap = result.extra.get("per_label_ap") if isinstance(result.extra, dict) else None
        names = list(self.ctx.project and _label_names(self.ctx.project) or [])
        self.per_label.setHorizontalHeaderLabels(["Label", "AP" if per_ap else "Threshold"])
        values = per_ap or dict(zip(names, result.thresholds, strict=False))
        self.per_label.setRowCount(len(values))
        for row, (name, value) in enumerate(values.items()):
            self.per_label.setItem(row, 0, QTableWidgetItem(name))
            self.per_label.setItem(row, 1, QTableWidgetItem(f"{value:.2f}"))


def _label_names(project) -> list[str]:  # noqa: ANN001
    from engine.training.project_data import load_project_labelset

    try:
        return list(load_project_labelset(project).names)
    except Exception:  # noqa: BLE001
        return []
