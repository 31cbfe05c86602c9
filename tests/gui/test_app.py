"""Start-up: no torch/diffusers/open_clip at import; `t2ipal gui --help`; preferences round trip."""

from __future__ import annotations

import os
import subprocess
import sys

from t2ipal_gui.dialogs.preferences import PreferencesDialog
from t2ipal_gui.settings import Preferences

HEAVY = ("torch", "diffusers", "open_clip", "transformers", "onnxruntime")


def test_window_starts_without_heavy_imports(tmp_path):
    code = (
        "import sys\n"
        "from t2ipal_gui.app import create_app, build_window\n"
        "app = create_app()\n"
        "w = build_window(); w.show(); app.processEvents()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_cli_gui_help(tmp_path):
    import argparse

    from engine.cli import gui_cmd

    parser = argparse.ArgumentParser(prog="t2ipal")
    gui_cmd.register(parser.add_subparsers())
    help_text = parser._subparsers._group_actions[0].choices["gui"].format_help()
    assert "project" in help_text and "--theme" in help_text
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-m", "t2ipal_gui", "--help"], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0 and "desktop app" in out.stdout


def test_preferences_round_trip(isolated_settings, qtbot):
    prefs = Preferences(synthesis_model="/models/sd", device="cpu", offline=False, theme="dark")
    dialog = PreferencesDialog(prefs)
    qtbot.addWidget(dialog)
    assert dialog.preferences() == Preferences(**{**prefs.__dict__})
    isolated_settings.save_preferences(dialog.preferences())
    assert isolated_settings.preferences() == prefs
    assert os.environ["HF_HUB_OFFLINE"] == "0"
    isolated_settings.save_preferences(Preferences())
    assert os.environ["HF_HUB_OFFLINE"] == "1"
