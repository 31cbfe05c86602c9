"""The first hour, continued on a demo-like tagged project: Browse review with the keyboard, multi-step undo from
the Edit menu, badges, review-state filter and search narrowing the grid, thumbnail size, the heatmap's legend and
off switch, a missing photo, and a CSV export whose rows are exactly the tags Browse shows."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from engine import api
from t2ipal_gui.models.thumbnails import REVIEW_ROLE
from t2ipal_gui.panels.browse import THUMB_SETTING
from t2ipal_gui.panels.heatmap import colour_heatmap

ROOT = Path(__file__).resolve().parents[2]


def _sample(tmp_path: Path) -> Path:
    spec = importlib.util.spec_from_file_location("make_screenshots", ROOT / "docs" / "make_screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_project(tmp_path)


def _rows(panel) -> list[str]:
    return [panel.model.paths[r] for r in range(panel.model.rowCount())]


def _chips(panel) -> dict[str, bool]:
    """label -> in force, as the chips of the photo shown list them."""
    items = [panel.chips.item(i) for i in range(panel.chips.count())]
    return {item.data(Qt.ItemDataRole.UserRole): bool(item.data(Qt.ItemDataRole.UserRole + 2)) for item in items}


def test_browse_review_undo_filters_heatmap_and_export(window, qtbot, tmp_path):
    root = _sample(tmp_path)
    (tmp_path / "Photos" / "2024 Summer" / "IMG_1017.jpg").unlink()  # moved away since tagging
    assert window.open_project(root)
    project = window.ctx.project
    panel = window.show_panel("browse")
    assert panel.count_label.text() == "18 of 18 photos" and panel.model.rowCount() == 18
    # badges: the first photo has a confirmed and a rejected tag; the others none yet
    first = panel.model.data(panel.model.index(0), REVIEW_ROLE)
    assert (first.confirmed, first.rejected) == (1, 1)
    assert not panel.model.data(panel.model.index(1), REVIEW_ROLE).reviewed

    # keyboard review of the photo shown: C confirms its top tag, X rejects the next one
    panel.grid.setCurrentIndex(panel.model.index(1))
    path = panel.current_path()
    before = api.image_tags(project, path)
    panel.grid.setFocus()
    assert panel.chips.currentRow() == 0
    top = panel.current_tag()
    qtbot.keyClick(panel.grid, Qt.Key.Key_C)
    second = panel.current_tag()
    assert second != top
    qtbot.keyClick(panel.grid, Qt.Key.Key_X)
    tags = {lab: src for lab, _s, src in api.image_tags(project, path)}
    assert (tags[top], tags[second]) == ("confirmed", "rejected")
    state = panel.model.data(panel.model.index(1), REVIEW_ROLE)
    assert (state.confirmed, state.rejected) == (1, 1)  # the badge follows at once

    # Edit → Undo, two steps, newest first; the badge and the chips follow
    assert window.undo_action.isEnabled()
    assert window.undo_action.text().replace("&", "") == f"Undo Reject {second}"
    window.undo_action.trigger()
    assert {lab: src for lab, _s, src in api.image_tags(project, path)}[second] == "auto"
    assert window.undo_action.text().replace("&", "") == f"Undo Confirm {top}"
    window.undo_action.trigger()
    assert api.image_tags(project, path) == before and not panel.undo_button.isEnabled()
    assert not panel.model.data(panel.model.index(1), REVIEW_ROLE).reviewed
    window.redo_action.trigger()  # Redo decides again
    assert {lab: src for lab, _s, src in api.image_tags(project, path)}[top] == "confirmed"
    assert panel.undo_button.isEnabled() and panel.decisions[-1].label == top

    # review-state filters narrow the grid and say how many
    panel.review.setCurrentIndex(panel.review.findData("reviewed"))
    assert panel.count_label.text() == "2 of 18 photos" and len(_rows(panel)) == 2 and path in _rows(panel)
    panel.review.setCurrentIndex(panel.review.findData("rejected"))
    assert panel.count_label.text() == "1 of 18 photos" and path not in _rows(panel)
    panel.review.setCurrentIndex(panel.review.findData("unreviewed"))
    assert panel.count_label.text() == "16 of 18 photos" and path not in _rows(panel)
    panel.review.setCurrentIndex(panel.review.findData("all"))
    # the search box: every word in the file name or folder
    panel.search.setText("img_100")
    qtbot.waitUntil(lambda: panel.count_label.text() == "10 of 18 photos", timeout=3000)
    assert [Path(p).name for p in _rows(panel)] == [f"IMG_{1000 + i}.jpg" for i in range(10)]
    panel.search.setText("summer 1017")
    qtbot.waitUntil(lambda: panel.count_label.text() == "1 of 18 photos", timeout=3000)
    # that photo is missing on disk: a plain message, not a broken image
    assert panel.preview.text() == "This photo is missing (moved or deleted?)"
    panel.search.clear()
    qtbot.waitUntil(lambda: panel.count_label.text() == "18 of 18 photos", timeout=3000)

    # thumbnail size: remembered, and the columns share the whole width
    window.resize(1500, 900)
    qtbot.waitUntil(lambda: panel.grid.viewport().width() > 450, timeout=3000)
    panel.size_slider.setValue(200)
    assert panel.grid.iconSize().width() == 200 and int(window.ctx.settings.value(THUMB_SETTING)) == 200
    columns, cell = panel.grid.columns(), panel.grid.gridSize().width()
    assert columns >= 2 and cell >= 200 and 0 <= panel.grid.viewport().width() - columns * cell < columns

    # the heatmap: a legend naming the label, and an off switch that shows the photo alone
    panel.grid.setCurrentIndex(panel.model.index(2))
    assert not panel.heat_row.isVisible()
    label = panel.current_tag()
    heat = np.tile(np.linspace(0, 1, 7, dtype=np.float32), (7, 1))
    panel._heatmap_ready(panel.current_path(), label, colour_heatmap(heat))
    assert panel.heat_row.isVisible() and panel.legend.title.text() == f"Where the model sees “{label}”"
    with_heat = panel.preview.pixmap().toImage()
    panel.heat_box.setChecked(False)
    without = panel.preview.pixmap().toImage()
    assert with_heat != without and panel.heat_row.isVisible()  # still there, to switch back on
    panel.heat_box.setChecked(True)
    assert panel.preview.pixmap().toImage() == with_heat
    panel.grid.setCurrentIndex(panel.model.index(3))
    assert not panel.heat_row.isVisible()  # another photo: no stale heatmap

    # export CSV: one row per tag in force, exactly the tags Browse shows for every photo
    job = panel.export_to("csv", str(tmp_path / "tags.csv"))
    with qtbot.waitSignal(job.finished, timeout=10000):
        pass
    with open(tmp_path / "tags.csv", newline="") as fh:
        exported: dict[str, set[str]] = {}
        for row in csv.DictReader(fh):
            exported.setdefault(row["path"], set()).add(row["label"])
    shown = {}
    for r in range(panel.model.rowCount()):
        panel.grid.setCurrentIndex(panel.model.index(r))
        in_force = {lab for lab, on in _chips(panel).items() if on}
        if in_force:
            shown[panel.current_path()] = in_force
    assert exported == shown and len(exported) > 0
    assert panel.model.wait(5000)
