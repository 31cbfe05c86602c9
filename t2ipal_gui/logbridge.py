"""A logging handler that forwards records (from any thread) to the GUI thread, keeping a short backlog."""

from __future__ import annotations

import collections
import logging

from PySide6.QtCore import QObject, Signal

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """One line per record; a traceback goes to `record.details` (shown on request), never into the line."""

    def format(self, record: logging.LogRecord) -> str:
        details = self.formatException(record.exc_info) if record.exc_info else (record.exc_text or "")
        record.details = details  # type: ignore[attr-defined]
        line = self._line(record)
        return line + ("  [details]" if details else "")

    def _line(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        return self.formatMessage(record).splitlines()[0]


class _Emitter(QObject):
    record = Signal(object)


class QtLogHandler(logging.Handler):
    """Emits `emitter.record(LogRecord)`; connect a GUI-thread slot (queued) to show records."""

    def __init__(self, backlog: int = 2000) -> None:
        super().__init__(logging.DEBUG)
        self.emitter = _Emitter()
        self.backlog: collections.deque[logging.LogRecord] = collections.deque(maxlen=backlog)
        self.setFormatter(OneLineFormatter(FORMAT, datefmt="%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.formatted = self.format(record)  # type: ignore[attr-defined]
            self.backlog.append(record)
            self.emitter.record.emit(record)
        except RuntimeError:  # the emitter was deleted while the app shuts down
            pass
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


_HANDLER: QtLogHandler | None = None


def install(level: int = logging.INFO) -> QtLogHandler:
    """Attach one handler to the root logger (idempotent); engine loggers propagate to it."""
    global _HANDLER
    if _HANDLER is None:
        _HANDLER = QtLogHandler()
        root = logging.getLogger()
        root.addHandler(_HANDLER)
        if root.level > level or root.level == logging.NOTSET:
            root.setLevel(level)
    for name in ("engine", "t2ipal_gui"):  # every call: another front end may have raised them meanwhile
        logging.getLogger(name).setLevel(level)
    for noisy in ("PIL", "urllib3", "httpx", "filelock", "huggingface_hub", "onnxscript"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return _HANDLER


def handler() -> QtLogHandler:
    return install()
