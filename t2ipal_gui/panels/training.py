"""Training panel: backbone, variant, epochs; start / cancel / resume; live loss and held-out mAP; result summary."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import api
from engine.api import weights
from engine.clip.config import VARIANTS, BackboneConfig, ModelConfig
from engine.errors import ConfigError, EngineError
from engine.progress import ProgressEvent
from engine.training.config import TrainConfig
from t2ipal_gui.panels.base import Panel
from t2ipal_gui.pipeline import TrainingSettings
from t2ipal_gui.plots import LabelBars, TrainingPlot
from t2ipal_gui.widgets import JobRow, format_duration
from t2ipal_gui.workers import Job

log = logging.getLogger(__name__)


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
        self.demo_button = QPushButton("Use the demo CLIP")
        self.demo_button.setObjectName("useDemoClip")
        self.demo_button.setToolTip("The demo world's small CLIP: works offline, knows only the demo world's words")
        self.demo_button.clicked.connect(self._use_demo_clip)
        self.clip_hint = QLabel()
        self.clip_hint.setObjectName("clipHint")
        self.clip_hint.setProperty("role", "subtitle")
        self.clip_hint.setWordWrap(True)
        form = QFormLayout()
        form.addRow("CLIP backbone:", self.clip_model)
        form.addRow("Weights:", self.pretrained)
        form.addRow("Variant:", self.variant)
        form.addRow("Epochs:", self.epochs)
        form.addRow("", self.demo_button)
        form.addRow(self.clip_hint)
        for w in (self.clip_model, self.pretrained):
            w.textChanged.connect(lambda *_: self._sync())
        self.variant.currentTextChanged.connect(lambda *_: self._sync())
        self.epochs.valueChanged.connect(lambda *_: self._sync())
        self.job_row = JobRow("Start / resume training", unit="steps")
        self.job_row.start_clicked.connect(self.start)
        self.export_row = JobRow("Export to ONNX", unit="steps")
        self.export_row.start_clicked.connect(self.export)
        self.export_row.start.setEnabled(False)
        self.plot = TrainingPlot()
        self.summary = QLabel()
        self.summary.setObjectName("trainingSummary")
        self.summary.setWordWrap(True)
        self.per_label = LabelBars()
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(self.plot, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.per_label, 1)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top, 3)  # stretch factors: the rows below keep their height, the plot never overlaps
        layout.addWidget(self.job_row, 0)
        layout.addWidget(self.export_row, 0)
        layout.addLayout(bottom, 2)
        self._sync()

    def options(self) -> TrainingSettings:
        prefs = self.ctx.settings.preferences()
        defaults = BackboneConfig()
        name = self.clip_model.text().strip() or defaults.model_name
        if name == weights.DEMO_CLIP:  # the demo CLIP comes with its own word tokenizer
            backbone = weights.demo_clip_config()
        else:
            backbone = BackboneConfig(model_name=name, pretrained=self.pretrained.text().strip() or None)
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
        self.per_label.set_values({}, "AP")
        self.job_row.reset()
        self.export_row.reset()
        self.export_row.start.setEnabled(False)

    def refresh(self) -> None:
        """What the project's own model is: trained / exported, held-out mAP, per-label AP or thresholds."""
        status = api.model_status(self.active_project)
        self._offer_demo()
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
        self.per_label.set_values(values, heading)

    def _use_demo_clip(self) -> None:
        self.clip_model.setText(weights.DEMO_CLIP)
        self.pretrained.setText("")

    def _offer_demo(self) -> None:
        """The demo CLIP is offered for the demo world's labels only; otherwise say what to fetch."""
        try:
            names = list(api.load_labels(self.active_project).names)
        except EngineError:
            names = []
        demo = weights.demo_labels_only(names)
        self.demo_button.setVisible(demo)
        self.clip_hint.setText(
            "" if demo or not names else
            f"Training needs CLIP weights ({self.clip_model.text().strip() or 'RN50'}). If they are not on this "
            "computer yet, fetch them in Preferences → Manage Models… on a connected machine.")
