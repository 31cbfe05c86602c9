"""Child processes that kill themselves with SIGKILL at a chosen file commit, for kill -9 tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dying_at_commit(module: str) -> str:
    """Python source making `os.replace`, when `module` calls it, SIGKILL the process just before
    (argv[2] == "before") or just after (argv[2] == "after") its Nth call (N = argv[1]); other callers are left alone.
    The child's own code follows it and reads its arguments from argv[3:]."""
    return f"""
import os, signal, sys
kill_at, when = int(sys.argv[1]), sys.argv[2]
real, calls = os.replace, [0]
def dying(src, dst):
    if sys._getframe(1).f_globals.get("__name__") != {module!r}:
        return real(src, dst)
    calls[0] += 1
    if calls[0] == kill_at and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
    if calls[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = dying
"""


def run_child(source: str, kill_at: int, when: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `source` (starting with `dying_at_commit`) in a fresh Python on this checkout; wait until it ends."""
    return subprocess.run([sys.executable, "-c", source, str(kill_at), when, *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
                          capture_output=True, text=True, timeout=300)
