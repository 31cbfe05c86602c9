"""Destructive actions ask first; the answer decides; folders and windows behave across restarts and screens."""

from __future__ import annotations

import logging

import pytest

from engine import api
from t2ipal_gui.dialogs import confirm as ask


@pytest.fixture
def asked(monkeypatch):
    questions: list[str] = []
    reply = {"value": False}
    monkeypatch.setattr(ask, "confirm", lambda parent, title, text, accept, *, informative="": (
        questions.append(text), reply["value"])[1])
    return questions, reply


def test_loading_a_bundled_set_over_labels_asks_and_undo_restores(project_window, asked):
    questions, reply = asked
    labels = project_window.panels["labels"]
    labels.add_row("cat")
    labels._record("Add label")
    bundled = labels.bundled.itemText(0)
    assert not labels.load_bundled(bundled)  # answered Cancel: nothing replaced
    assert questions == [f"Replace your 1 labels with the bundled set “{bundled}”?"]
    assert labels._cell(0, 0) == "cat" and labels.table.rowCount() == 1
    reply["value"] = True
    assert labels.load_bundled(bundled) and labels.table.rowCount() > 1
    labels.undo_stack.undo()
    assert [labels._cell(r, 0) for r in range(labels.table.rowCount())] == ["cat"]


def test_close_project_with_unsaved_labels_asks(project_window, asked):
    questions, reply = asked
    labels = project_window.panels["labels"]
    assert project_window.close_project() and questions == []  # nothing edited: no question
    project_window.open_project(project_window.ctx.settings.recent_projects()[0])
    labels.add_row("cat")
    assert not project_window.close_project() and project_window.ctx.project is not None
    assert questions == ["Your label edits are not saved."]
    reply["value"] = True
    assert project_window.close_project() and project_window.ctx.project is None


def test_quit_while_a_job_runs_offers_to_keep_it(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from engine.progress import CancelToken

    started = CancelToken()

    def slow(*, progress, cancel):
        started.set()
        while not cancel.is_set():
            cancel._event.wait(0.05)
        cancel.raise_if_set()

    job = window.ctx.runner.start(slow, name="Training")
    qtbot.waitUntil(started.is_set, timeout=5000)
    chosen = {"text": "Keep Running"}

    def exec_(box):
        button = next(b for b in box.buttons() if b.text() == chosen["text"])
        box._clicked = button
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    monkeypatch.setattr(QMessageBox, "clickedButton", lambda box: box._clicked)
    assert not window.may_quit() and job.is_running
    chosen["text"] = "Cancel Job and Quit"
    assert window.may_quit()
    job.cancel()
    qtbot.waitUntil(lambda: not job.is_running, timeout=5000)


def test_tagging_folders_are_remembered_per_project(project_window, tmp_path, ctx):
    photos = tmp_path / "proj" / "photos"
    photos.mkdir()
    tagging = project_window.panels["tagging"]
    assert tagging.folders.add_folder(photos)
    project = project_window.ctx.project
    assert api.tag_folders(project) == [photos.resolve()]
    project_window.ctx.close_project()
    assert tagging.folders.count() == 0
    project_window.open_project(project.root)
    assert tagging.folders.folders() == [str(photos.resolve())]


def test_window_fits_a_small_screen(window):
    free = window.screen().availableGeometry()
    window.resize(free.width() + 400, free.height() + 300)
    window.fit_to_screen()
    assert window.frameGeometry().width() <= free.width() and window.frameGeometry().height() <= free.height()
    assert free.contains(window.frameGeometry().topLeft())


def test_log_lines_are_one_line_and_migrations_are_debug(window, qtbot):
    try:
        raise ValueError("inner")
    except ValueError:
        logging.getLogger("engine.test").exception("job failed")
    qtbot.waitUntil(lambda: "job failed" in window.log_panel.text(), timeout=3000)
    assert "Traceback" not in window.log_panel.text() and "job failed  [details]" in window.log_panel.text()
    assert "migrated" not in window.log_panel.text()


def test_shortcut_sheet_lists_the_menus(window):
    dialog = window.show_shortcuts()
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert rows["Edit → Undo"] == "Ctrl+Z" and rows["File → New Project…"] == "Ctrl+N"
    assert rows["Run → Run All Steps"] == "Ctrl+R" and "Help → Keyboard Shortcuts" in rows


def test_new_project_from_a_bundled_set_opens_on_labels(window, tmp_path):
    from engine.labels import LabelSet

    dialog = window.new_project()
    bundled = LabelSet.list_bundled()[0]
    dialog.location.setText(str(tmp_path))
    dialog.name.setText("Holiday")
    dialog.start_from.setCurrentText(bundled)
    dialog.accept()
    labels = window.panels["labels"]
    assert window.stack.currentWidget() is labels
    assert labels.table.rowCount() == len(LabelSet.bundled(bundled)) and not labels.is_dirty()
    again = window.new_project()
    again.location.setText(str(tmp_path))
    again.name.setText("Holiday")
    assert not again.create_button.isEnabled() and "already exists" in again.folder_hint.text()
