"""Browse panel: lazy thumbnails, label filters (all / any), thresholds with live counts, tag chips, "why"
heatmaps, confirm / reject with the keyboard, export (CSV, JSON, XMP with dry run)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from t2ipal_gui.models.thumbnails import ThumbnailModel
from t2ipal_gui.panels.base import Panel

log = logging.getLogger(__name__)
MARK = {"confirmed": "✓ ", "rejected": "✗ ", "manual": "+ ", "auto": ""}


def _slider() -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(50)
    return slider


class BrowsePanel(Panel):
    title = "Browse"
    subtitle = "Review tagged photos: filter by labels, move thresholds, confirm (C) or reject (X) tags, export."
    parts = ("tagging",)

    def build(self, content: QWidget) -> None:
        from t2ipal_gui.models.tag_filter import Filter

        self.filter = Filter()
        # left: filters
        self.mode = QComboBox()
        self.mode.addItems(["all", "any"])
        self.mode.setToolTip("all: images with every checked label; any: with at least one")
        self.label_list = QListWidget()
        self.label_list.setObjectName("labelFilter")
        self.label_list.itemChanged.connect(lambda _i: self._schedule())
        self.label_list.currentItemChanged.connect(lambda *_: self._show_label_threshold())
        self.global_slider = _slider()
        self.global_slider.setObjectName("globalThreshold")
        self.global_value = QLabel("0.50")
        self.global_slider.valueChanged.connect(self._global_changed)
        self.label_slider = _slider()
        self.label_slider.setObjectName("labelThreshold")
        self.label_slider.setEnabled(False)
        self.label_slider.valueChanged.connect(self._label_threshold_changed)
        self.label_caption = QLabel("Per-label threshold: choose a label")
        self.label_caption.setProperty("role", "subtitle")
        self.mode.currentTextChanged.connect(lambda _t: self._schedule())
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 6, 0)
        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("Show images with"))
        mode_row.addWidget(self.mode)
        mode_row.addWidget(QLabel("of:"))
        mode_row.addStretch(1)
        col.addLayout(mode_row)
        col.addWidget(self.label_list, 1)
        thr_row = QHBoxLayout()
        thr_row.addWidget(QLabel("Threshold"))
        thr_row.addWidget(self.global_slider, 1)
        thr_row.addWidget(self.global_value)
        col.addLayout(thr_row)
        col.addWidget(self.label_caption)
        col.addWidget(self.label_slider)
        # centre: grid
        self.model = ThumbnailModel(self)
        self.grid = QListView()
        self.grid.setObjectName("thumbGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setIconSize(QSize(112, 112))
        self.grid.setGridSize(QSize(136, 150))
        self.grid.setWordWrap(True)
        self.grid.setModel(self.model)
        self.grid.selectionModel().currentChanged.connect(lambda *_: self._show_image())
        self.count_label = QLabel()
        self.count_label.setObjectName("matchCount")
        self.count_label.setProperty("role", "subtitle")
        centre = QWidget()
        ccol = QVBoxLayout(centre)
        ccol.setContentsMargins(0, 0, 0, 0)
        ccol.addWidget(self.count_label)
        ccol.addWidget(self.grid, 1)
        # right: details
        self.preview = QLabel("Select a photo")
        self.preview.setObjectName("preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(240, 200)
        self.preview.setProperty("role", "empty")
        self.chips = QListWidget()
        self.chips.setObjectName("tagChips")
        self.chips.setToolTip("C: confirm the selected tag · X: reject it · U: undo the decision")
        self.why_button = QPushButton("Why? (heatmap)")
        self.why_button.setToolTip("Show where in the photo the model sees the selected tag")
        self.why_button.clicked.connect(self.explain)
        confirm = QPushButton("Confirm (C)")
        confirm.clicked.connect(lambda: self.decide("confirmed"))
        reject = QPushButton("Reject (X)")
        reject.clicked.connect(lambda: self.decide("rejected"))
        decide_row = QHBoxLayout()
        decide_row.addWidget(confirm)
        decide_row.addWidget(reject)
        decide_row.addWidget(self.why_button)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(6, 0, 0, 0)
        rcol.addWidget(self.preview, 3)
        rcol.addWidget(QLabel("Tags (score):"))
        rcol.addWidget(self.chips, 2)
        rcol.addLayout(decide_row)
        # bottom: export
        self.dry_run = QCheckBox("XMP dry run")
        self.dry_run.setChecked(True)
        export_row = QHBoxLayout()
        export_row.addStretch(1)
        export_row.addWidget(QLabel("Export tags:"))
        for text, kind in (("CSV…", "csv"), ("JSON…", "json"), ("XMP sidecars", "xmp")):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, k=kind: self.export(k))
            export_row.addWidget(button)
        export_row.addWidget(self.dry_run)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(centre)
        splitter.addWidget(right)
        splitter.setSizes([230, 520, 300])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addLayout(export_row)
        for keys, action in (("C", "confirmed"), ("X", "rejected")):
            QShortcut(QKeySequence(keys), content, lambda a=action: self.decide(a))
        QShortcut(QKeySequence("U"), content, self.undo)
        self._timer = QTimer(self, singleShot=True, interval=80)
        self._timer.timeout.connect(self.apply_filter)
        self._heat_job = None

    # -- data -----------------------------------------------------------------------------------
    def _store(self):  # noqa: ANN202
        from engine.tagging.store import TagStore

        return TagStore.open(self.project.db_path)

    def depends_on(self) -> tuple[str, ...]:
        return ("tags",)

    def refresh(self) -> None:
        from t2ipal_gui.models.tag_filter import all_labels

        with self._store() as store:
            labels = all_labels(store)
            meta = store.model_metadata()
        self.thresholds = dict(zip(meta.labels, meta.thresholds, strict=False)) if meta else {}
        checked = set(self.filter.labels)
        self.label_list.blockSignals(True)
        self.label_list.clear()
        for label in labels:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if label in checked else Qt.CheckState.Unchecked)
            self.label_list.addItem(item)
        self.label_list.blockSignals(False)
        self.apply_filter()

    def _schedule(self) -> None:
        self._timer.start()

    def apply_filter(self) -> None:
        from t2ipal_gui.models.tag_filter import label_counts, matching_images

        self.filter.labels = [
            self.label_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.label_list.count())
            if self.label_list.item(i).checkState() == Qt.CheckState.Checked
        ]
        self.filter.mode = self.mode.currentText()
        with self._store() as store:
            counts = label_counts(store, self.filter)
            paths = matching_images(store, self.filter)
            total = store.counts().get("done", 0)
        self.label_list.blockSignals(True)
        for i in range(self.label_list.count()):
            item = self.label_list.item(i)
            label = item.data(Qt.ItemDataRole.UserRole)
            own = f"  @{self.filter.per_label[label]:.2f}" if label in self.filter.per_label else ""
            item.setText(f"{label}  ({counts.get(label, 0)}){own}")
        self.label_list.blockSignals(False)
        self.model.set_paths(paths)
        if total == 0:
            self.count_label.setText("No tagged photos yet — tag a folder in the Tagging panel.")
        else:
            self.count_label.setText(f"{len(paths)} of {total} photos match")
        if paths:
            self.grid.setCurrentIndex(self.model.index(0))
        else:
            self._show_image()

    def _global_changed(self, value: int) -> None:
        self.filter.threshold = value / 100
        self.global_value.setText(f"{value / 100:.2f}")
        self._schedule()

    def _current_label(self) -> str | None:
        item = self.label_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _show_label_threshold(self) -> None:
        label = self._current_label()
        self.label_slider.setEnabled(label is not None)
        if label is None:
            return
        value = self.filter.per_label.get(label, self.filter.threshold)
        self.label_caption.setText(f"Threshold for “{label}”: {value:.2f}")
        self.label_slider.blockSignals(True)
        self.label_slider.setValue(round(value * 100))
        self.label_slider.blockSignals(False)

    def _label_threshold_changed(self, value: int) -> None:
        label = self._current_label()
        if label is None:
            return
        self.filter.per_label[label] = value / 100
        self.label_caption.setText(f"Threshold for “{label}”: {value / 100:.2f}")
        self._schedule()

    # -- details ----------------------------------------------------------------------------------
    def current_path(self) -> str | None:
        index = self.grid.currentIndex()
        return self.model.data(index, Qt.ItemDataRole.UserRole) if index.isValid() else None

    def _show_image(self, overlay: QImage | None = None) -> None:
        path = self.current_path()
        selected = self.chips.currentItem().data(Qt.ItemDataRole.UserRole) if self.chips.currentItem() else None
        self.chips.clear()
        if path is None:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("Select a photo")
            return
        pixmap = QPixmap(path)
        if overlay is not None and not pixmap.isNull():
            painter = QPainter(pixmap)
            painter.setOpacity(0.55)
            painter.drawImage(pixmap.rect(), overlay)
            painter.end()
        if pixmap.isNull():
            self.preview.setText("Cannot display this file")
        else:
            self.preview.setPixmap(pixmap.scaled(self.preview.size() * 0.98, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))
        from t2ipal_gui.models.tag_filter import image_tags

        with self._store() as store:
            tags = image_tags(store, path)
        for label, score, source in tags:
            limit = self.filter.per_label.get(label, self.filter.threshold)
            shown = f"{score:.2f}" if score is not None else "—"
            item = QListWidgetItem(f"{MARK[source]}{label}   {shown}")
            item.setData(Qt.ItemDataRole.UserRole, label)
            item.setData(Qt.ItemDataRole.UserRole + 1, source)
            if source == "confirmed":
                item.setForeground(QColor("#3a9d5d"))
            elif source == "rejected" or (source == "auto" and score is not None and score < limit):
                item.setForeground(QColor("#9099a5"))
            self.chips.addItem(item)
        for i in range(self.chips.count()):
            if self.chips.item(i).data(Qt.ItemDataRole.UserRole) == selected:
                self.chips.setCurrentRow(i)
                break
        else:
            if self.chips.count():
                self.chips.setCurrentRow(0)

    def decide(self, source: str) -> None:
        path, item = self.current_path(), self.chips.currentItem()
        if path is None or item is None:
            return
        label = item.data(Qt.ItemDataRole.UserRole)
        with self._store() as store:
            store.set_decision(path, label, source)
        log.info("%s %s on %s", source, label, path)
        self._show_image()
        row = self.chips.currentRow()
        if row + 1 < self.chips.count():
            self.chips.setCurrentRow(row + 1)

    def undo(self) -> None:
        """Give the selected tag back to the model (source auto) when it still has a score."""
        path, item = self.current_path(), self.chips.currentItem()
        if path is None or item is None:
            return
        from engine.tagging.store import IMAGES, TAGS, path_key

        with self._store() as store:
            store.db.execute(
                f"UPDATE {TAGS} SET source = 'auto' WHERE label = ? AND score IS NOT NULL AND image_id = "
                f"(SELECT id FROM {IMAGES} WHERE path = ?)",
                [item.data(Qt.ItemDataRole.UserRole), path_key(path)[0]],
            )
            store.db.conn.commit()
        self._show_image()

    # -- why: heatmap ---------------------------------------------------------------------------------
    def explain(self):  # noqa: ANN201 - Job | None
        path, item = self.current_path(), self.chips.currentItem()
        model = self.project.latest_onnx()
        if path is None or item is None:
            return None
        if model is None:
            self.ctx.report(FileNotFoundError("no exported model in this project to explain with"), "Why?")
            return None
        label = item.data(Qt.ItemDataRole.UserRole)
        job = self.ctx.runner.start(heatmap_for, str(model), path, label, name=f"Heatmap for {label}")
        job.finished.connect(lambda image, p=path: self._show_image(image) if p == self.current_path() else None)
        self._heat_job = job
        return job

    # -- export ---------------------------------------------------------------------------------------
    def export(self, kind: str):  # noqa: ANN201 - Job | None
        from engine.tagging import export_tags

        db = str(self.project.db_path)
        threshold = self.filter.threshold
        if kind == "xmp":
            dry = self.dry_run.isChecked()
            job = self.ctx.runner.start(export_tags.write_xmp_sidecars, db, dry_run=dry, min_score=threshold,
                                        name="XMP dry run" if dry else "Writing XMP sidecars")
            job.finished.connect(lambda r: log.info("XMP: %d sidecars %s, %d errors", r.written,
                                                    "would change" if dry else "written", r.errors))
            return job
        default = str(self.project.exports_dir / f"tags.{kind}")
        out, _ = QFileDialog.getSaveFileName(self, f"Export tags as {kind.upper()}", default)
        if not out:
            return None
        return self.export_to(kind, out)

    def export_to(self, kind: str, out: str):  # noqa: ANN201 - Job
        from engine.tagging import export_tags
        from t2ipal_gui.workers import call

        fn = export_tags.export_csv if kind == "csv" else export_tags.export_json
        job = self.ctx.runner.start(call, fn, str(self.project.db_path), out, min_score=self.filter.threshold,
                                    name=f"Export {kind.upper()}")
        job.finished.connect(lambda n: log.info("exported %s rows to %s", n, out))
        return job


def heatmap_for(model_path: str, image_path: str, label: str, *, progress=None, cancel=None) -> QImage:  # noqa: ANN001
    """Run the ONNX model on one image and colour the chosen label's heatmap (runs in a worker)."""
    import numpy as np

    from engine.tagging.decode import decode_file
    from engine.tagging.onnx_session import TaggerSession

    session = TaggerSession(model_path, provider="cpu")
    decoded = decode_file(image_path, session.metadata.preprocess)
    _scores, heatmaps = session.scores_and_heatmaps(decoded.array[None].astype(np.float32))
    heat = heatmaps[0, list(session.metadata.labels).index(label)]
    heat = (heat - heat.min()) / max(float(heat.max() - heat.min()), 1e-6)
    h, w = heat.shape
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 0] = (255 * heat).astype(np.uint8)
    rgba[..., 1] = (255 * (1 - np.abs(heat - 0.5) * 2)).astype(np.uint8)
    rgba[..., 2] = (255 * (1 - heat)).astype(np.uint8)
    rgba[..., 3] = (200 * heat + 30).astype(np.uint8)
    image = QImage(rgba.tobytes(), w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    mode = Qt.TransformationMode.SmoothTransformation
    return image.scaled(w * 32, h * 32, Qt.AspectRatioMode.IgnoreAspectRatio, mode)
