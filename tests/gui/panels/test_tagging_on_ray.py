"""The Tagging panel's advanced option tags the project's folders on a (local) Ray cluster, like the local tagger."""

from __future__ import annotations

import importlib.util

import pytest
from PySide6.QtCore import Qt

from tests.gui.panels.test_project_model import _photos, _project_with_model

if importlib.util.find_spec("ray") is None:
    pytest.skip("needs the cluster extra (ray)", allow_module_level=True)


def test_tagging_panel_runs_on_ray_with_the_projects_model(window, qtbot, tmp_path):
    from engine import api
    from engine.tagging.store import TagStore

    project = _project_with_model(tmp_path / "project", ("red", "green", "blue"))
    photos = _photos(tmp_path / "photos")
    assert window.open_project(project)
    tagging = window.show_panel("tagging")
    assert not tagging.ray_address.isEnabled()
    tagging.on_ray.setChecked(True)
    assert tagging.ray_address.isEnabled()
    tagging.ray_address.setText("")  # a local Ray instance, started and stopped by the job
    assert tagging.folders.add_folder(photos)
    qtbot.mouseClick(tagging.job_row.start, Qt.MouseButton.LeftButton)
    job = tagging.job_row.job
    assert job.name == "Tagging on Ray"
    with qtbot.waitSignal(job.done, timeout=120_000):
        pass
    assert job.state == "finished", f"{job.error}\n{job.traceback}"
    assert job.result.tagged == 3 and "Tagged 3 images" in tagging.summary.text()
    with TagStore.open(api.open_project(project).db_path) as store:
        assert store.runs()[-1]["providers"] == "ray"
        assert store.counts()["done"] == 3
