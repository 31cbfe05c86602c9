"""No network: every entry point turns library telemetry and hub access off; tag, train and export connect nowhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "ORT_DISABLE_TELEMETRY")


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_VARS}
    env["PYTHONPATH"] = str(REPO)
    return env


@pytest.mark.parametrize("entry", ["engine", "engine.cli.main", "t2ipal_gui.__main__", "t2ipal_gui.app"])
def test_every_entry_point_sets_the_offline_environment(entry: str) -> None:
    code = f"import os, {entry}\nprint(','.join(os.environ.get(v, '') for v in {OFFLINE_VARS!r}))"
    out = subprocess.run([sys.executable, "-c", code], env={**_clean_env(), "QT_QPA_PLATFORM": "offscreen"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "1,1,1"


WATCH = """
import json, socket, sys
attempts = []
def refuse(name):
    def call(*args, **kwargs):
        attempts.append([name, repr(args)[:200]])
        raise OSError("network is off in this test")
    return call
socket.socket.connect = refuse("connect")
socket.socket.connect_ex = refuse("connect_ex")
socket.getaddrinfo = refuse("getaddrinfo")
socket.create_connection = refuse("create_connection")
from engine.cli.main import main
tmp, clip = sys.argv[1], sys.argv[2]
codes = [
    main(["train", "--labels", "red,green,blue", "--captions", tmp + "/captions.csv", "--images", tmp + "/images.csv",
          "--out", tmp + "/model", "--backbone", "tiny-test", "--pretrained", clip, "--epochs", "1", "--n-ctx", "4",
          "--device", "cpu", "--no-progress"]),
    main(["export", tmp + "/model", "-o", tmp + "/model.onnx"]),
    main(["tag", tmp + "/photos", "--model", tmp + "/model.onnx", "--db", tmp + "/t.db", "--no-progress"]),
]
print(json.dumps({"codes": codes, "attempts": attempts}))
"""


def _no_network_prefix() -> list[str]:
    """`unshare -n` (a process without any network) where this user may create one, else nothing."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def test_tag_train_export_make_no_connection_attempt(tiny_clip_file: Path, tmp_path: Path) -> None:
    import json

    from tests.engine.tagging.conftest import make_folder
    from tests.engine.training.test_job import _write_set

    _write_set(tmp_path, n=8)
    make_folder(tmp_path / "photos", 4)
    cmd = [*_no_network_prefix(), sys.executable, "-c", WATCH, str(tmp_path), str(tiny_clip_file)]
    out = subprocess.run(cmd, env=_clean_env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["codes"] == [0, 0, 0], out.stderr[-3000:]
    assert report["attempts"] == []
