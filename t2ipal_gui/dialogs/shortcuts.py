"""Help → Keyboard Shortcuts: every menu action with a shortcut (read from the menus, so never out of date)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

DOCS_ONLINE = "https://pypi.org/project/t2ipal-tagger/"
PANEL_KEYS = [("Delete / Backspace", "Synthesis: delete the selected images (asks first)"),
              ("Tab / Shift+Tab", "Labels: next / previous cell of the row being edited")]


def docs_url() -> QUrl:
    """The user guide: docs/gui.md of this checkout when it is there, else the project page."""
    local = Path(__file__).resolve().parents[2] / "docs" / "gui.md"
    return QUrl.fromLocalFile(str(local)) if local.is_file() else QUrl(DOCS_ONLINE)


def menu_shortcuts(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(menu, action, shortcut) for every menu action that has a shortcut, in menu order."""
    rows = []
    for top in window.menuBar().actions():
        menu = top.menu()
        if not isinstance(menu, QMenu):
            continue
        for action in menu.actions():
            if isinstance(action, QAction) and not action.shortcut().isEmpty():
                rows.append((top.text().replace("&", ""), action.text().replace("&", ""),
                             action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard Shortcuts")
        self.setMinimumSize(460, 420)
        rows = [(f"{menu} → {action}", keys) for menu, action, keys in menu_shortcuts(window)]
        rows += [(what, keys) for keys, what in PANEL_KEYS]
        self.table = QTableWidget(len(rows), 2)
        self.table.setObjectName("shortcutTable")
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for r, (what, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(what))
            self.table.setItem(r, 1, QTableWidgetItem(keys))
        guide = QLabel(f'More in the <a href="{docs_url().toString()}">user guide</a>.')
        guide.setOpenExternalLinks(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(guide)
        layout.addWidget(buttons)
