"""Access to bundled resources (the app icon) without Qt's resource compiler."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

ICON_DIR = Path(__file__).resolve().parent / "icons"
APP_ICON = ICON_DIR / "t2ipal.svg"


def app_icon() -> QIcon:
    return QIcon(str(APP_ICON))
