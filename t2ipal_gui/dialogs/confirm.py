"""One question before a destructive action: a QMessageBox whose default is the safe answer."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm(parent: QWidget | None, title: str, text: str, accept: str, *, informative: str = "") -> bool:
    """True when the user chose `accept`; Cancel (the default, and Esc) keeps everything as it is."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText(informative)
    yes = box.addButton(accept, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes
