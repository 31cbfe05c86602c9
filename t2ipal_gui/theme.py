"""Light / dark theme on the Fusion style, following the system's colour scheme unless the user picks one."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from t2ipal_gui.resources import ICON_DIR

ACCENT = "#3d7be0"
CHECK_ICON = ICON_DIR / "check.svg"

_QSS = """
QListWidget#nav { border: none; padding: 6px 4px; font-size: 10.5pt; }
QListWidget#nav::item { padding: 7px 10px; border-radius: 6px; margin: 1px 2px; }
QListWidget#nav::item:selected { background: %(accent)s; color: white; }
QLabel[role="title"] { font-size: 15pt; font-weight: 600; }
QLabel[role="subtitle"] { color: %(muted)s; }
QLabel[role="empty"] { color: %(muted)s; font-size: 11pt; }
QLabel[role="warning"] { color: %(warn)s; }
QLabel[role="error"] { color: %(error)s; }
QLabel[role="stage"] { font-weight: 600; }
QFrame[role="chip"] { border: 1px solid %(chipborder)s; border-radius: 10px; background: %(chipbg)s; }
QFrame[role="chip"][state="confirmed"] { border: 1px solid #3a9d5d; background: %(okbg)s; }
QFrame[role="chip"][state="rejected"] { border: 1px solid %(error)s; background: %(errbg)s; }
QPushButton[role="primary"] { background: %(accent)s; color: white; border: none; border-radius: 5px;
    padding: 6px 14px; font-weight: 600; }
QPushButton[role="primary"]:disabled { background: %(muted)s; }
QGroupBox { font-weight: 600; }
QCheckBox::indicator, QGroupBox::indicator { width: 14px; height: 14px; border: 1px solid %(boxborder)s;
    border-radius: 3px; background: %(boxbg)s; }
QCheckBox::indicator:hover { border-color: %(accent)s; }
QCheckBox::indicator:checked, QGroupBox::indicator:checked { background: %(accent)s; border-color: %(accent)s;
    image: url(%(check)s); }
QCheckBox::indicator:disabled { border-color: %(muted)s; background: transparent; }
"""


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(0x1E, 0x20, 0x24), QColor(0x2A, 0x2D, 0x33), QColor(0xE6, 0xE6, 0xE6)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(0x26, 0x29, 0x2E),
        QPalette.ColorRole.ToolTipBase: window,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(0x33, 0x37, 0x3E),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Highlight: QColor(ACCENT),
        QPalette.ColorRole.HighlightedText: QColor("white"),
        QPalette.ColorRole.Link: QColor("#7fb0ff"),
        QPalette.ColorRole.PlaceholderText: QColor(0x8A, 0x8F, 0x98),
        QPalette.ColorRole.Mid: QColor(0x44, 0x48, 0x50),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(0x7A, 0x7F, 0x88))
    return p


def light_palette() -> QPalette:
    p = QApplication.style().standardPalette()
    p.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("white"))
    return p


def apply_theme(app: QApplication, choice: str = "system") -> bool:
    """Apply "system", "light" or "dark"; returns whether the result is dark."""
    if "fusion" in QStyleFactory.keys() or "Fusion" in QStyleFactory.keys():
        app.setStyle("Fusion")
    dark = system_is_dark() if choice == "system" else choice == "dark"
    app.setPalette(dark_palette() if dark else light_palette())
    colours = {
        "accent": ACCENT,
        "muted": "#9099a5" if dark else "#6b7280",
        "warn": "#f0b429" if dark else "#b7791f",
        "error": "#ff7b7b" if dark else "#c53030",
        "chipbg": "#353a42" if dark else "#eef1f5",
        "chipborder": "#4a505a" if dark else "#c9d0da",
        "okbg": "#23402e" if dark else "#e3f4e8",
        "errbg": "#4a2a2a" if dark else "#fbe6e6",
        "boxborder": "#8a909a" if dark else "#7b8494",  # unticked boxes stay visible on either background
        "boxbg": "#1e2024" if dark else "#ffffff",
        "check": CHECK_ICON.as_posix(),
    }
    app.setStyleSheet(_QSS % colours)
    app.setProperty("t2ipal_dark", dark)
    return dark


def follow_system(app: QApplication, current_choice: Callable[[], str]) -> None:
    """Re-apply the theme when the system scheme changes and the user's choice is "system"."""

    def _changed(_scheme: object) -> None:
        if current_choice() == "system":
            apply_theme(app, "system")

    QGuiApplication.styleHints().colorSchemeChanged.connect(_changed)
