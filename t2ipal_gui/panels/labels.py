"""Labels panel: edit a label set (names, synonyms, parent, "not this" phrases), load a bundled set, validate inline."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QUndoCommand, QUndoStack
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
from t2ipal_gui.dialogs import confirm as ask
from t2ipal_gui.panels.base import Panel

log = logging.getLogger(__name__)
COLUMNS = ("Name", "Synonyms (comma-separated)", "Parent", "Not this (comma-separated)")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def problems_of(exc: EngineError) -> list[str]:
    """The problems an invalid label set reports, without the "label set: … is invalid:" preamble."""
    lines = [line.strip(" -") for line in str(exc).splitlines() if line.strip(" -")]
    items = [line for line in lines if not line.endswith("is invalid:")]
    return [line.removeprefix("label set: ") for line in items] or [str(exc).removeprefix("label set: ")]


def parent_problems(data: dict[str, Any]) -> list[str]:
    """Parents that are another label's synonym (text typed into the wrong cell); a parent that is no label at
    all is a keyword group (e.g. "Animals"), which the hierarchy allows."""
    names = {item["name"] for item in data["labels"]}
    synonym_of = {syn.lower(): item["name"] for item in data["labels"] for syn in item.get("synonyms", [])}
    problems = []
    for item in data["labels"]:
        parent = item.get("parent", "")
        if parent and parent not in names and parent.lower() in synonym_of:
            owner = synonym_of[parent.lower()]
            problems.append(f"{item['name']}: parent '{parent}' is a synonym of {owner}; did you mean {owner}?")
        elif parent == item["name"]:
            problems.append(f"{item['name']}: a label cannot be its own parent")
    return problems


def keyword_groups(data: dict[str, Any]) -> list[str]:
    names = {item["name"] for item in data["labels"]}
    return sorted({item["parent"] for item in data["labels"] if item.get("parent") and item["parent"] not in names})


Rows = list[tuple[str, str, str, str]]


class TableEdit(QUndoCommand):
    """One edit of the label table (a cell, added or removed rows, a loaded set): undo restores the rows before."""

    def __init__(self, panel: LabelsPanel, before: tuple[str, Rows], after: tuple[str, Rows], text: str) -> None:
        super().__init__(text)
        self.panel, self.before, self.after = panel, before, after
        self._first = True

    def redo(self) -> None:
        if self._first:  # the table already shows `after` when the command is pushed
            self._first = False
            return
        self.panel.show_rows(*self.after)

    def undo(self) -> None:
        self.panel.show_rows(*self.before)


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
        self.undo_stack = QUndoStack(self)
        self._shown: tuple[str, Rows] = ("", [])
        self._saved: tuple[str, Rows] = ("", [])
        self.table.itemChanged.connect(lambda _i: self._record("Edit label"))
        self.set_name.editingFinished.connect(lambda: self._record("Rename label set"))

    # -- table <-> label set --------------------------------------------------------------------
    def add_row(self, name: str = "", synonyms: str = "", parent: str = "", not_this: str = "") -> None:
        row = self.table.rowCount()
        blocked = self.table.blockSignals(True)
        self.table.insertRow(row)
        for col, text in enumerate((name, synonyms, parent, not_this)):
            self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.blockSignals(blocked)
        if not name and not blocked:
            self._record("Add label")
            # the new row's first cell becomes current, so Tab walks along this row (name → synonyms → parent …)
            self.table.setFocus()
            self.table.setCurrentCell(row, 0)
            first = self.table.item(row, 0)
            if first is not None:
                self.table.editItem(first)

    def _remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self._record("Remove labels")
        self._schedule()

    # -- undo -----------------------------------------------------------------------------------
    def rows(self) -> Rows:
        return [tuple(self._cell(r, c) for c in range(len(COLUMNS))) for r in range(self.table.rowCount())]  # type: ignore[misc]

    def _record(self, text: str) -> None:
        now = (self.set_name.text().strip(), self.rows())
        if now != self._shown:
            self.undo_stack.push(TableEdit(self, self._shown, now, text))
            self._shown = now

    def show_rows(self, name: str, rows: Rows) -> None:
        """Show exactly these rows (undo / redo), without recording a new edit."""
        for widget in (self.table, self.set_name):
            widget.blockSignals(True)
        self.table.setRowCount(0)
        for row in rows:
            self.add_row(*row)
        self.set_name.setText(name)
        for widget in (self.table, self.set_name):
            widget.blockSignals(False)
        self._shown = (name, list(rows))
        self.validate()

    def is_dirty(self) -> bool:
        """Edits not saved to the project yet (Close Project asks first)."""
        return (self.set_name.text().strip(), self.rows()) != self._saved

    def set_labelset(self, labelset: LabelSet, *, record: str = "") -> None:
        """Show `labelset`; `record` names the undoable edit (empty: it is the project's saved state)."""
        rows: Rows = [(label.name, ", ".join(label.synonyms), label.parent or "", ", ".join(label.not_this))
                      for label in labelset.labels]
        before = self._shown
        self.show_rows(labelset.name, rows)
        if record:
            self.undo_stack.push(TableEdit(self, before, self._shown, record))
        else:
            self._saved = self._shown
            self.undo_stack.clear()

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
        labelset: LabelSet | None = None
        data = self.to_dict()
        if not data["labels"]:  # nothing typed yet: a hint, not an error
            self.errors = []
            self._show_validation("subtitle", "No labels yet: add some, or load a bundled set to start from.")
            self.save_button.setEnabled(False)
            return None
        try:
            labelset = LabelSet.from_dict(data, source="label set")
            self.errors = parent_problems(data)
        except EngineError as exc:
            self.errors = problems_of(exc)
        if self.errors:
            more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
            self._show_validation("error", "⚠ " + "; ".join(self.errors[:3]) + more)
            self.save_button.setEnabled(False)
            return None
        if labelset is not None:
            groups = keyword_groups(data)
            note = f" · keyword groups (parents that are not labels): {', '.join(groups)}" if groups else ""
            self._show_validation("subtitle", f"✓ {len(labelset)} labels, valid{note}")
            self.save_button.setEnabled(True)
        return labelset

    def _show_validation(self, role: str, text: str) -> None:
        self.validation.setProperty("role", role)
        self.validation.setText(text)
        self.validation.style().unpolish(self.validation)
        self.validation.style().polish(self.validation)

    # -- actions --------------------------------------------------------------------------------
    def load_bundled(self, name: str) -> bool:
        """Replace the table with a bundled set; asks first when it holds labels (undo brings them back)."""
        if self.to_dict()["labels"] and not ask.confirm(
                self, "Load bundled label set", f"Replace your {len(self.to_dict()['labels'])} labels with "
                f"the bundled set “{name}”?", "Replace", informative="Edit → Undo brings them back."):
            return False
        self.set_labelset(LabelSet.bundled(name), record=f"Load {name}")
        self._schedule()
        return True

    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a label set", "", "Label sets (*.json *.yaml *.yml)")
        if path:
            try:
                self.set_labelset(LabelSet.from_file(path), record="Import label set")
            except EngineError as exc:
                self.ctx.report(exc, "Importing a label set")

    def save(self) -> bool:
        labelset = self.validate()
        if labelset is None or self.project is None:
            return False
        path = api.save_labels(self.project, labelset)
        self._saved = (self.set_name.text().strip(), self.rows())
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
        self.undo_stack.clear()
        self._shown = self._saved = ("", [])

    def refresh(self) -> None:
        project = self.active_project
        if not project.labelset_path.exists():
            self.reset()
            self.validate()
            return
        try:
            self.set_labelset(api.load_labels(project))
        except EngineError as exc:
            self.ctx.report(exc, "Loading the project's label set")
