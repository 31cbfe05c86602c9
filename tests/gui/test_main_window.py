"""The window: panels open, projects open and are remembered, failures reach the one error dialog."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QApplication

from engine.errors import ModelNotFound
from t2ipal_gui.dialogs.error import ErrorDialog
from t2ipal_gui.main_window import PANELS, MainWindow


def test_every_panel_opens_without_a_project(window, qtbot):
    for cls in PANELS:
        panel = window.show_panel(cls.key())
        assert window.stack.currentWidget() is panel and panel.isVisible()
        assert panel.empty.label.text()  # an explanatory empty state, never a blank page


def test_every_panel_opens_with_a_project(project_window, qtbot):
    for cls in PANELS:
        panel = project_window.show_panel(cls.key())
        assert panel.isVisible()
        assert panel.stack.currentWidget() is panel.scroller and panel.scroller.widget() is panel.content
    assert "proj" in project_window.windowTitle()


def test_recent_projects_and_geometry_are_remembered(ctx, qtbot, tmp_path):
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    win.open_project(tmp_path / "a", create=True)
    win.open_project(tmp_path / "b", create=True)
    win.resize(790, 700)
    qtbot.wait(10)
    size = win.size()
    win.show_panel("training")
    win.close()
    assert ctx.settings.recent_projects()[:2] == [str(tmp_path / "b"), str(tmp_path / "a")]
    again = MainWindow(ctx)
    qtbot.addWidget(again)
    assert again.size().height() == size.height() >= 640  # offscreen screens clamp the width at 800
    assert again.stack.currentWidget() is again.panels["training"]
    menu = again.recent_menu_actions()
    assert [a.text() for a in menu.actions()][:2] == [str(tmp_path / "b"), str(tmp_path / "a")]


def test_engine_error_in_a_job_ends_in_the_error_dialog(window, qtbot):
    def load(*, progress, cancel):
        raise ModelNotFound("no weights in /models/x; download them with `t2ipal fetch`")

    job = window.ctx.runner.start(load, name="Loading model")
    qtbot.waitUntil(lambda: window.errors.dialog is not None and window.errors.dialog.isVisible(), timeout=5000)
    dialog = window.findChild(ErrorDialog)
    assert dialog is window.errors.dialog
    assert dialog.headline.text() == "Loading model: model weights are missing"
    assert "t2ipal fetch" in dialog.message.text() and "bug" not in dialog.message.text()
    assert dialog.action_button.text() == "Open Model Manager…" and dialog.action_button.isVisible()
    assert not dialog.details.isVisible()
    assert "Traceback" in dialog.details.toPlainText()
    assert job.state == "failed"
    qtbot.waitUntil(lambda: "Loading model failed" in window.log_panel.text(), timeout=3000)
    # a second failure is appended to the same dialog
    window.ctx.report(ValueError("bad"), "Second")
    assert "and 1 earlier" in dialog.headline.text()
    dialog.accept()
    assert not dialog.isVisible()


def test_opening_a_missing_project_reports_an_error(window, qtbot, tmp_path):
    assert not window.open_project(tmp_path / "missing")
    assert window.errors.dialog.isVisible()
    assert "does not exist" in window.errors.dialog.message.text()


def test_log_panel_shows_engine_records(window, qtbot):
    logging.getLogger("engine.test").info("hello from the engine")
    qtbot.waitUntil(lambda: "hello from the engine" in window.log_panel.text(), timeout=20000)  # loaded CI machine
    window.log_panel.level.setCurrentText("Warning")
    assert "hello from the engine" not in window.log_panel.text()


def test_uncaught_exception_goes_to_the_dialog(window, qtbot):
    import sys

    from t2ipal_gui.app import install_excepthook

    relay = install_excepthook()
    relay.raised.connect(lambda exc, where: window.errors.show(exc, context=where))
    try:
        raise RuntimeError("slot blew up")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: window.errors.dialog is not None and window.errors.dialog.isVisible(), timeout=3000)
    assert "slot blew up" in window.errors.dialog.message.text()
    sys.excepthook = sys.__excepthook__


def test_theme_switch(window, qtbot):
    from t2ipal_gui.theme import apply_theme, is_dark

    app = QApplication.instance()
    assert apply_theme(app, "dark") and is_dark(app.palette())
    assert not apply_theme(app, "light") and not is_dark(app.palette())
