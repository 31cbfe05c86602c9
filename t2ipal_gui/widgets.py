"""Small reusable widgets: a job progress row (start / cancel / progress / ETA) and the status-bar job view."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from engine.progress import ProgressEvent
from t2ipal_gui.workers import Job, JobRunner


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def describe_event(event: ProgressEvent, unit: str = "it") -> str:
    parts = [event.stage]
    if event.total:
        parts.append(f"{event.done}/{event.total}")
    elif event.done:
        parts.append(str(event.done))
    if event.rate:
        parts.append(f"{event.rate:.3g} {unit}/s")
    if event.eta_s is not None:
        parts.append(f"ETA {format_duration(event.eta_s)}")
    if event.message:
        parts.append(event.message)
    return " · ".join(parts)


class JobRow(QWidget):
    """Start / Cancel buttons, a progress bar and a status line bound to one job at a time."""

    start_clicked = Signal()

    def __init__(self, start_text: str = "Start", unit: str = "it", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.unit = unit
        self.job: Job | None = None
        self.start = QPushButton(start_text)
        self.start.setProperty("role", "primary")
        self.start.clicked.connect(self.start_clicked)
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.bar.setMinimumWidth(160)
        self.status = QLabel("Idle")
        self.status.setProperty("role", "subtitle")
        self.status.setMinimumWidth(160)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.start)
        row.addWidget(self.cancel)
        row.addWidget(self.bar, 1)
        row.addWidget(self.status, 2)

    def bind(self, job: Job) -> Job:
        self.job = job
        self.start.setEnabled(False)
        self.cancel.setEnabled(True)
        self.bar.setRange(0, 0)  # busy until the first event with a total
        self.status.setText("Starting…")
        job.progress.connect(lambda e, j=job: self._progress(e) if j is self.job else None)
        job.finished.connect(lambda _r, j=job: self._end(j, "Done"))
        job.failed.connect(lambda e, j=job: self._end(j, f"Failed: {type(e).__name__}"))
        job.cancelled.connect(lambda j=job: self._end(j, "Cancelled — start again to resume"))
        return job

    def reset(self) -> None:
        """Forget the bound job (another project was opened): its outcome no longer shows here."""
        self.job = None
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.status.setText("Idle")
        self.start.setEnabled(True)
        self.cancel.setEnabled(False)

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.is_running

    def _progress(self, event: ProgressEvent) -> None:
        fraction = event.fraction
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))
        self.status.setText(describe_event(event, self.unit))

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling…")
            self.cancel.setEnabled(False)

    def _end(self, job: Job, text: str) -> None:
        if job is not self.job:
            return
        self.bar.setRange(0, 1000)
        self.bar.setValue(1000 if text == "Done" else self.bar.value())
        self.status.setText(text)
        self.start.setEnabled(True)
        self.cancel.setEnabled(False)


class JobStatus(QWidget):
    """Status-bar view of the most recent running job with a Cancel button."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.job: Job | None = None
        self.label = QLabel("Ready")
        self.label.setMaximumWidth(520)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(180)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("statusCancel")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel)
        self.cancel.clicked.connect(self._cancel)
        runner.job_started.connect(self._track)
        runner.job_ended.connect(self._ended)
        self._idle()

    def _track(self, job: Job) -> None:
        self.job = job
        self.label.setText(f"{job.name}…")
        self.bar.setRange(0, 0)
        self.bar.show()
        self.cancel.show()
        self.cancel.setEnabled(True)
        job.progress.connect(lambda e, j=job: self._progress(j, e))

    def _progress(self, job: Job, event: ProgressEvent) -> None:
        if job is not self.job:
            return
        if event.fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(event.fraction * 1000))
        self.label.setText(f"{job.name}: {describe_event(event)}")

    def _ended(self, job: Job) -> None:
        if job is self.job:
            running = self.runner.running()
            if running:
                self._track(running[-1])
            else:
                self._idle(f"{job.name}: {job.state}")

    def _idle(self, text: str = "Ready") -> None:
        self.job = None
        self.label.setText(text)
        self.bar.hide()
        self.cancel.hide()

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel.setEnabled(False)
            self.label.setText(f"{self.job.name}: cancelling…")
