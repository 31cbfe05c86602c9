"""Browse learns from the keyboard: confirm and reject tags, retrain, see the photo's scores change, decisions kept."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from engine import api
from tests.engine.api.test_cli_flow import _run, trained_project  # noqa: F401  - the fixture


def test_keyboard_decisions_then_retrain(window, qtbot, trained_project: Path, capsys) -> None:  # noqa: F811
    _run(capsys, "tag", str(api.open_project(trained_project).synthetic_dir), "--project", str(trained_project),
         "--no-progress")
    assert window.open_project(trained_project)
    project = window.ctx.project
    panel = window.show_panel("browse")
    assert panel.decisions_label.text() == "0 decisions since the last training"
    assert not panel.retrain_button.isEnabled()
    panel.queue_box.setChecked(True)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 10, timeout=3000)
    assert panel.count_label.text().startswith("review queue: 10 undecided photos")
    panel.grid.setCurrentIndex(panel.model.index(0))
    path = panel.current_path()
    assert path == api.review_queue(project, limit=1)[0].path
    panel.grid.setFocus()
    panel.chips.setCurrentRow(0)
    confirmed = panel.current_tag()
    qtbot.keyClick(panel.grid, Qt.Key.Key_C)
    panel.chips.setCurrentRow(1)
    rejected = panel.current_tag()
    qtbot.keyClick(panel.grid, Qt.Key.Key_X)
    # another photo: the highlight of the previous photo does not carry over; A accepts what it shows
    panel.grid.setCurrentIndex(panel.model.index(1))
    other = panel.current_path()
    assert other != path and panel.chips.currentRow() == 0
    panel.add_label("square")
    assert panel.decisions_label.text() == "3 decisions since the last training"
    assert panel.retrain_button.isEnabled()
    before = {lab: s for lab, s, _ in api.image_tags(project, other)}
    panel.retrain_button.click()
    job = panel._retrain_job
    assert job is not None and not panel.retrain_button.isEnabled()
    with qtbot.waitSignal(job.done, timeout=60000):
        pass
    qtbot.waitUntil(lambda: panel.decisions_label.text() == "0 decisions since the last training", timeout=5000)
    tags = {lab: (s, src) for lab, s, src in api.image_tags(project, path)}
    assert tags[confirmed][1] == "confirmed" and tags[rejected][1] == "rejected"
    after = {lab: (s, src) for lab, s, src in api.image_tags(project, other)}
    assert after["square"][1] == "manual"
    assert any(after[lab][0] != before[lab] for lab in after if after[lab][1] == "auto")
    assert not panel.retrain_button.isEnabled()
    assert panel.model.wait(5000)
