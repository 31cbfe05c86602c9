"""Browse: label filters (all / any), thresholds with live counts, confirm / reject with the keyboard, export."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6.QtCore import Qt

ROOT = Path(__file__).resolve().parents[3]


def _sample(tmp_path: Path) -> Path:
    spec = importlib.util.spec_from_file_location("make_screenshots", ROOT / "docs" / "make_screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_project(tmp_path)


def test_filter_threshold_confirm_and_export(window, qtbot, tmp_path):
    from engine.tagging.store import TagStore

    project = _sample(tmp_path)
    assert window.open_project(project)
    panel = window.show_panel("browse")
    assert panel.model.rowCount() == 18
    assert panel.count_label.text() == "18 of 18 photos"
    dog = next(panel.label_list.item(i) for i in range(panel.label_list.count())
               if panel.label_list.item(i).data(Qt.ItemDataRole.UserRole) == "dog")
    dog.setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: panel.model.rowCount() < 18, timeout=3000)
    at_half = panel.model.rowCount()
    panel.global_slider.setValue(40)  # every threshold 0.40 higher: fewer dogs; the label count follows
    qtbot.waitUntil(lambda: panel.model.rowCount() < at_half, timeout=3000)
    assert "dog  (" in dog.text()
    panel.global_slider.setValue(-50)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 18, timeout=3000)
    panel.mode.setCurrentText("any")
    # keyboard review: select the second photo, its top tag, press C
    panel.grid.setCurrentIndex(panel.model.index(1))
    path = panel.current_path()
    panel.chips.setCurrentRow(0)
    label = panel.chips.currentItem().data(Qt.ItemDataRole.UserRole)
    panel.grid.setFocus()
    qtbot.keyClick(panel.grid, Qt.Key.Key_C)
    with TagStore.open(project / "project.db") as store:
        assert store.tags_of(path)[label][1] == "confirmed"
    panel.chips.setCurrentRow(1)
    rejected = panel.chips.currentItem().data(Qt.ItemDataRole.UserRole)
    qtbot.keyClick(panel.grid, Qt.Key.Key_X)
    with TagStore.open(project / "project.db") as store:
        assert store.tags_of(path)[rejected][1] == "rejected"
    job = panel.export_to("csv", str(tmp_path / "tags.csv"))
    with qtbot.waitSignal(job.finished, timeout=10000):
        pass
    assert label in (tmp_path / "tags.csv").read_text()
    assert panel.model.wait(5000)


def test_undo_restores_the_tag_after_confirm_and_after_reject(window, qtbot, tmp_path):
    from engine import api

    root = _sample(tmp_path)
    assert window.open_project(root)
    project = window.ctx.project
    panel = window.show_panel("browse")
    panel.global_slider.setValue(-50)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 18, timeout=3000)
    panel.grid.setCurrentIndex(panel.model.index(1))
    path = panel.current_path()
    before = api.image_tags(project, path)
    first, second = before[0][0], before[1][0]
    assert before[0][2] == "auto" and not panel.undo_button.isEnabled()
    panel.grid.setFocus()

    def chip_text(label: str) -> str:
        return next(panel.chips.item(i).text() for i in range(panel.chips.count())
                    if panel.chips.item(i).data(Qt.ItemDataRole.UserRole) == label)

    for key, mark, undo_key in ((Qt.Key.Key_C, "✓ ", Qt.Key.Key_U), (Qt.Key.Key_X, "✗ ", Qt.Key.Key_Z)):
        panel.chips.setCurrentRow(0)
        qtbot.keyClick(panel.grid, key)
        assert chip_text(first).startswith(mark) and panel.undo_button.isEnabled()
        modifier = Qt.KeyboardModifier.ControlModifier if undo_key == Qt.Key.Key_Z else Qt.KeyboardModifier.NoModifier
        qtbot.keyClick(panel.grid, undo_key, modifier)
        assert api.image_tags(project, path) == before  # score and source exactly as they were
        assert not chip_text(first).startswith(mark) and not panel.undo_button.isEnabled()

    # several decisions undo one by one, newest first
    panel.chips.setCurrentRow(0)
    qtbot.keyClick(panel.grid, Qt.Key.Key_C)  # confirms the first tag, moves on to the second
    qtbot.keyClick(panel.grid, Qt.Key.Key_X)
    assert chip_text(first).startswith("✓ ") and chip_text(second).startswith("✗ ")
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert chip_text(first).startswith("✓ ") and not chip_text(second).startswith("✗ ")
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert api.image_tags(project, path) == before
    assert panel.model.wait(5000)


def test_opening_another_project_clears_filters_and_decisions(window, qtbot, tmp_path):
    root = _sample(tmp_path)
    assert window.open_project(root)
    panel = window.show_panel("browse")
    panel.grid.setCurrentIndex(panel.model.index(1))
    panel.chips.setCurrentRow(0)
    panel.decide("confirmed")
    panel.label_list.item(0).setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: len(panel.filter.labels) == 1, timeout=3000)
    assert window.open_project(tmp_path / "empty", create=True)
    assert panel.label_list.count() == 0 and panel.filter.labels == [] and panel.decisions == []
    assert panel.model.rowCount() == 0 and not panel.undo_button.isEnabled()
    assert panel.count_label.text() == "No tagged photos yet — tag a folder in the Tagging panel."
    assert panel.model.wait(5000)
