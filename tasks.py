#!/usr/bin/env python3
"""One entry point for a fresh machine: `python3.11 tasks.py demo|test|setup|lint|gui`.

It creates `.venv` with this interpreter, installs the project with the CPU extras (onnxruntime, and
through [train] torch 2.13.0, the CPU build that pip finds on these machines), the test tools and Ray (so
the cluster tests run on a local Ray instance), and runs the chosen job.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".t2ipal-installed"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    if code != 0:
        sys.exit(code)


def setup(extras: str = "cpu,test,cluster,train") -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"T2I-PAL Tagger needs Python 3.11; this is {sys.version.split()[0]}. Run: python3.11 tasks.py ...")
    want = hashlib.sha1((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == want:
        return
    if not PY.exists():
        run(sys.executable, "-m", "venv", VENV)
    t0 = time.monotonic()
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f".[{extras}]")
    STAMP.write_text(want)
    print(f"environment ready in {time.monotonic() - t0:.0f} s ({VENV})", flush=True)


def test_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["HF_HUB_OFFLINE"] = "1"
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def lint() -> None:
    run(BIN / "ruff", "check", "engine", "t2ipal_gui", "tests", "bench", "tasks.py")
    run(BIN / "lint-imports")
    run(BIN / "mypy")


def main(argv: list[str]) -> None:
    job = argv[0] if argv else "help"
    if job == "setup":
        setup()
    elif job == "lint":
        setup()
        lint()
    elif job == "test":
        setup()
        lint()
        run(PY, "-m", "pytest", "-q", *argv[1:], env=test_env())
    elif job == "demo":
        setup()
        run(BIN / "t2ipal", "demo", "run", *argv[1:])
    elif job == "gui":
        setup()
        run(BIN / "t2ipal", "gui", *argv[1:])
    else:
        print(__doc__)
        sys.exit(0 if job in ("help", "-h", "--help") else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
