"""Labels panel: edit a label set (names, synonyms, parent, "not this" phrases), load a bundled set, validate inline."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import api
from engine.errors import EngineError
from engine.labels import LabelSet
from t2ipal_gui.panels.base import Panel

log = logging.getLogger(__name__)
COLUMNS = ("Name", "Synonyms (comma-separated)", "Parent", "Not this (comma-separated)")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class LabelsPanel(Panel):
    title = "Labels"
    subtitle = "The labels you want in your photos: a name, the words captions use for it, an optional parent."

    def build(self, content: QWidget) -> None:
        self.set_name = QLineEdit()
        self.set_name.setPlaceholderText("label set name")
        self.set_name.setMaximumWidth(220)
        self.bundled = QComboBox()
        self.bundled.addItems(LabelSet.list_bundled())
        load = QPushButton("Load bundled set")
        load.clicked.connect(lambda: self.load_bundled(self.bundled.currentText()))
        if not self.bundled.count():
            self.bundled.addItem("(no bundled sets)")
            self.bundled.setEnabled(False)
            load.setEnabled(False)
        import_button = QPushButton("Import file…")
        import_button.clicked.connect(self._import)
        top = QHBoxLayout()
        top.addWidget(QLabel("Name:"))
        top.addWidget(self.set_name)
        top.addStretch(1)
        top.addWidget(self.bundled)
        top.addWidget(load)
        top.addWidget(import_button)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("labelTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 150)
        self.table.setColumnWidth(2, 120)
        self.table.itemChanged.connect(lambda _i: self._schedule())
        self.set_name.textChanged.connect(lambda _t: self._schedule())
        add = QPushButton("Add label")
        add.clicked.connect(lambda: self.add_row())
        remove = QPushButton("Remove selected")
        remove.clicked.connect(self._remove_selected)
        self.save_button = QPushButton("Save")
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(self.save)
        self.validation = QLabel()
        self.validation.setObjectName("labelValidation")
        self.validation.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(add)
        bottom.addWidget(remove)
        bottom.addWidget(self.validation, 1)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.validate)
        self.errors: list[str] = []

    # -- table <-> label set --------------------------------------------------------------------
    def add_row(self, name: str = "", synonyms: str = "", parent: str = "", not_this: str = "") -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        items = [QTableWidgetItem(text) for text in (name, synonyms, parent, not_this)]
        for col, item in enumerate(items):
            self.table.setItem(row, col, item)
        if not name:
            self.table.editItem(items[0])

    def _remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self._schedule()

    def set_labelset(self, labelset: LabelSet) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for label in labelset.labels:
            self.add_row(label.name, ", ".join(label.synonyms), label.parent or "", ", ".join(label.not_this))
        self.table.blockSignals(False)
        self.set_name.setText(labelset.name)
        self.validate()

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""

    def to_dict(self) -> dict[str, Any]:
        labels: list[dict[str, Any]] = []
        for row in range(self.table.rowCount()):
            cells = [self._cell(row, c) for c in range(len(COLUMNS))]
            if not any(cells):
                continue
            item: dict[str, Any] = {"name": cells[0]}
            if cells[1]:
                item["synonyms"] = _split(cells[1])
            if cells[2]:
                item["parent"] = cells[2]
            if cells[3]:
                item["not_this"] = _split(cells[3])
            labels.append(item)
        return {"name": self.set_name.text().strip() or "my labels", "labels": labels}

    def _schedule(self) -> None:
        self._timer.start()

    def validate(self) -> LabelSet | None:
        labelset: LabelSet | None
        try:
            labelset = LabelSet.from_dict(self.to_dict(), source="label set")
        except EngineError as exc:
            self.errors = [line.strip(" -") for line in str(exc).splitlines() if line.strip(" -")]
            text = "⚠ " + "; ".join(self.errors[-3:])
            self.validation.setProperty("role", "error")
            self.validation.setText(text)
            self.save_button.setEnabled(False)
            labelset = None
        else:
            self.errors = []
            self.validation.setProperty("role", "subtitle")
            self.validation.setText(f"✓ {len(labelset)} labels, valid")
            self.save_button.setEnabled(True)
        self.validation.style().unpolish(self.validation)
        self.validation.style().polish(self.validation)
        return labelset

    # -- actions --------------------------------------------------------------------------------
    def load_bundled(self, name: str) -> None:
        self.set_labelset(LabelSet.bundled(name))

    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a label set", "", "Label sets (*.json *.yaml *.yml)")
        if path:
            try:
                self.set_labelset(LabelSet.from_file(path))
            except EngineError as exc:
                self.ctx.report(exc, "Importing a label set")

    def save(self) -> bool:
        labelset = self.validate()
        if labelset is None or self.project is None:
            return False
        path = api.save_labels(self.project, labelset)
        log.info("saved %d labels to %s", len(labelset), path)
        self.ctx.data_changed.emit("labels")
        return True

    def reset(self) -> None:
        self._timer.stop()
        for widget in (self.table, self.set_name):
            widget.blockSignals(True)
        self.table.setRowCount(0)
        self.set_name.setText("")
        for widget in (self.table, self.set_name):
            widget.blockSignals(False)
        self.validation.setText("")

    def refresh(self) -> None:
        project = self.active_project
        if not project.labelset_path.exists():
            self.reset()
            self.validation.setProperty("role", "subtitle")
            self.validation.setText("No labels yet: add some, or load a bundled set to start from.")
            return
        try:
            self.set_labelset(api.load_labels(project))
        except EngineError as exc:
            self.ctx.report(exc, "Loading the project's label set")
