"""`t2ipal gui`: opens the desktop app in a child process (the engine never imports the GUI package)."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gui", help="open the desktop app", description="Open the T2I-PAL Tagger desktop app."
    )
    parser.add_argument("project", nargs="?", help="project folder to open (created with --new)")
    parser.add_argument("--new", action="store_true", help="create the project folder if it does not exist")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="override the theme setting")
    parser.set_defaults(func=handler)


def gui_argv(args: argparse.Namespace) -> list[str]:
    """The `python -m t2ipal_gui` arguments for the parsed `t2ipal gui` flags."""
    argv = [args.project] if args.project else []
    if args.new:
        argv.append("--new")
    if args.theme:
        argv += ["--theme", args.theme]
    return argv


def handler(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("PySide6") is None:
        from engine.errors import DependencyMissing

        raise DependencyMissing("the desktop app needs PySide6; pip install PySide6-Essentials")
    return subprocess.call([sys.executable, "-m", "t2ipal_gui", *gui_argv(args)])
