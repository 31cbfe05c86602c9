"""Taggers (one, or two at once on one database) killed at random points, then resumed: each image tagged once."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.tagging.store import TagStore

from .conftest import make_folder

REPO = Path(__file__).resolve().parents[3]
SCRIPT = """
import sys
from engine.tagging.runner import TagConfig, tag_folders
tag_folders([sys.argv[1]], sys.argv[2], sys.argv[3], TagConfig(batch_size=4, workers=2, threads=1))
"""


def _missing(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM tag_images WHERE status = 'missing'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _done(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM tag_images").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:  # schema not there yet
        return 0


@pytest.mark.parametrize("taggers", [1, 2])
def test_sigkill_at_random_points_then_resume(tmp_path: Path, tiny_model: Path, taggers: int) -> None:
    n = 200
    files = make_folder(tmp_path / "photos", n)
    db = tmp_path / "t.db"
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", SCRIPT, str(tmp_path / "photos"), str(tiny_model), str(db)]
    kills = 0
    for _ in range(5):
        before = _done(db)
        if before >= n:
            break
        target = before + rng.randint(3, 40)
        procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(taggers)]
        deadline = time.monotonic() + 30
        while any(p.poll() is None for p in procs) and _done(db) < target and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.0, 0.004))
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
        assert _missing(db) == 0  # no run ever marks a file that is still there as missing
    assert kills >= 3
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr[-2000:]

    with TagStore.open(db) as store:
        assert store.integrity_ok()
        assert store.counts() == {"done": n, "error": 0, "missing": 0}
        # exactly once: the per-run counters, committed with each batch, add up to n
        assert sum(r["tagged"] for r in store.runs()) == n
        assert len(store.runs()) >= 1 + kills // taggers
        for path, colour in files.items():
            assert store.labels_in_force(path) == {colour}
        (dups,) = store.db.execute("SELECT COUNT(*) - COUNT(DISTINCT path) FROM tag_images").fetchone()
        assert dups == 0
