"""One click: a strip that runs synthesis → training → export → (optionally) tagging in the background."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget

from engine.errors import EngineError
from engine.progress import ProgressEvent
from t2ipal_gui import pipeline
from t2ipal_gui.context import AppContext
from t2ipal_gui.dialogs import confirm as ask
from t2ipal_gui.widgets import describe_event
from t2ipal_gui.workers import Job

STAGES = ("synthesis", "training", "export", "tagging")
TITLES = {"synthesis": "Synthesis", "training": "Training", "export": "Export", "tagging": "Tagging"}


class OneClickBar(QFrame):
    """Shows which stage runs; the stage of each progress event is `pipeline:<stage>`."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job: Job | None = None
        self.last_plan: pipeline.Plan | None = None  # the plan shown before the last start
        self.setObjectName("oneClickBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.run = QPushButton("▶  Run all steps")
        self.run.setObjectName("runAll")
        self.run.setProperty("role", "primary")
        self.run.setToolTip("Synthesis → training → ONNX export → tagging, one after the other, in the background")
        self.run.clicked.connect(self.start)
        self.cancel = QPushButton("Cancel")
        self.cancel.setVisible(False)
        self.cancel.clicked.connect(self._cancel)
        self.with_tagging = QCheckBox("and tag folders")
        self.with_tagging.setChecked(True)
        self.chips: dict[str, QLabel] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        row.addWidget(self.run)
        row.addWidget(self.cancel)
        row.addWidget(self.with_tagging)
        row.addSpacing(12)
        for i, stage in enumerate(STAGES):
            if i:
                arrow = QLabel("›")
                arrow.setProperty("role", "subtitle")
                row.addWidget(arrow)
            chip = QLabel(TITLES[stage])
            chip.setObjectName(f"stage_{stage}")
            chip.setProperty("role", "subtitle")
            self.chips[stage] = chip
            row.addWidget(chip)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(140)
        self.bar.setMaximumHeight(12)
        self.status = QLabel("")
        self.status.setProperty("role", "subtitle")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addSpacing(12)
        row.addWidget(self.bar)
        row.addWidget(self.status, 1)
        self.bar.hide()
        self.current = ""
        ctx.project_changed.connect(lambda _p: self._project_changed())
        ctx.runner.job_started.connect(self._job_started)

    def start(self) -> None:
        if self.job is not None and self.job.is_running:
            return
        ctx = self.ctx
        if ctx.project is None:
            ctx.report(RuntimeError("open or create a project first (File → New Project…)"), "Run all steps")
            return
        try:
            plan = pipeline.plan_for(ctx.project, ctx.synthesis_options, ctx.training_options, ctx.tag_folders,
                                     tag=self.with_tagging.isChecked())
        except EngineError as exc:
            ctx.report(exc, "Run all steps")
            return
        self.last_plan = plan
        if not ask.confirm(self, "Run all steps", "Run these steps one after the other, in the background?",
                           "Start", informative=plan.describe()):
            return
        self.job = self.ctx.runner.start(pipeline.run_all, plan, name="Run all steps")
        self.run.setVisible(False)
        self.cancel.setVisible(True)
        self.bar.show()
        self.job.progress.connect(self._progress)
        self.job.done.connect(self._done)

    def _job_started(self, job: object) -> None:
        """Another job (from a panel) makes the last run's "Cancelled" or "Failed" old news."""
        if job is not self.job:
            self.status.setText("")

    def _project_changed(self) -> None:
        if self.job is None or not self.job.is_running:
            self.status.setText("")

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _set_stage(self, stage: str) -> None:
        self.current = stage
        for name, chip in self.chips.items():
            active = name == stage
            chip.setProperty("role", "stage" if active else "subtitle")
            chip.setText(("● " if active else "") + TITLES[name])
            chip.style().unpolish(chip)
            chip.style().polish(chip)

    def _progress(self, event: ProgressEvent) -> None:
        stage = event.stage.split(":", 1)[1] if event.stage.startswith("pipeline:") else event.stage
        stage = stage.split("/")[0]
        if stage in self.chips and stage != self.current:
            self._set_stage(stage)
        if event.fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(event.fraction * 1000))
        self.status.setText(describe_event(event))

    def _done(self) -> None:
        state = self.job.state if self.job else ""
        self.run.setVisible(True)
        self.cancel.setVisible(False)
        self.bar.hide()
        self._set_stage("")
        self.status.setText({"finished": "All steps done", "cancelled": "Cancelled", "failed": "Failed"}.get(state, ""))
        self._refresh_panels()

    def _refresh_panels(self) -> None:
        """After any outcome: a cancelled or failed run keeps what its finished stages made, and the panels show it."""
        for area in ("synthesis", "model", "tags"):
            self.ctx.data_changed.emit(area)
