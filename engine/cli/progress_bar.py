"""tqdm progress bars for CLI jobs (the engine itself never uses tqdm) and Ctrl-C as cancel."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

from engine.progress import CancelToken, ProgressEvent


class TqdmProgress:
    """A progress callback drawing one bar per stage on stderr."""

    def __init__(self, disable: bool = False) -> None:
        self._bars: dict[str, Any] = {}
        self._disable = disable

    def __call__(self, event: ProgressEvent) -> None:
        bar = self._bars.get(event.stage)
        if bar is None:
            bar = tqdm(total=event.total, desc=event.stage, unit="it", disable=self._disable, leave=True)
            self._bars[event.stage] = bar
        if event.total is not None and bar.total != event.total:
            bar.total = event.total
        bar.n = event.done
        postfix = {k: f"{v:.4g}" for k, v in event.metrics.items()}
        if event.message:
            postfix["msg"] = event.message
        bar.set_postfix(postfix, refresh=False)
        bar.refresh()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


@contextmanager
def cli_job(disable_bar: bool = False) -> Iterator[tuple[TqdmProgress, CancelToken]]:
    """Yields (progress, cancel); the first Ctrl-C sets cancel so the job stops cleanly."""
    progress = TqdmProgress(disable_bar)
    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)

    def _on_sigint(signum: int, frame: Any) -> None:
        if cancel.is_set():
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        cancel.set()

    signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield progress, cancel
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.close()
