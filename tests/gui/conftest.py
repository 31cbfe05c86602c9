"""GUI test setup: offscreen Qt, settings isolated in tmp_path, one window per test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, qapp):
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    from t2ipal_gui.settings import AppSettings

    settings = AppSettings()
    settings.q.clear()
    return settings


@pytest.fixture
def ctx(isolated_settings, qtbot):
    from t2ipal_gui import logbridge
    from t2ipal_gui.context import AppContext

    logbridge.install()
    context = AppContext(isolated_settings)
    yield context
    context.runner.shutdown(5000)


@pytest.fixture
def window(ctx, qtbot):
    from t2ipal_gui.main_window import MainWindow

    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.fixture
def project_window(window, tmp_path):
    assert window.open_project(tmp_path / "proj", create=True)
    return window
