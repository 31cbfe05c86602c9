"""The Training panel after a training still shows its Start, Cancel and Export buttons without scrolling."""

from __future__ import annotations

from PySide6.QtCore import QPoint


def test_start_and_export_stay_in_view_once_plots_and_summary_are_filled(project_window, qtbot):
    window = project_window
    window.resize(1280, 800)
    train = window.show_panel("training")
    train.summary.setText("Trained t2ipal, held-out mAP 91.2 at epoch 20 of 20; 2,400 captions, 1,800 images. " * 2)
    train.per_label.set_values({f"label {i}": i / 10 for i in range(8)}, "held-out AP per label")
    for epoch in range(1, 21):
        train.plot.add(epoch, 4.0 - epoch * 0.1, 60 + epoch)
    qtbot.wait(50)  # let the layouts settle
    viewport = train.scroller.viewport()
    assert train.content.height() <= viewport.height()  # nothing to scroll to
    for row in (train.job_row, train.export_row):
        for button in (row.start, row.cancel):
            top_left = button.mapTo(viewport, QPoint(0, 0))
            assert viewport.rect().contains(top_left) and top_left.y() + button.height() <= viewport.height()
    assert train.plot.height() >= train.plot.minimumHeight()
