"""The one GUI bridge: runs engine callables on a QThreadPool and turns their callbacks into Qt signals."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from engine.errors import Cancelled
from engine.progress import CancelToken, ProgressEvent

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives in the GUI thread; the pool thread emits here and queued connections hop back."""

    progress = Signal()
    outcome = Signal(str, object)


class Job(QObject):
    """Handle of one background job (Anki's QueryOp shape).

    Signals are always emitted in the GUI thread, so lambdas connected to them are safe.
    `progress(ProgressEvent)` is coalesced: a flood of events never queues up in the event loop.
    Exactly one of `finished(result)`, `failed(exception)`, `cancelled()` follows, then `done()`.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    done = Signal()

    def __init__(self, name: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        super().__init__()
        self.name = name
        self.token = CancelToken()
        self.state = "pending"  # pending -> running -> finished | failed | cancelled
        self.result: Any = None
        self.error: BaseException | None = None
        self.traceback = ""
        self.last_event: ProgressEvent | None = None
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._lock = threading.Lock()
        self._pending_event: ProgressEvent | None = None
        self._relay = _Relay()
        self._relay.progress.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)
        self._relay.outcome.connect(self._deliver_outcome, Qt.ConnectionType.QueuedConnection)

    # -- GUI thread API ----------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the job to stop; it raises `Cancelled` at its next check or progress report."""
        if self.state in ("pending", "running"):
            log.info("cancelling %s", self.name)
            self.token.set()

    @property
    def is_running(self) -> bool:
        return self.state in ("pending", "running")

    # -- pool thread ---------------------------------------------------------------------------
    def _report(self, event: ProgressEvent) -> None:
        self.token.raise_if_set()  # a job that reports progress is cancellable even if it never polls
        with self._lock:
            first = self._pending_event is None
            self._pending_event = event
        if first:
            self._relay.progress.emit()

    def _run(self) -> None:
        self.state = "running"
        try:
            self.token.raise_if_set()
            result = self._fn(*self._args, progress=self._report, cancel=self.token, **self._kwargs)
        except Cancelled as exc:
            self._relay.outcome.emit("cancelled", exc)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the dialog and the log
            self.traceback = "".join(traceback.format_exception(exc))
            self._relay.outcome.emit("failed", exc)
        else:
            self._relay.outcome.emit("cancelled" if self.token.is_set() else "finished", result)

    # -- back in the GUI thread ----------------------------------------------------------------
    @Slot()
    def _deliver_progress(self) -> None:
        with self._lock:
            event, self._pending_event = self._pending_event, None
        if event is not None and self.is_running:
            self.last_event = event
            self.progress.emit(event)

    @Slot(str, object)
    def _deliver_outcome(self, kind: str, payload: Any) -> None:
        self._deliver_progress()
        self.state = kind
        if kind == "finished":
            self.result = payload
            self.finished.emit(payload)
        elif kind == "failed":
            self.error = payload
            log.error("%s failed: %s\n%s", self.name, payload, self.traceback.rstrip())
            self.failed.emit(payload)
        else:
            log.info("%s cancelled", self.name)
            self.cancelled.emit()
        self.done.emit()


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def run(self) -> None:  # pool thread
        self.job._run()


class JobRunner(QObject):
    """Starts jobs on its own thread pool and keeps them alive until they end.

    `job_failed(job, exc)` is the single place failures surface (the main window shows the error
    dialog); `busy_changed(bool)` tells the status bar whether anything runs.
    """

    job_started = Signal(object)
    job_failed = Signal(object, object)
    job_ended = Signal(object)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.jobs: list[Job] = []

    def start(self, fn: Callable[..., Any], *args: Any, name: str | None = None, **kwargs: Any) -> Job:
        """Run `fn(*args, progress=cb, cancel=token, **kwargs)` in the background; return its `Job`."""
        job = Job(name or str(getattr(fn, "__name__", "job")), fn, args, kwargs)
        job.failed.connect(lambda exc, j=job: self.job_failed.emit(j, exc))
        job.done.connect(lambda j=job: self._ended(j))
        was_busy = self.busy
        self.jobs.append(job)
        log.info("starting %s", job.name)
        self.job_started.emit(job)
        if not was_busy:
            self.busy_changed.emit(True)
        self.pool.start(_Runnable(job))
        return job

    @property
    def busy(self) -> bool:
        return any(j.is_running for j in self.jobs)

    def running(self) -> list[Job]:
        return [j for j in self.jobs if j.is_running]

    def cancel_all(self) -> None:
        for job in self.running():
            job.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and wait (bounded) for the pool threads; used when the window closes."""
        self.cancel_all()
        return self.pool.waitForDone(timeout_ms)

    def _ended(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        self.job_ended.emit(job)
        if not self.busy:
            self.busy_changed.emit(False)


def call(fn: Callable[..., Any], *args: Any, progress: Any = None, cancel: Any = None, **kwargs: Any) -> Any:
    """Adapter for engine calls that take no progress/cancel: `runner.start(call, fn, ...)`."""
    if cancel is not None:
        cancel.raise_if_set()
    return fn(*args, **kwargs)
