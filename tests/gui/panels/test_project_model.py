"""Each project tags and explains with its own exported model; nothing of the previous project carries over."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
    pytest.skip("needs onnx and onnxruntime", allow_module_level=True)

A_LABELS = ("red", "green", "blue")
B_LABELS = ("tomato", "leaf", "sky")  # the tiny model's first, second and third class: red, green, blue photos
JOB_TIMEOUT = 30_000


def _project_with_model(root: Path, labels: tuple[str, ...]) -> Path:
    """A project whose label set is `labels` and whose exported model is a tiny hand-built ONNX tagger."""
    from engine import api
    from engine.hashing import sha256_file
    from engine.labels import LabelSet
    from tests.engine.tagging.conftest import make_tiny_onnx, tiny_metadata

    project = api.create_project(root, labels=LabelSet.from_names(list(labels), name=root.name))
    make_tiny_onnx(project.onnx_path, tiny_metadata(labels, checksum=root.name))
    project.record_model(onnx_path=project.onnx_path, onnx_sha256=sha256_file(project.onnx_path), labels=list(labels))
    return project.root


def _photos(folder: Path) -> Path:
    from tests.engine.tagging.conftest import write_photo

    for colour in ("red", "green", "blue"):
        write_photo(folder / f"{colour}.png", colour)
    return folder


def _wait(qtbot, job) -> object:
    with qtbot.waitSignal(job.done, timeout=JOB_TIMEOUT):
        pass
    assert job.state == "finished", f"{job.name} ended {job.state}: {job.error}\n{job.traceback}"
    return job.result


def test_opening_another_project_switches_to_its_model(window, qtbot, tmp_path):
    from engine import api

    a = _project_with_model(tmp_path / "project-a", A_LABELS)
    b = _project_with_model(tmp_path / "project-b", B_LABELS)
    photos = _photos(tmp_path / "photos")

    assert window.open_project(a)
    tagging = window.show_panel("tagging")
    assert tagging.model_text.text() == "exports/model.onnx (3 labels: red, green, blue)"
    assert tagging.folders.add_folder(photos)
    assert tagging.job_row.start.isEnabled()
    tagging.summary.setText("Failed: something of project A")

    assert window.open_project(b)
    assert tagging.folders.count() == 0 and window.ctx.tag_folders == []  # A's folders stay with A
    assert tagging.summary.text() == "" and tagging.job_row.status.text() == "Idle"
    assert not tagging.job_row.start.isEnabled()  # B has a model but no folder yet
    assert tagging.model_text.text() == "exports/model.onnx (3 labels: tomato, leaf, sky)"
    assert api.model_status(window.ctx.project).record.labels == B_LABELS

    assert tagging.folders.add_folder(photos)
    qtbot.mouseClick(tagging.job_row.start, Qt.MouseButton.LeftButton)
    result = _wait(qtbot, tagging.job_row.job)
    assert result.tagged == 3
    assert set(api.tag_labels(window.ctx.project)) == set(B_LABELS)  # rows written with B's model
    assert api.tag_labels(api.open_project(a)) == []  # and into B's database only

    browse = window.show_panel("browse")
    qtbot.waitUntil(lambda: browse.label_list.count() == len(B_LABELS), timeout=3000)
    offered = {browse.label_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(browse.label_list.count())}
    assert offered == set(B_LABELS)
    browse.grid.setCurrentIndex(browse.model.index(0))
    assert {browse.chips.item(i).data(Qt.ItemDataRole.UserRole) for i in range(browse.chips.count())} == set(B_LABELS)
    assert browse.why_button.isEnabled()
    assert browse.current_tag() in B_LABELS  # a label only B's model has: A's model would refuse to explain it
    image = _wait(qtbot, browse.explain())
    assert not image.isNull()
    assert browse.model.wait(5000)


def test_tagging_needs_the_projects_exported_model(project_window, qtbot, tmp_path):
    from engine import api
    from engine.labels import LabelSet

    api.save_labels(project_window.ctx.project, LabelSet.from_names(list(A_LABELS), name="colours"))
    project_window.ctx.data_changed.emit("labels")
    tagging = project_window.show_panel("tagging")
    assert tagging.model_text.text() == "No exported model yet: train and export one in the Training panel."
    assert tagging.folders.add_folder(_photos(tmp_path / "photos"))
    assert not tagging.job_row.start.isEnabled()
    training = project_window.show_panel("training")
    assert training.summary.text() == "No model trained yet."
    assert not training.export_row.start.isEnabled()
    browse = project_window.show_panel("browse")
    assert not browse.why_button.isEnabled()
    assert browse.count_label.text() == "No tagged photos yet — tag a folder in the Tagging panel."
