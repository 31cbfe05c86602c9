"""New Project: a name, a location, and the label set to start from (empty, a bundled set, or a file)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.labels import LabelSet

EMPTY = "Empty (write your own labels)"
FROM_FILE = "From a file…"


class NewProjectDialog(QDialog):
    def __init__(self, location: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newProjectDialog")
        self.setWindowTitle("New Project")
        self.setMinimumWidth(520)
        self.name = QLineEdit("My photos")
        self.name.selectAll()
        self.location = QLineEdit(location or str(Path.home()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._pick_location)
        where = QHBoxLayout()
        where.addWidget(self.location, 1)
        where.addWidget(browse)
        self.start_from = QComboBox()
        self.start_from.addItems([EMPTY, *LabelSet.list_bundled(), FROM_FILE])
        self.start_from.activated.connect(self._maybe_pick_file)
        self.file = ""
        self.folder_hint = QLabel()
        self.folder_hint.setObjectName("newProjectFolder")
        self.folder_hint.setProperty("role", "subtitle")
        self.folder_hint.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Location:", where)
        form.addRow("Labels:", self.start_from)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.folder_hint)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._check)
        self.location.textChanged.connect(self._check)
        self._check()

    def folder(self) -> Path:
        return Path(self.location.text().strip()).expanduser() / self.name.text().strip()

    def _check(self) -> None:
        name = self.name.text().strip()
        problem = ""
        if not name:
            problem = "Give the project a name."
        elif any(c in name for c in '/\\:*?"<>|'):
            problem = "A name cannot contain / \\ : * ? \" < > |"
        elif self.folder().exists() and any(self.folder().iterdir()):
            problem = f"{self.folder()} already exists and is not empty: choose another name."
        self.folder_hint.setProperty("role", "error" if problem else "subtitle")
        self.folder_hint.setText(problem or f"The project folder will be {self.folder()}")
        self.folder_hint.style().unpolish(self.folder_hint)
        self.folder_hint.style().polish(self.folder_hint)
        self.create_button.setEnabled(not problem)

    def _pick_location(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Where the project folder goes", self.location.text())
        if folder:
            self.location.setText(folder)

    def _maybe_pick_file(self, _index: int) -> None:
        if self.start_from.currentText() != FROM_FILE:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Start from a label set", "", "Label sets (*.json *.yaml *.yml)")
        if path:
            self.file = path
            self.start_from.setItemText(self.start_from.currentIndex(), f"From {Path(path).name}")
        else:
            self.start_from.setCurrentIndex(0)

    def labelset(self) -> LabelSet | None:
        """The label set to start from (None: empty); raises EngineError for an unreadable file."""
        choice = self.start_from.currentIndex()
        if choice == 0:
            return None
        if choice == self.start_from.count() - 1:
            return LabelSet.from_file(self.file) if self.file else None
        return LabelSet.bundled(self.start_from.currentText())

