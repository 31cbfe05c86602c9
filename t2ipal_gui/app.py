"""The QApplication: settings, theme, logging into the Log panel, the excepthook, and the main window."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from t2ipal_gui import __version__, logbridge
from t2ipal_gui.settings import APP, ORG, AppSettings, apply_environment

if TYPE_CHECKING:
    from t2ipal_gui.main_window import MainWindow

log = logging.getLogger(__name__)


def build_parser(prog: str = "t2ipal-gui") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Open the T2I-PAL Tagger desktop app.")
    add_arguments(parser)
    parser.add_argument("--version", action="version", version=f"T2I-PAL Tagger {__version__}")
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by `t2ipal-gui` / `python -m t2ipal_gui` and `t2ipal gui`."""
    parser.add_argument("project", nargs="?", help="project folder to open (created with --new)")
    parser.add_argument("--new", action="store_true", help="create the project folder if it does not exist")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="override the theme setting")
    parser.add_argument(
        "--quit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS
    )  # start-up benchmark / smoke test: close the window after SECONDS


class _ExceptionRelay(QObject):
    raised = Signal(object, str)


_relay: _ExceptionRelay | None = None


def install_excepthook() -> _ExceptionRelay:
    """Uncaught exceptions (GUI thread or any other) go to the log and to the one error dialog."""
    global _relay
    _relay = _ExceptionRelay()

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("uncaught exception", exc_info=(exc_type, exc, tb))
        if _relay is not None:
            _relay.raised.emit(exc, "Uncaught error")

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    return _relay


def create_app(argv: Sequence[str] | None = None, theme: str | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv or sys.argv[:1]))
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("t2ipal-tagger")
    from t2ipal_gui.resources import app_icon
    from t2ipal_gui.theme import apply_theme, follow_system

    app.setWindowIcon(app_icon())
    settings = AppSettings()
    prefs = settings.preferences()
    apply_environment(prefs)
    apply_theme(app, theme or prefs.theme)
    follow_system(app, lambda: theme or AppSettings().preferences().theme)
    return app


def build_window(settings: AppSettings | None = None) -> MainWindow:
    from t2ipal_gui.context import AppContext
    from t2ipal_gui.main_window import MainWindow

    ctx = AppContext(settings or AppSettings())
    window = MainWindow(ctx)
    relay = _relay or install_excepthook()
    relay.raised.connect(lambda exc, where: window.errors.show(exc, context=where))
    return window


def run(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = build_parser().parse_args(argv)
    logbridge.install()
    app = create_app(theme=args.theme)
    install_excepthook()
    window = build_window()
    if args.project:
        window.open_project(args.project, create=args.new)
    window.show()
    log.info("T2I-PAL Tagger %s ready in %.2f s", __version__, time.perf_counter() - started)
    if args.quit_after is not None:
        from PySide6.QtCore import QTimer

        def _report_and_quit() -> None:
            window.close()

        QTimer.singleShot(0, lambda: window.setProperty("shown_after_s", time.perf_counter() - started))
        QTimer.singleShot(int(args.quit_after * 1000), _report_and_quit)
    return app.exec()


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv)
