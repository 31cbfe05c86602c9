"""The PyInstaller build of the torch-free tagger starts under Xvfb and shows its window (T2IPAL_SLOW=1).

Builds `packaging/t2ipal-tagger.spec` into a temporary folder (a few minutes), checks torch stayed out, then
starts the app on a virtual X display and looks for its top-level window by title.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("T2IPAL_SLOW") != "1", reason="builds the app (minutes); set T2IPAL_SLOW=1"),
    pytest.mark.skipif(not (shutil.which("xvfb-run") and shutil.which("xwininfo")),
                       reason="needs xvfb-run and xwininfo (apt-get install xvfb x11-utils)"),
]

PROBE = """
"$1" &
app=$!
for i in $(seq 60); do
  if xwininfo -root -tree | grep -q '"T2I-PAL Tagger"'; then echo WINDOW-FOUND; break; fi
  kill -0 $app 2>/dev/null || { echo APP-EXITED; break; }
  sleep 1
done
kill $app 2>/dev/null; wait $app 2>/dev/null; true
"""


def test_built_tagger_app_shows_its_window(tmp_path: Path) -> None:
    pytest.importorskip("PyInstaller")
    build = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath", str(tmp_path / "dist"), "--workpath",
         str(tmp_path / "build"), str(ROOT / "packaging" / "t2ipal-tagger.spec")],
        capture_output=True, text=True, cwd=ROOT, timeout=1500,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    app_dir = tmp_path / "dist" / "t2ipal-tagger"
    assert not (app_dir / "_internal" / "torch").exists()  # the tagger only: no torch in the folder
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "HOME": str(tmp_path)}
    probe = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "bash", "-c", PROBE, "probe",
                            str(app_dir / "t2ipal-tagger")], capture_output=True, text=True, env=env, timeout=180)
    assert "WINDOW-FOUND" in probe.stdout, probe.stdout + probe.stderr[-3000:]
    cli = subprocess.run([str(app_dir / "t2ipal"), "tag", "--help"], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and "ONNX" in cli.stdout
