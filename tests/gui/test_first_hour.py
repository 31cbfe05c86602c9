"""The first hour, driven through the real widgets: New Project → labels (Tab between cells) → captions
(add, edit, delete + undo, search) → synthesis and training refused in plain words when no weights exist."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from t2ipal_gui.dialogs import confirm as ask
from t2ipal_gui.dialogs.error import OPEN_MODEL_MANAGER


def _type_and_tab(qtbot, text: str) -> None:
    editor = QApplication.focusWidget()
    QTest.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Tab)


@pytest.fixture
def answers(monkeypatch):
    """Every confirmation question the walkthrough meets, and the answer given (True = go ahead)."""
    asked: list[str] = []
    reply = {"value": True}

    def confirm(parent, title, text, accept, *, informative=""):
        asked.append(f"{title}: {text}")
        return reply["value"]

    monkeypatch.setattr(ask, "confirm", confirm)
    return asked, reply


def test_first_hour(window, qtbot, tmp_path, answers, monkeypatch):
    asked, reply = answers
    # 0. no project: the empty state offers both ways in
    labels = window.panels["labels"]
    assert labels.empty.button.text() == "New Project…" and labels.empty.button.isVisible()
    assert labels.empty.second.text() == "Open Project…" and labels.empty.second.isVisible()

    # 1. New Project: a small dialog with a name, a location and the labels to start from
    labels.empty.button.click()
    from t2ipal_gui.dialogs.new_project import NewProjectDialog

    dialog = window.findChild(NewProjectDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.location.setText(str(tmp_path))
    dialog.name.setText("")
    assert not dialog.create_button.isEnabled() and "name" in dialog.folder_hint.text()
    dialog.name.setText("Pets")
    assert dialog.create_button.isEnabled() and str(tmp_path / "Pets") in dialog.folder_hint.text()
    dialog.create_button.click()
    assert window.ctx.project is not None and window.ctx.project.root == (tmp_path / "Pets").resolve()
    assert window.stack.currentWidget() is labels
    # an empty project: a hint, no red error
    assert labels.validation.property("role") == "subtitle" and "No labels yet" in labels.validation.text()

    # 2. Labels: Tab walks along the new row, never to the first row
    labels.add_row()
    _type_and_tab(qtbot, "cat")
    assert (labels.table.currentRow(), labels.table.currentColumn()) == (0, 1)
    _type_and_tab(qtbot, "kitty, kitten")
    assert (labels.table.currentRow(), labels.table.currentColumn()) == (0, 2)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    labels.add_row()
    _type_and_tab(qtbot, "dog")
    assert (labels.table.currentRow(), labels.table.currentColumn()) == (1, 1)
    _type_and_tab(qtbot, "puppy")
    _type_and_tab(qtbot, "kitten")  # a synonym of cat typed as dog's parent
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    labels.add_row()
    _type_and_tab(qtbot, "car")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert [labels._cell(r, 0) for r in range(3)] == ["cat", "dog", "car"]
    assert labels._cell(0, 1) == "kitty, kitten" and labels._cell(1, 2) == "kitten" and labels._cell(0, 2) == ""
    labels.validate()
    assert labels.validation.text() == "⚠ dog: parent 'kitten' is a synonym of cat; did you mean cat?"
    assert not labels.save_button.isEnabled()
    labels.table.item(1, 2).setText("pets")  # a keyword group: allowed, and said
    labels.validate()
    assert labels.validation.text() == "✓ 3 labels, valid · keyword groups (parents that are not labels): pets"
    labels.table.item(1, 2).setText("")
    labels.validate()
    assert labels.validation.text() == "✓ 3 labels, valid"
    # undo and redo, from the Edit menu
    assert window.undo_action.text().replace("&", "") == "Undo Edit label"
    window.undo_action.trigger()
    assert labels._cell(1, 2) == "pets" and "keyword groups" in labels.validation.text()
    window.redo_action.trigger()
    assert labels._cell(1, 2) == "" and labels.validation.text() == "✓ 3 labels, valid"
    labels.save_button.click()
    assert not labels.is_dirty()

    # 3. Captions: add, edit, delete with undo, search
    window.show_panel("captions")
    captions = window.panels["captions"]
    captions.refresh()
    for text in ("a cat on a sofa", "a dog in the park", "a red car", "a cat and a dog"):
        captions.new_caption.setText(text)
        captions.add_caption()
    assert captions.table.rowCount() == 4
    item = captions.table.item(2, 0)
    item.setText("a blue car by the sea")
    assert [captions.table.item(r, 0).text() for r in range(4)][2] == "a blue car by the sea"
    item = captions.table.item(0, 0)
    item.setText("a sofa")  # names no label: refused, the text comes back
    assert captions.table.item(0, 0).text() == "a cat on a sofa" and "names none of the labels" in \
        captions.warning.text()
    captions.table.selectRow(1)
    assert captions.delete_selected() == 1
    assert [captions.table.item(r, 0).text() for r in range(captions.table.rowCount())] == [
        "a cat on a sofa", "a blue car by the sea", "a cat and a dog"]
    assert window.undo_action.text().replace("&", "") == "Undo Delete 1 caption"
    window.undo_action.trigger()
    assert captions.table.rowCount() == 4 and captions.table.item(1, 0).text() == "a dog in the park"
    captions.search.setText("cat")
    assert [captions.table.item(r, 0).text() for r in range(captions.table.rowCount())] == [
        "a cat on a sofa", "a cat and a dog"]
    assert captions.shown_count.text() == "2 of 4"
    captions.search.clear()

    # 4. Synthesis: the demo renderer is not offered for cat/dog/car; without weights the refusal says what to do
    window.show_panel("synthesis")
    synth = window.panels["synthesis"]
    synth.refresh()
    demo = synth.backend.model().item(synth.backend.findText("demo"))
    assert not demo.isEnabled() and "Manage Models" in demo.toolTip()
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    synth.backend.setCurrentText("diffusers")
    synth.model_id.setText("org/not-fetched")
    job = synth.start()
    qtbot.waitUntil(lambda: not job.is_running, timeout=60000)
    dialog = window.errors.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.headline.text() == "Synthesis: model weights are missing"
    assert "org/not-fetched" in dialog.message.text() and "Never download" in dialog.message.text()
    assert "bug" not in dialog.message.text().lower() and not dialog.details.isVisible()
    assert dialog.action_button.text() == OPEN_MODEL_MANAGER and dialog.action_button.isVisible()
    dialog.accept()

    # 5. Training with the demo CLIP: refused before any work, naming the labels and what to fetch
    window.show_panel("training")
    train = window.panels["training"]
    train.refresh()
    assert not train.demo_button.isVisibleTo(train) and "Manage Models" in train.clip_hint.text()
    train.clip_model.setText("demo-clip")
    job = train.start()
    qtbot.waitUntil(lambda: not job.is_running, timeout=60000)
    dialog = window.errors.dialog
    assert dialog.isVisible() and dialog.headline.text() == "Training: please check the input"
    assert "cannot spell 3 of your labels: cat, dog, car" in dialog.message.text()
    assert "bug" not in dialog.message.text().lower()
    assert dialog.action_button.text() == OPEN_MODEL_MANAGER and dialog.action_button.isVisible()
    dialog.action_button.click()
    from t2ipal_gui.dialogs.models import ModelManagerDialog

    manager = window.findChild(ModelManagerDialog)
    assert manager is not None and manager.isVisible()
    assert not manager.fetch_row.start.isEnabled() and "Never download" in manager.notice.text()
    manager.close()
    assert "Export" in train.export_row.start.text() and not train.export_row.start.isEnabled()
    assert train.export_row.start.toolTip() == "Train a model first"
    assert asked == []  # nothing destructive was asked on the way
