"""Captions panel: import caption files, add and review captions, per-label counts with warnings for thin labels."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import api
from engine.errors import EngineError, InputError
from engine.labels import LabelSet
from t2ipal_gui.panels.base import Panel
from t2ipal_gui.widgets import JobRow
from t2ipal_gui.workers import Job

log = logging.getLogger(__name__)
SHOW_MAX = 2000
ID_ROLE = Qt.ItemDataRole.UserRole


class DeleteCaptions(QUndoCommand):
    """Delete captions; undo puts them back with their ids and labels."""

    def __init__(self, panel: CaptionsPanel, ids: list[int]) -> None:
        super().__init__(f"Delete {len(ids)} caption{'s' if len(ids) != 1 else ''}")
        self.panel, self.ids = panel, ids
        self.deleted: list[Any] = []

    def redo(self) -> None:
        self.deleted = api.delete_captions(self.panel.active_project, self.ids)
        self.panel.ctx.data_changed.emit("captions")

    def undo(self) -> None:
        api.restore_captions(self.panel.active_project, self.deleted)
        self.panel.ctx.data_changed.emit("captions")


class EditCaption(QUndoCommand):
    """A caption's text changed (already stored when pushed); undo writes the old text back."""

    def __init__(self, panel: CaptionsPanel, caption_id: int, before: str, after: str) -> None:
        super().__init__("Edit caption")
        self.panel, self.caption_id, self.before, self.after = panel, caption_id, before, after
        self._stored = True

    def redo(self) -> None:
        if self._stored:
            self._stored = False
            return
        api.update_caption(self.panel.active_project, self.caption_id, self.after)
        self.panel.ctx.data_changed.emit("captions")

    def undo(self) -> None:
        api.update_caption(self.panel.active_project, self.caption_id, self.before)
        self.panel.ctx.data_changed.emit("captions")


class CaptionsPanel(Panel):
    title = "Captions"
    subtitle = "Sentences that describe scenes with your labels; the images are synthesised from them."

    def build(self, content: QWidget) -> None:
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("captionTable")
        self.table.setHorizontalHeaderLabels(["Caption", "Labels"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 200)
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.DoubleClicked | QTableWidget.EditTrigger.EditKeyPressed)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.itemChanged.connect(self._edited)
        self.undo_stack = QUndoStack(self)
        self.search = QLineEdit()
        self.search.setObjectName("captionSearch")
        self.search.setPlaceholderText("Search captions…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._filter())
        self.delete_button = QPushButton("Delete selected")
        self.delete_button.setToolTip("Delete the selected captions (Del); Edit → Undo brings them back")
        self.delete_button.clicked.connect(self.delete_selected)
        self.shown_count = QLabel()
        self.shown_count.setProperty("role", "subtitle")
        tools = QHBoxLayout()
        tools.addWidget(self.search, 1)
        tools.addWidget(self.shown_count)
        tools.addWidget(self.delete_button)
        self.new_caption = QLineEdit()
        self.new_caption.setPlaceholderText("Write a caption, e.g. “a dog sleeping next to a bicycle”, and press Enter")
        self.new_caption.returnPressed.connect(self.add_caption)
        add = QPushButton("Add")
        add.clicked.connect(self.add_caption)
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_caption, 1)
        add_row.addWidget(add)
        self.generate_row = JobRow("Generate captions", unit="captions")
        self.generate_row.start.setToolTip("Write template captions for every label that has too few")
        self.generate_row.start_clicked.connect(self.generate)
        self.import_row = JobRow("Import file…", unit="captions")
        self.import_row.start_clicked.connect(self._import_dialog)
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 6, 0)
        col.addWidget(self.import_row)
        col.addWidget(self.generate_row)
        col.addLayout(tools)
        col.addWidget(self.table, 1)
        col.addLayout(add_row)
        self.counts = QListWidget()
        self.counts.setObjectName("captionCounts")
        self.warning = QLabel()
        self.warning.setObjectName("thinWarning")
        self.warning.setProperty("role", "warning")
        self.warning.setWordWrap(True)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(6, 0, 0, 0)
        rcol.addWidget(QLabel("Captions per label:"))
        rcol.addWidget(self.counts, 1)
        rcol.addWidget(self.warning)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([700, 260])
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)

    def depends_on(self) -> tuple[str, ...]:
        return ("labels", "captions")

    def labelset(self) -> LabelSet | None:
        try:
            return api.load_labels(self.active_project)
        except InputError:
            return None

    def reset(self) -> None:
        self.table.setRowCount(0)
        self.counts.clear()
        self.warning.setText("")
        self.new_caption.clear()
        self.import_row.reset()
        self.generate_row.reset()
        self.search.clear()
        self.undo_stack.clear()

    def refresh(self) -> None:
        project = self.active_project
        labelset = self.labelset()
        self.captions: list[Any] = []
        self.table.setRowCount(0)
        self.counts.clear()
        for job_row in (self.import_row, self.generate_row):
            job_row.start.setEnabled(labelset is not None and not job_row.running)
        if labelset is None:
            self.warning.setText("Save a label set in the Labels panel first.")
            return
        captions = api.list_captions(project)
        stats = api.caption_stats(project)
        self.captions = captions
        self._filter()
        for name in stats.names:
            n = stats.per_label.get(name, 0)
            mark = "⚠ " if name in stats.thin_labels else ""
            self.counts.addItem(f"{mark}{name}: {n}")
        if not captions:
            self.warning.setText("No captions yet: import a file (txt, csv, COCO json, jsonl) or write some below.")
        elif stats.thin_labels:
            self.warning.setText(
                f"Thin labels (< {stats.min_count} captions): {', '.join(stats.thin_labels)}. "
                "Add captions that mention them, or results for them will be weak."
            )
        else:
            self.warning.setText(f"{stats.total} captions; every label has at least {stats.min_count}.")

    def _filter(self) -> None:
        """Show the captions whose text or labels contain the search words (all of them, any case)."""
        words = self.search.text().lower().split()
        shown = [c for c in getattr(self, "captions", [])
                 if all(w in c.text.lower() or w in ", ".join(c.labels).lower() for w in words)]
        blocked = self.table.blockSignals(True)
        self.table.setRowCount(min(len(shown), SHOW_MAX))
        for row, caption in enumerate(shown[:SHOW_MAX]):
            text = QTableWidgetItem(caption.text)
            text.setData(ID_ROLE, caption.id)
            labels = QTableWidgetItem(", ".join(caption.labels))
            labels.setFlags(labels.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 0, text)
            self.table.setItem(row, 1, labels)
        self.table.blockSignals(blocked)
        total = len(getattr(self, "captions", []))
        self.shown_count.setText(f"{len(shown)} of {total}" if words else f"{total} captions")

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        items = [self.table.item(r, 0) for r in rows]
        return [int(item.data(ID_ROLE)) for item in items if item is not None]

    def delete_selected(self) -> int:
        ids = self.selected_ids()
        if ids:
            self.undo_stack.push(DeleteCaptions(self, ids))
        return len(ids)

    def _edited(self, item: QTableWidgetItem) -> None:
        if item.column() != 0 or item.data(ID_ROLE) is None:
            return
        caption_id = int(item.data(ID_ROLE))
        before = next((c.text for c in self.captions if c.id == caption_id), "")
        after = item.text().strip()
        if after == before:
            return
        try:
            api.update_caption(self.active_project, caption_id, after)
        except EngineError as exc:
            self.warning.setText(f"Not changed: {exc}")
            blocked = self.table.blockSignals(True)
            item.setText(before)
            self.table.blockSignals(blocked)
            return
        self.undo_stack.push(EditCaption(self, caption_id, before, after))
        self.ctx.data_changed.emit("captions")

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.table.hasFocus():
            self.delete_selected()
        else:
            super().keyPressEvent(event)

    def add_caption(self) -> None:
        text = self.new_caption.text().strip()
        if not text or self.labelset() is None:
            return
        if not api.add_captions(self.active_project, [text], source="typed"):
            self.warning.setText(f"Not added: “{text}” names none of the labels (or is already there).")
            return
        self.new_caption.clear()
        self.ctx.data_changed.emit("captions")

    def generate(self) -> Job | None:
        """Template captions for the labels with too few (a job: the project's captions are read first)."""
        if self.labelset() is None:
            return None
        job = self.ctx.runner.start(api.generate_captions, self.active_project, name="Generating captions")
        self.generate_row.bind(job)
        job.finished.connect(self.for_this_project(self._generated))
        return job

    def _generated(self, result: tuple[list[object], int]) -> None:
        log.info("generated %d captions", result[1])
        self.ctx.data_changed.emit("captions")

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import captions", "",
                                              "Caption files (*.txt *.csv *.json *.jsonl);;All files (*)")
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> Job | None:
        if self.labelset() is None:
            return None
        job = self.ctx.runner.start(api.import_captions, self.active_project, path, name="Importing captions")
        self.import_row.bind(job)
        job.finished.connect(self.for_this_project(lambda r: self._imported(r, path)))
        return job

    def _imported(self, result: Any, path: str) -> None:
        log.info("imported %d captions from %s (%d unlabelled)", result.added, path, result.unlabelled)
        self.ctx.data_changed.emit("captions")
