"""Model manager: the CLIP and text-to-image models in the Hugging Face cache, and fetching one (progress, cancel)."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.api import weights
from engine.clip.config import DEFAULT_BACKBONE, DEFAULT_PRETRAINED
from t2ipal_gui.widgets import JobRow
from t2ipal_gui.workers import Job, JobRunner

log = logging.getLogger(__name__)
KIND_TITLES = {"clip": "CLIP", "text-to-image": "Text-to-image", "other": "Other"}
FETCH_KINDS = ("CLIP (training and tagging)", "Text-to-image (synthesis)")


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


class ModelManagerDialog(QDialog):
    """Lists the cache; fetches with the same engine code as `t2ipal fetch`, refused while "Never download" is on."""

    def __init__(self, runner: JobRunner, *, offline: bool, cache_dir: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelManager")
        self.setWindowTitle("Model Manager")
        self.setMinimumWidth(640)
        self.runner = runner
        self.offline = offline
        self.cache_dir = cache_dir or None
        self.job: Job | None = None
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("cachedModels")
        self.table.setHorizontalHeaderLabels(["Model", "Kind", "Size", "Files"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel()
        self.empty.setProperty("role", "subtitle")
        self.empty.setWordWrap(True)
        self.kind = QComboBox()
        self.kind.addItems(FETCH_KINDS)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.model = QLineEdit()
        self.model.setObjectName("fetchModel")
        self.detail = QLineEdit()
        self.detail.setObjectName("fetchDetail")
        self.detail_label = QLabel()
        self.fetch_row = JobRow("Fetch", unit="B")
        self.fetch_row.start_clicked.connect(self.fetch)
        self.notice = QLabel()
        self.notice.setObjectName("fetchNotice")
        self.notice.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Kind:", self.kind)
        form.addRow("Model:", self.model)
        form.addRow(self.detail_label, self.detail)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Models in the cache ({self._cache_text()}):"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        title = QLabel("Fetch a model")
        title.setProperty("role", "title")
        layout.addWidget(title)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.fetch_row, 1)
        layout.addLayout(row)
        layout.addWidget(self.notice)
        layout.addWidget(buttons)
        self._kind_changed(0)
        self.set_offline(offline)
        self.refresh()

    def _cache_text(self) -> str:
        from engine import hub

        return hub.cache_dir(self.cache_dir)

    def _kind_changed(self, index: int) -> None:
        if index == 0:
            self.model.setText(DEFAULT_BACKBONE)
            self.detail_label.setText("Weights tag:")
            self.detail.setText(DEFAULT_PRETRAINED)
            self.detail.setPlaceholderText("e.g. openai (not needed for hf-hub: names)")
        else:
            self.model.setText(weights.DEFAULT_SD)
            self.detail_label.setText("Variant:")
            self.detail.setText("")
            self.detail.setPlaceholderText("optional, e.g. fp16 (half the download)")

    def set_offline(self, offline: bool) -> None:
        """“Never download” on: fetching is refused here, with the way out in plain words."""
        self.offline = offline
        self.fetch_row.start.setEnabled(not offline and not self.fetch_row.running)
        if offline:
            self.fetch_row.start.setToolTip("“Never download” is on in Preferences")
            self.notice.setProperty("role", "warning")
            self.notice.setText("“Never download” is on: the app uses only the models listed above. Untick it in "
                                "Preferences on a connected machine to fetch a model here.")
        else:
            self.fetch_row.start.setToolTip("Download into the cache; afterwards it works offline")
            self.notice.setProperty("role", "subtitle")
            self.notice.setText("Downloads go to the cache above and are used offline from then on.")
        self.notice.style().unpolish(self.notice)
        self.notice.style().polish(self.notice)

    def refresh(self) -> None:
        models = weights.list_cached_models(self.cache_dir)
        self.table.setRowCount(len(models))
        for row, m in enumerate(models):
            cells = (m.repo_id, KIND_TITLES.get(m.kind, m.kind), _size(m.size_bytes), str(m.files))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(m.path)
                self.table.setItem(row, col, item)
        self.empty.setVisible(not models)
        self.empty.setText("No models in the cache yet. Fetch one below on a connected machine, or copy a "
                           "Hugging Face cache folder here (Preferences → Model cache).")

    def fetch(self) -> Job | None:
        if self.offline:
            return None
        model, detail = self.model.text().strip(), self.detail.text().strip() or None
        if not model:
            return None
        if self.kind.currentIndex() == 0:
            job = self.runner.start(weights.fetch_clip, model, detail, cache_dir=self.cache_dir,
                                    name=f"Fetching CLIP {model}")
        else:
            job = self.runner.start(weights.fetch_sd, model, variant=detail, cache_dir=self.cache_dir,
                                    name=f"Fetching {model}")
        self.job = self.fetch_row.bind(job)
        job.finished.connect(self._fetched)
        return job

    def _fetched(self, result: weights.FetchResult) -> None:
        log.info("%s: %d file(s), %s in %s", result.what, result.files, _size(result.size_bytes), result.path)
        self.notice.setText(f"Fetched {result.what} ({_size(result.size_bytes)}).")
        self.refresh()
