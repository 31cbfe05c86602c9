"""`t2ipal gui`: opens the desktop app (imported lazily; the engine never imports Qt at module import)."""

from __future__ import annotations

import argparse
import importlib


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gui", help="open the desktop app", description="Open the T2I-PAL Tagger desktop app."
    )
    parser.add_argument("project", nargs="?", help="project folder to open (created with --new)")
    parser.add_argument("--new", action="store_true", help="create the project folder if it does not exist")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="override the theme setting")
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    argv = [args.project] if args.project else []
    if args.new:
        argv.append("--new")
    if args.theme:
        argv += ["--theme", args.theme]
    try:
        gui_app = importlib.import_module("t2ipal_gui.app")  # a string import: no static engine -> GUI edge
    except ImportError as exc:
        from engine.errors import DependencyMissing

        raise DependencyMissing(f"the desktop app needs PySide6 ({exc}); pip install PySide6-Essentials") from exc
    return int(gui_app.run(argv))
