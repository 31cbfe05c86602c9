"""The one error dialog: every job failure and uncaught exception ends here (and in the log)."""

from __future__ import annotations

import traceback

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)


def describe(exc: BaseException) -> tuple[str, str]:
    """A short headline and a one-paragraph explanation for an exception."""
    from engine.errors import EngineError

    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, EngineError):
        return name, text
    return f"Unexpected error ({name})", f"{text}\n\nThis is probably a bug; the details below help to report it."


class ErrorDialog(QDialog):
    """Non-blocking; a second error while it is open is appended instead of stacking dialogs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorDialog")
        self.setWindowTitle("Something went wrong")
        self.setMinimumWidth(520)
        self.errors: list[BaseException] = []
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.headline = QLabel()
        self.headline.setProperty("role", "title")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setVisible(False)
        self.details.setMinimumHeight(180)
        self.toggle = QPushButton("Show details")
        self.toggle.setCheckable(True)
        self.toggle.toggled.connect(self._toggle)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.details.toPlainText()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.accept)
        buttons.addButton(self.toggle, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.message)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)

    def add_error(self, exc: BaseException, tb: str = "", context: str = "") -> None:
        self.errors.append(exc)
        headline, message = describe(exc)
        if context:
            message = f"{context}: {message}"
        if len(self.errors) > 1:
            headline = f"{headline} (and {len(self.errors) - 1} earlier)"
        self.headline.setText(headline)
        self.message.setText(message)
        tb = tb or "".join(traceback.format_exception(exc))
        prefix = "\n" + "-" * 60 + "\n" if self.details.toPlainText() else ""
        self.details.appendPlainText(prefix + (f"[{context}]\n" if context else "") + tb.rstrip())

    def _toggle(self, on: bool) -> None:
        self.details.setVisible(on)
        self.toggle.setText("Hide details" if on else "Show details")
        self.adjustSize()

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        self.errors.clear()
        self.details.clear()
        super().done(result)


class ErrorReporter:
    """Owns the single dialog of a window."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent
        self.dialog: ErrorDialog | None = None

    def show(self, exc: BaseException, tb: str = "", context: str = "") -> ErrorDialog:
        if self.dialog is None:
            self.dialog = ErrorDialog(self.parent)
        self.dialog.add_error(exc, tb, context)
        if not self.dialog.isVisible():
            self.dialog.open()
        self.dialog.raise_()
        return self.dialog
