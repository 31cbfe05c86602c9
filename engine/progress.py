"""Progress events, the callback protocol, and the cooperative cancel token used by every job."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.errors import Cancelled


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report: `done` of `total` units of `stage`, with an optional message."""

    stage: str
    done: int
    total: int | None = None
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    rate: float | None = None  # units per second, when known
    eta_s: float | None = None  # seconds left, when known

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[ProgressEvent], None]


class CancelToken:
    """Thread-safe flag a job polls between steps; `raise_if_set` raises `Cancelled`."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    cancel = set

    def is_set(self) -> bool:
        return self._event.is_set()

    def raise_if_set(self) -> None:
        if self._event.is_set():
            raise Cancelled("the job was cancelled; run it again to resume where it stopped")


def check_cancel(cancel: CancelToken | None) -> None:
    """Raise `Cancelled` when a token is given and set."""
    if cancel is not None:
        cancel.raise_if_set()


class ProgressReporter:
    """Wraps an optional callback: counts units, computes rate and ETA, and throttles reports."""

    def __init__(
        self,
        callback: ProgressCallback | None,
        stage: str,
        total: int | None = None,
        *,
        min_interval_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.callback = callback
        self.stage = stage
        self.total = total
        self.done = 0
        self._clock = clock
        self._start = clock()
        self._last = -1e9
        self._min_interval = min_interval_s

    def advance(self, n: int = 1, message: str = "", metrics: dict[str, float] | None = None) -> None:
        self.done += n
        self.report(message, metrics, force=self.total is not None and self.done >= self.total)

    def report(self, message: str = "", metrics: dict[str, float] | None = None, *, force: bool = False) -> None:
        if self.callback is None:
            return
        now = self._clock()
        if not force and now - self._last < self._min_interval:
            return
        self._last = now
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed if self.done else None
        eta = None
        if rate and self.total is not None:
            eta = max(0.0, (self.total - self.done) / rate)
        self.callback(
            ProgressEvent(self.stage, self.done, self.total, message, dict(metrics or {}), rate, eta)
        )
