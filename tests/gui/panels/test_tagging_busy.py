"""The app and the CLI on one database: while another process tags into it, the Tagging panel's run is refused
with a message naming that run, nothing is written, and the next run after it tags everything."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
    pytest.skip("needs onnx and onnxruntime", allow_module_level=True)

from tests.gui.panels.test_cancel_jobs import JOB_TIMEOUT, _browse_paths, _colour_project, _photos, _store  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
# another process's tagging run, as `t2ipal tag` holds it: the database's tagging lock, until its stdin closes
HOLDER = ("import sys\nfrom engine.tagging.run_lock import tagging_lock\n"
          "with tagging_lock(sys.argv[1], [sys.argv[2]]):\n    print('held', flush=True)\n    sys.stdin.read()\n")


def test_tagging_while_another_process_tags_the_database_is_refused_and_nothing_is_written(window, qtbot, tmp_path):
    assert window.open_project(_colour_project(tmp_path / "proj"))
    project = window.ctx.project
    photos = [p for p in _photos(tmp_path / "photos") if not p.endswith("broken.png")]
    tagging = window.show_panel("tagging")
    assert tagging.folders.add_folder(tmp_path / "photos")
    other = subprocess.Popen([sys.executable, "-c", HOLDER, str(project.db_path), "/cli/photos"], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline() == "held\n"
        tagging.job_row.start.click()
        with qtbot.waitSignal(tagging.job_row.job.done, timeout=JOB_TIMEOUT):
            pass
        assert tagging.job_row.job.state == "failed" and tagging.job_row.status.text() == "Failed: RunBusy"
        assert tagging.job_row.start.isEnabled() and not tagging.job_row.cancel.isEnabled()
        dialog = window.errors.dialog
        assert dialog is not None and dialog.isVisible() and dialog.headline.text().startswith("Tagging")
        said = dialog.message.text()
        assert f"another tagging run is using {project.db_path} (pid {other.pid} on " in said
        assert "folders: /cli/photos" in said and "wait for it to finish" in said
        with _store(project) as store:
            assert store.counts() == {"done": 0, "error": 0, "missing": 0} and store.runs() == []
        assert _browse_paths(window, qtbot)[1] == set()
    finally:
        other.communicate("", timeout=60)  # the other run ends and releases the database
    dialog.accept()

    window.show_panel("tagging").job_row.start.click()
    with qtbot.waitSignal(tagging.job_row.job.done, timeout=JOB_TIMEOUT):
        pass
    result = tagging.job_row.job.result
    assert tagging.job_row.job.state == "finished" and (result.tagged, result.errors) == (5, 1)
    assert _browse_paths(window, qtbot) == ("5 of 5 photos", set(photos))
