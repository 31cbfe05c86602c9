"""The tagger-only install (`pip install "t2ipal-tagger[cpu]"`, no torch) tags a folder (T2IPAL_SLOW=1, ~2 min).

A fresh venv gets the built wheel with only the [cpu] extra from the package index; `t2ipal tag`, `query`
and `tags export` run there on a tiny hand-built ONNX model, and torch is not importable.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.environ.get("T2IPAL_SLOW") != "1",
                                                   reason="installs packages into a fresh venv; set T2IPAL_SLOW=1")]


def test_tagger_only_install_tags_without_torch(tmp_path: Path) -> None:
    from tests.engine.tagging.conftest import make_folder, make_tiny_onnx

    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True, timeout=600)
    wheel = next(dist.glob("t2ipal_tagger-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    out = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"{wheel}[cpu]"],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    py = venv / "bin" / "python"
    probe = subprocess.run([str(py), "-c", "import torch"], capture_output=True, text=True, cwd=tmp_path)
    assert probe.returncode != 0 and "No module named 'torch'" in probe.stderr
    model = make_tiny_onnx(tmp_path / "tiny.onnx")
    photos = make_folder(tmp_path / "photos", 6)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    t2ipal = str(venv / "bin" / "t2ipal")

    def run(*args: str) -> str:
        done = subprocess.run([t2ipal, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout + done.stderr

    assert "6 tagged, 0 errors" in run("tag", str(tmp_path / "photos"), "--model", str(model), "--db", "t.db",
                                       "--no-progress")
    listed = run("query", "t.db", "--format", "paths")
    assert {line for line in listed.splitlines() if line} <= set(photos) and listed.strip()
    assert "wrote" in run("tags", "export", "t.db", "--format", "csv", "-o", "tags.csv")
    assert (tmp_path / "tags.csv").read_text().count("\n") > 1
    refused = subprocess.run([t2ipal, "train", "--labels", "coco", "--captions", "c.csv", "--out", "m"],
                             capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert refused.returncode != 0 and 't2ipal-tagger[train]' in refused.stderr
    site = next(venv.glob("lib/python*/site-packages"))
    size = subprocess.run(["du", "-sh", str(site)], capture_output=True, text=True).stdout.split()[0]
    print(f"tagger-only site-packages: {size}")
