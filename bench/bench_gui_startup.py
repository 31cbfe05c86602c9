"""Start-up time of the desktop app: interpreter start → main window shown (median of N cold processes)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

CODE = r"""
import time, sys
t0 = time.perf_counter()
from t2ipal_gui.app import create_app, build_window
app = create_app()
w = build_window(); w.show(); app.processEvents()
t1 = time.perf_counter()
heavy = sorted(m for m in ("torch", "diffusers", "open_clip", "transformers", "onnxruntime") if m in sys.modules)
print(f"{t1 - t0:.4f} {','.join(heavy) or '-'}")
"""


def main(n: int = 5) -> int:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    walls, inside, heavy = [], [], set()
    with tempfile.TemporaryDirectory() as home:
        env["XDG_CONFIG_HOME"] = home
        for _ in range(n):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, check=True)
            walls.append(time.perf_counter() - start)
            seconds, mods = out.stdout.split()[-2:]
            inside.append(float(seconds))
            heavy |= set(mods.split(",")) - {"-"}
    print(f"window shown: median {statistics.median(inside):.3f} s after imports start "
          f"(process wall incl. interpreter {statistics.median(walls):.3f} s), n={n}")
    print(f"heavy modules imported at start-up: {sorted(heavy) or 'none'}")
    return 1 if heavy else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
