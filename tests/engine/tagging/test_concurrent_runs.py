"""Two tagging processes on one database at once: the second is refused by the run lock, nothing goes missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.tagging.run_lock import RunBusy, tagging_lock
from engine.tagging.store import TagStore

from .conftest import make_folder

REPO = Path(__file__).resolve().parents[3]
SCRIPT = """
import sys
from engine.tagging.runner import TagConfig, tag_folders
tag_folders([sys.argv[1]], sys.argv[2], sys.argv[3], TagConfig(batch_size=4, workers=2, threads=1))
"""


def test_two_concurrent_taggers_tag_every_photo_once(tmp_path: Path, tiny_model: Path) -> None:
    n = 150
    files = make_folder(tmp_path / "photos", n)
    db = tmp_path / "t.db"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", SCRIPT, str(tmp_path / "photos"), str(tiny_model), str(db)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for proc, (_, err) in zip(procs, outs, strict=True):
        if proc.returncode != 0:  # refused: the message names the other run
            assert "another tagging run" in err and "pid" in err, err[-2000:]
    assert any(p.returncode == 0 for p in procs)
    with TagStore.open(db) as store:
        assert store.counts() == {"done": n, "error": 0, "missing": 0}
        assert sum(r["tagged"] for r in store.runs()) == n
        for path, colour in list(files.items())[:20]:
            assert store.labels_in_force(path) == {colour}


def test_lock_names_the_other_run_and_is_released(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with tagging_lock(db, ["/photos/a", "/photos/b"]):
        with pytest.raises(RunBusy) as info:
            with tagging_lock(db, ["/photos/c"]):
                pass
        msg = str(info.value)
        assert f"pid {os.getpid()}" in msg and "/photos/a" in msg and "started" in msg
    with tagging_lock(db, ["/photos/c"]):  # released on exit
        pass


def test_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    code = (
        "import os, sys\nfrom engine.tagging.run_lock import tagging_lock\n"
        "cm = tagging_lock(sys.argv[1], ['/x']); cm.__enter__(); print('held', flush=True); os.kill(os.getpid(), 9)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", code, str(db)], env=env, capture_output=True, text=True, timeout=60)
    assert "held" in proc.stdout and proc.returncode == -9
    with tagging_lock(db, ["/y"]):  # the dead process's lock (and its stale info) is taken over
        pass
