"""The one error dialog: message first in plain words, the fixing action as a button, details folded."""

from __future__ import annotations

import traceback
from collections.abc import Callable

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
    QToolButton,
    QVBoxLayout,
    QWidget,
)

# Headlines for conditions a user meets on purpose-built paths (EngineError subclasses); never "a bug".
HEADLINES = {
    "ModelNotFound": "Model weights are missing",
    "InputError": "Please check the input",
    "ConfigError": "A setting is not valid",
    "DependencyMissing": "A component is not installed",
    "ArtifactError": "A saved model cannot be used",
    "ExportError": "The export did not succeed",
    "StorageError": "The project could not be read or written",
    "Cancelled": "Stopped",
}
NEVER_DOWNLOAD_HINT = (
    "While “Never download” is ticked in Preferences the app uses only models already on this computer. "
    "On a connected machine, open the model manager and fetch the model (it stays available offline), "
    "or untick “Never download”."
)
OPEN_MODEL_MANAGER = "Open Model Manager…"


def describe(exc: BaseException) -> tuple[str, str]:
    """A short headline and a one-paragraph explanation for an exception."""
    from engine.errors import EngineError, ModelNotFound

    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, EngineError):
        headline = next((HEADLINES[k.__name__] for k in type(exc).__mro__ if k.__name__ in HEADLINES),
                        "Cannot continue")
        if isinstance(exc, ModelNotFound):
            text = f"{text}\n\n{NEVER_DOWNLOAD_HINT}"
        return headline, text
    return f"Unexpected error ({name})", f"{text}\n\nThis is probably a bug; the details below help to report it."


def fixing_action(exc: BaseException) -> str:
    """The label of the button that fixes `exc`, or "" when none does."""
    from engine.errors import ModelNotFound

    needs_model = isinstance(exc, ModelNotFound) or getattr(exc, "needs_model", False)
    return OPEN_MODEL_MANAGER if needs_model else ""


class ErrorDialog(QDialog):
    """Non-blocking; a second error while it is open is appended instead of stacking dialogs."""

    def __init__(self, parent: QWidget | None = None, actions: dict[str, Callable[[], object]] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorDialog")
        self.setWindowTitle("T2I-PAL Tagger")
        self.setMinimumWidth(520)
        self.errors: list[BaseException] = []
        self.fixes = actions or {}
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.headline = QLabel()
        self.headline.setObjectName("errorHeadline")
        self.headline.setProperty("role", "title")
        self.headline.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("errorMessage")
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(420)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.toggle = QToolButton()
        self.toggle.setObjectName("errorDetailsToggle")
        self.toggle.setText("Details")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAutoRaise(True)
        self.toggle.toggled.connect(self._toggle)
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setObjectName("errorDetails")
        self.details.setMinimumHeight(180)
        self.details.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.accept)
        self.action_button = QPushButton()
        self.action_button.setProperty("role", "primary")
        self.action_button.setVisible(False)
        self.action_button.clicked.connect(self._run_action)
        self.buttons.addButton(self.action_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy = QPushButton("Copy Details")
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.details.toPlainText()))
        self.buttons.addButton(self.copy, QDialogButtonBox.ButtonRole.HelpRole)
        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.message)
        text.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.buttons)

    def add_error(self, exc: BaseException, tb: str = "", context: str = "") -> None:
        self.errors.append(exc)
        headline, message = describe(exc)
        if context:
            headline = f"{context}: {headline[0].lower()}{headline[1:]}" if headline else context
        if len(self.errors) > 1:
            headline = f"{headline} (and {len(self.errors) - 1} earlier)"
        self.headline.setText(headline)
        self.message.setText(message)
        action = fixing_action(exc)
        self.action_button.setText(action)
        self.action_button.setVisible(bool(action) and action in self.fixes)
        tb = tb or "".join(traceback.format_exception(exc))
        prefix = "\n" + "-" * 60 + "\n" if self.details.toPlainText() else ""
        self.details.appendPlainText(prefix + (f"[{context}]\n" if context else "") + tb.rstrip())
        self.adjustSize()

    def _run_action(self) -> None:
        slot = self.fixes.get(self.action_button.text())
        self.accept()
        if slot is not None:
            slot()

    def _toggle(self, on: bool) -> None:
        self.details.setVisible(on)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.adjustSize()

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        self.errors.clear()
        self.details.clear()
        self.toggle.setChecked(False)
        super().done(result)


class ErrorReporter:
    """Owns the single dialog of a window; `actions` maps a fixing action's label to its slot."""

    def __init__(self, parent: QWidget, actions: dict[str, Callable[[], object]] | None = None) -> None:
        self.parent = parent
        self.actions = actions or {}
        self.dialog: ErrorDialog | None = None

    def show(self, exc: BaseException, tb: str = "", context: str = "") -> ErrorDialog:
        if self.dialog is None:
            self.dialog = ErrorDialog(self.parent, self.actions)
        self.dialog.add_error(exc, tb, context)
        if not self.dialog.isVisible():
            self.dialog.open()
        self.dialog.raise_()
        return self.dialog
