"""Captions panel: import caption files, add and review captions, per-label counts with warnings for thin labels."""

from __future__ import annotations

import logging

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

from t2ipal_gui.panels.base import Panel
from t2ipal_gui.widgets import JobRow

log = logging.getLogger(__name__)
SHOW_MAX = 2000


def import_captions(db_path: str, labelset, path: str, *, progress=None, cancel=None):  # noqa: ANN001, ANN201
    """Worker side of "Import file…": its own connection, all-or-nothing import."""
    from engine.captions.store import CaptionStore
    from engine.db import open_db

    db = open_db(db_path)
    try:
        store = CaptionStore(db)
        store.add_labelset(labelset)
        return store.import_file(path, labelset=labelset, progress=progress, cancel=cancel)
    finally:
        db.conn.close()


class CaptionsPanel(Panel):
    title = "Captions"
    subtitle = "Sentences that describe scenes with your labels; the images are synthesised from them."
    parts = ("labels", "captions")

    def build(self, content: QWidget) -> None:
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("captionTable")
        self.table.setHorizontalHeaderLabels(["Caption", "Labels"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 200)
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.new_caption = QLineEdit()
        self.new_caption.setPlaceholderText("Write a caption, e.g. “a dog sleeping next to a bicycle”, and press Enter")
        self.new_caption.returnPressed.connect(self.add_caption)
        add = QPushButton("Add")
        add.clicked.connect(self.add_caption)
        generate = QPushButton("Generate…")
        generate.setEnabled(False)
        generate.setToolTip("Not available yet: the engine has no caption generator in this build")
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_caption, 1)
        add_row.addWidget(add)
        add_row.addWidget(generate)
        self.import_row = JobRow("Import file…", unit="captions")
        self.import_row.start_clicked.connect(self._import_dialog)
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 6, 0)
        col.addWidget(self.import_row)
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

    def labelset(self):  # noqa: ANN201 - LabelSet | None
        from engine.labels import LabelSet

        path = self.project.labelset_path
        return LabelSet.from_file(path) if path.exists() else None

    def refresh(self) -> None:
        from engine.captions.store import CaptionStore

        labelset = self.labelset()
        self.table.setRowCount(0)
        self.counts.clear()
        if labelset is None:
            self.warning.setText("Save a label set in the Labels panel first.")
            self.import_row.start.setEnabled(False)
            return
        self.import_row.start.setEnabled(True)
        db = self.project.open_db()
        try:
            store = CaptionStore(db)
            store.add_labelset(labelset)
            captions = list(store.iter_captions(labelset.name))
            stats = store.stats(labelset)
        finally:
            db.conn.close()
        self.table.setRowCount(min(len(captions), SHOW_MAX))
        for row, caption in enumerate(captions[:SHOW_MAX]):
            self.table.setItem(row, 0, QTableWidgetItem(caption.text))
            self.table.setItem(row, 1, QTableWidgetItem(", ".join(caption.labels)))
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

    def add_caption(self) -> None:
        from engine.captions.store import CaptionStore

        text = self.new_caption.text().strip()
        labelset = self.labelset()
        if not text or labelset is None:
            return
        db = self.project.open_db()
        try:
            added = CaptionStore(db).add_captions(labelset, [text], source="typed")
        finally:
            db.conn.close()
        if not added:
            self.warning.setText(f"Not added: “{text}” names none of the labels (or is already there).")
            return
        self.new_caption.clear()
        self.ctx.data_changed.emit("captions")

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import captions", "",
                                              "Caption files (*.txt *.csv *.json *.jsonl);;All files (*)")
        if path:
            self.import_file(path)

    def import_file(self, path: str):  # noqa: ANN201 - Job | None
        labelset = self.labelset()
        if labelset is None:
            return None
        db = str(self.project.db_path)
        job = self.ctx.runner.start(import_captions, db, labelset, path, name="Importing captions")
        self.import_row.bind(job)
        job.finished.connect(lambda r: (log.info("imported %d captions from %s (%d unlabelled)", r.added, path,
                                                 r.unlabelled), self.ctx.data_changed.emit("captions")))
        return job
