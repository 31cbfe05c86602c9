"""`t2ipal gui` starts `python -m t2ipal_gui` as a child process; without PySide6 it names the package to install."""

from __future__ import annotations

import sys

import pytest

from engine.cli import gui_cmd
from engine.cli.main import main
from engine.errors import DependencyMissing


def test_gui_runs_the_app_module_with_its_flags(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[list[str]] = []
    monkeypatch.setattr(gui_cmd.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(gui_cmd.subprocess, "call", lambda argv: calls.append(argv) or 0)
    assert main(["gui", "proj", "--new", "--theme", "dark"]) == 0
    assert calls == [[sys.executable, "-m", "t2ipal_gui", "proj", "--new", "--theme", "dark"]]


def test_missing_pyside6_is_named(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gui_cmd.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DependencyMissing, match="PySide6"):
        gui_cmd.handler(gui_cmd.argparse.Namespace(project=None, new=False, theme=None))
