"""The bridge: results, failures, cancellation and progress all arrive as GUI-thread signals."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from PySide6.QtCore import QCoreApplication, QThread, QTimer

from engine.errors import InputError
from engine.progress import ProgressEvent
from t2ipal_gui.workers import JobRunner, call


def _add(a, b, *, progress, cancel):
    for i in range(3):
        progress(ProgressEvent("adding", i + 1, 3))
    return a + b


def test_finished_with_result_and_progress_in_gui_thread(qtbot):
    runner = JobRunner()
    threads, events = [], []
    job = runner.start(_add, 2, b=3)
    job.progress.connect(lambda e: (events.append(e), threads.append(QThread.currentThread())))
    with qtbot.waitSignal(job.finished, timeout=5000) as blocker:
        pass
    assert blocker.args == [5]
    assert job.state == "finished" and job.result == 5
    assert events and events[-1].done == 3  # the final event is never dropped by coalescing
    assert all(t is QCoreApplication.instance().thread() for t in threads)
    assert not runner.busy


def test_failure_reaches_job_failed_and_the_log(qtbot, caplog):
    runner = JobRunner()

    def boom(*, progress, cancel):
        raise InputError("folder /nope does not exist")

    failures = []
    runner.job_failed.connect(lambda job, exc: failures.append((job.name, exc)))
    with caplog.at_level(logging.ERROR, logger="t2ipal_gui.workers"):
        job = runner.start(boom, name="scan")
        with qtbot.waitSignal(job.done, timeout=5000):
            pass
    assert job.state == "failed" and isinstance(job.error, InputError)
    assert failures and failures[0][0] == "scan"
    assert "InputError" in job.traceback
    assert any("scan failed" in r.getMessage() for r in caplog.records)


def test_cancel_a_polling_job(qtbot):
    runner = JobRunner()
    started = threading.Event()

    def loop(*, progress, cancel):
        started.set()
        while True:
            cancel.raise_if_set()
            time.sleep(0.005)

    job = runner.start(loop)
    assert started.wait(5)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.cancel()
    assert job.state == "cancelled"


def test_cancel_a_job_that_only_reports_progress(qtbot):
    runner = JobRunner()

    def reporter(*, progress, cancel):
        i = 0
        while True:
            i += 1
            progress(ProgressEvent("busy", i))
            time.sleep(0.002)

    job = runner.start(reporter)
    qtbot.waitUntil(lambda: job.last_event is not None, timeout=5000)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.cancel()


def test_result_of_a_cancelled_job_that_ignores_the_token_is_dropped(qtbot):
    runner = JobRunner()
    gate = threading.Event()

    def stubborn(*, progress, cancel):
        gate.wait(5)
        return "late"

    job = runner.start(stubborn)
    job.cancel()
    gate.set()
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        pass
    assert job.result is None


def test_progress_floods_are_coalesced(qtbot):
    runner = JobRunner()

    def flood(*, progress, cancel):
        for i in range(20000):
            progress(ProgressEvent("flood", i + 1, 20000))
        return "ok"

    seen = []
    job = runner.start(flood)
    job.progress.connect(seen.append)
    with qtbot.waitSignal(job.finished, timeout=10000):
        pass
    assert 1 <= len(seen) < 20000
    assert seen[-1].done == 20000


def test_event_loop_keeps_answering_while_a_job_runs(qtbot):
    """The GUI thread's timer keeps firing while a CPU-bound job holds the GIL in short slices.

    No durations: the job itself waits (busy, up to a generous deadline) until it has seen the event loop
    tick five times while it was running; a job that blocked the GUI thread would never see one.
    """
    runner = JobRunner()
    ticks: list[str] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append("tick"))
    timer.start()

    def busy(*, progress, cancel):
        seen_at_start = len(ticks)
        deadline = time.monotonic() + 60  # only a bound for a broken loop; a healthy one needs ~50 ms
        while len(ticks) - seen_at_start < 5:
            if time.monotonic() > deadline:
                return False
            sum(range(2000))  # CPU work holding the GIL in short slices
        return True

    job = runner.start(busy)
    with qtbot.waitSignal(job.finished, timeout=90000) as blocker:
        pass
    timer.stop()
    assert blocker.args == [True]


def test_call_adapter_and_shutdown_cancels(qtbot):
    runner = JobRunner()
    job = runner.start(call, sorted, [3, 1, 2])
    with qtbot.waitSignal(job.finished, timeout=5000) as blocker:
        pass
    assert blocker.args == [[1, 2, 3]]

    def forever(*, progress, cancel):
        while True:
            cancel.raise_if_set()
            time.sleep(0.01)

    job = runner.start(forever)
    qtbot.waitUntil(lambda: job.state == "running", timeout=5000)
    assert runner.shutdown(5000)


@pytest.mark.parametrize("n", [3])
def test_busy_changed(qtbot, n):
    runner = JobRunner()
    states = []
    runner.busy_changed.connect(states.append)
    jobs = [runner.start(call, time.sleep, 0.05) for _ in range(n)]
    qtbot.waitUntil(lambda: all(j.state == "finished" for j in jobs), timeout=5000)
    qtbot.waitUntil(lambda: states[-1] is False, timeout=5000)
    assert states[0] is True and states.count(True) == 1
