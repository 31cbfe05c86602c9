"""Browse panel: paged lazy thumbnails (size slider, columns filling the width, review badges), label filters
(all / any), review-state filters and a file-name / folder search, the project's threshold policy (global offset,
operating point, per-label editor with live counts), probability chips with uncertain marks, "why" heatmaps (viridis,
legend, opacity, off switch), confirm / reject / add with the keyboard and multi-step undo (Edit menu), a review
queue and "Retrain with my corrections", export (CSV, JSON, XMP with dry run) of exactly what is shown."""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPixmap, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine import api
from engine.api import Decision, TagFilter
from engine.progress import CancelToken, ProgressCallback
from engine.project import Project
from t2ipal_gui.models.thumbnails import ThumbnailModel
from t2ipal_gui.panels.base import Panel
from t2ipal_gui.panels.browse_grid import DEFAULT_THUMB, MAX_THUMB, MIN_THUMB, ThumbnailGrid
from t2ipal_gui.panels.browse_undo import DecisionCommand
from t2ipal_gui.panels.heatmap import HeatmapLegend, colour_heatmap
from t2ipal_gui.panels.threshold_editor import ThresholdEditor
from t2ipal_gui.workers import Job, call

log = logging.getLogger(__name__)
MARK = {"confirmed": "✓ ", "rejected": "✗ ", "manual": "+ ", "auto": ""}
QUEUE_LENGTH = 200  # photos the review queue shows at once (it is recomputed after every retraining)
OPERATING_POINTS = (("best balance (max F1)", "max_f1", None), ("precise (precision ≥ 0.90)", "precision", 0.9))
REVIEW_FILTERS = (("All photos", "all"), ("Reviewed", "reviewed"), ("Not reviewed", "unreviewed"),
                  ("With rejected tags", "rejected"))
THUMB_SETTING = "browse/thumbnail_size"
HEAT_OPACITY = 55  # % of the heatmap over the photo, by default


def _offset_slider() -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(-50, 50)  # the policy's global offset in probability, x100
    slider.setValue(0)
    slider.setToolTip("Move every label's threshold together: right = fewer, surer tags; left = more tags")
    return slider


class BrowsePanel(Panel):
    title = "Browse"
    subtitle = ("Review tagged photos: filter by labels, move thresholds; A accepts a photo's shown tags, C / X "
                "confirm / reject one tag, N adds a missing label; retrain on your corrections; export.")

    def build(self, content: QWidget) -> None:
        self.filter = TagFilter()
        self.undo_stack = QUndoStack(self)  # joins the window's Edit menu (Undo / Redo, Ctrl+Z / Ctrl+Shift+Z)
        self._commands: list[DecisionCommand] = []
        self.has_model = False
        self._heat: tuple[str, str, QImage] | None = None  # (path, label, coloured map) of the last heatmap
        self._heat_job: Job | None = None
        self._retrain_job: Job | None = None
        self._shown_path: str | None = None
        splitter = QSplitter()
        search_row = self._build_search_row()
        splitter.addWidget(self._build_filters())
        splitter.addWidget(self._build_grid(search_row))
        splitter.addWidget(self._build_details())
        splitter.setSizes([220, 560, 300])
        splitter.setStretchFactor(1, 1)  # extra width goes to the thumbnails
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_learning_row())
        layout.addWidget(splitter, 1)
        layout.addLayout(self._build_export_row())
        for keys, action in (("C", "confirmed"), ("X", "rejected")):
            QShortcut(QKeySequence(keys), content, lambda a=action: self.decide(a))
        QShortcut(QKeySequence("A"), content, self.accept_shown)
        QShortcut(QKeySequence("N"), content, lambda: self.add_label())
        QShortcut(QKeySequence("U"), content, self.undo)  # Ctrl+Z / Ctrl+Shift+Z: the Edit menu's actions
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.apply_filter)
        self._timer = QTimer(self, singleShot=True, interval=80)
        self._timer.timeout.connect(self.apply_filter)
        self._offset_timer = QTimer(self, singleShot=True, interval=120)
        self._offset_timer.timeout.connect(self._store_offset)

    def _build_filters(self) -> QWidget:
        """Left column: all / any, the labels with their live counts, the global and per-label thresholds."""
        self.mode = QComboBox()
        self.mode.addItems(["all", "any"])
        self.mode.setToolTip("all: images with every checked label; any: with at least one")
        self.mode.currentTextChanged.connect(lambda _t: self._schedule())
        self.label_list = QListWidget()
        self.label_list.setObjectName("labelFilter")
        self.label_list.itemChanged.connect(lambda _i: self._schedule())
        self.label_list.currentItemChanged.connect(lambda *_: self._show_label_threshold())
        self.global_slider = _offset_slider()
        self.global_slider.setObjectName("globalThreshold")
        self.global_value = QLabel("+0.00")
        self.global_slider.valueChanged.connect(self._global_changed)
        self.operating = QComboBox()
        self.operating.setObjectName("operatingPoint")
        self.operating.addItems([text for text, _p, _t in OPERATING_POINTS])
        self.operating.setToolTip("How each label's threshold is computed from the model's held-out images")
        self.operating.activated.connect(self._operating_changed)
        self.editor = ThresholdEditor()
        self.editor.changed.connect(lambda _label: self._schedule())
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
        review_row = QHBoxLayout()
        review_row.addWidget(QLabel("Review"))
        review_row.addWidget(self.review, 1)
        col.addLayout(review_row)
        op_row = QHBoxLayout()
        op_row.addWidget(QLabel("Thresholds"))
        op_row.addWidget(self.operating, 1)
        col.addLayout(op_row)
        thr_row = QHBoxLayout()
        thr_row.addWidget(QLabel("Offset"))
        thr_row.addWidget(self.global_slider, 1)
        thr_row.addWidget(self.global_value)
        col.addLayout(thr_row)
        col.addWidget(self.editor)
        return left

    def _build_grid(self, search_row: QHBoxLayout) -> QWidget:
        """Centre: how many photos match, and their thumbnails."""
        size = _int(self.ctx.settings.value(THUMB_SETTING, DEFAULT_THUMB), DEFAULT_THUMB)
        self.grid = ThumbnailGrid()
        self.grid.setObjectName("thumbGrid")
        self.grid.set_thumb_size(size)
        self.model = ThumbnailModel(self, size=self.grid.thumb)
        self.grid.setModel(self.model)
        self.grid.selectionModel().currentChanged.connect(lambda *_: self._show_image())
        self.count_label = QLabel()
        self.count_label.setObjectName("matchCount")
        self.count_label.setProperty("role", "subtitle")
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setObjectName("thumbSize")
        self.size_slider.setRange(MIN_THUMB, MAX_THUMB)
        self.size_slider.setValue(self.grid.thumb)
        self.size_slider.setMaximumWidth(140)
        self.size_slider.setToolTip("Thumbnail size")
        self.size_slider.valueChanged.connect(self._thumb_size_changed)
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        top.addWidget(QLabel("Size"))
        top.addWidget(self.size_slider)
        centre = QWidget()
        col = QVBoxLayout(centre)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(search_row)
        col.addLayout(top)
        col.addWidget(self.grid, 1)
        return centre

    def _build_search_row(self) -> QHBoxLayout:
        """Above the grid: the file-name / folder search (the review-state filter sits with the label filters)."""
        self.review = QComboBox()
        self.review.setObjectName("reviewFilter")
        for text, value in REVIEW_FILTERS:
            self.review.addItem(text, value)
        self.review.setToolTip("Reviewed: photos with a tag you confirmed, rejected or added; not reviewed: none yet")
        self.review.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.search = QLineEdit()
        self.search.setObjectName("pathSearch")
        self.search.setPlaceholderText("Search file or folder names…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Every word must appear in the photo's file name or folder (not case-sensitive)")
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        return row

    def _thumb_size_changed(self, size: int) -> None:
        self.grid.set_thumb_size(size)
        self.model.set_thumb_size(self.grid.thumb)
        self.ctx.settings.set_value(THUMB_SETTING, self.grid.thumb)

    def _build_details(self) -> QWidget:
        """Right column: the photo (with the heatmap over it), its tags and the decision buttons."""
        self.preview = QLabel("Select a photo")
        self.preview.setObjectName("preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(160, 120)
        # the pixmap never pushes the layout (it is scaled to the label), so nothing below it is overlapped
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setProperty("role", "empty")
        self.chips = QListWidget()
        self.chips.setObjectName("tagChips")
        self.chips.setToolTip("C: confirm the selected tag · X: reject it · U or Ctrl+Z: undo the last decision")
        self.why_button = QPushButton("Why? (heatmap)")
        self.why_button.setToolTip("Show where in the photo the project's model sees the selected tag")
        self.why_button.clicked.connect(self.explain)
        confirm = QPushButton("Confirm (C)")
        confirm.clicked.connect(lambda: self.decide("confirmed"))
        reject = QPushButton("Reject (X)")
        reject.clicked.connect(lambda: self.decide("rejected"))
        self.undo_button = QPushButton("Undo (U)")
        self.undo_button.setToolTip("Undo the last confirm or reject (also Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.undo_button.setEnabled(False)
        decide_row = QHBoxLayout()
        for button in (confirm, reject, self.undo_button, self.why_button):
            decide_row.addWidget(button)
        right = QWidget()
        col = QVBoxLayout(right)
        col.setContentsMargins(6, 0, 0, 0)
        col.addWidget(self.preview, 3)
        col.addWidget(self._build_heatmap_row())
        col.addWidget(QLabel("Tags (probability; ? = close to its threshold):"))
        col.addWidget(self.chips, 2)
        col.addLayout(decide_row)
        return right

    def _build_heatmap_row(self) -> QWidget:
        """Under the photo, once a heatmap exists: its legend, an opacity slider and an off switch."""
        self.heat_box = QCheckBox("Heatmap")
        self.heat_box.setObjectName("heatmapSwitch")
        self.heat_box.setChecked(True)
        self.heat_box.setToolTip("Show or hide the heatmap over the photo")
        self.heat_box.toggled.connect(lambda _on: self._show_image())
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setObjectName("heatmapOpacity")
        self.opacity.setRange(10, 100)
        self.opacity.setValue(HEAT_OPACITY)
        self.opacity.setMaximumWidth(110)
        self.opacity.setToolTip("Heatmap opacity")
        self.opacity.valueChanged.connect(lambda _v: self._show_image())
        self.legend = HeatmapLegend()
        self.heat_row = QWidget()
        row = QHBoxLayout(self.heat_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.legend, 1)
        row.addWidget(self.heat_box)
        row.addWidget(self.opacity)
        self.heat_row.setVisible(False)
        return self.heat_row

    def _build_learning_row(self) -> QHBoxLayout:
        """Top: the review queue, the decisions the model has not learned from, and the retrain action."""
        self.queue_box = QCheckBox("Review queue (most useful decisions first)")
        self.queue_box.setToolTip("Photos whose labels sit nearest their thresholds, near-duplicates spread out; "
                                  "photos you already decided on leave the queue")
        self.queue_box.toggled.connect(lambda _=False: self.apply_filter())
        self.decisions_label = QLabel()
        self.decisions_label.setObjectName("decisionsSinceTraining")
        self.retrain_button = QPushButton("Retrain with my corrections")
        self.retrain_button.setToolTip("Retrain the model on your confirmed, rejected and added tags (starting from "
                                       "the current model), then export it and re-tag your folders; every decision "
                                       "is kept")
        self.retrain_button.clicked.connect(self.retrain)
        self.retrain_button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.queue_box)
        row.addStretch(1)
        row.addWidget(self.decisions_label)
        row.addWidget(self.retrain_button)
        return row

    def _show_decision_count(self) -> None:
        n = api.decisions_since_training(self.active_project)
        self.decisions_label.setText(f"{n} decision{'s' if n != 1 else ''} since the last training")
        self.retrain_button.setEnabled(n > 0 and self.has_model and self._retrain_job is None)

    def _build_export_row(self) -> QHBoxLayout:
        """Bottom: export the tags in force (the thresholds shown here) as CSV, JSON or XMP sidecars."""
        self.dry_run = QCheckBox("XMP dry run")
        self.dry_run.setChecked(True)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(QLabel("Export tags:"))
        for text, kind in (("CSV…", "csv"), ("JSON…", "json"), ("XMP sidecars", "xmp")):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, k=kind: self.export(k))
            row.addWidget(button)
        row.addWidget(self.dry_run)
        return row

    # -- data -----------------------------------------------------------------------------------
    def depends_on(self) -> tuple[str, ...]:
        return ("tags", "model")

    def reset(self) -> None:
        """Another project: no labels, filters, decisions or heatmap of the previous one stay."""
        self.filter = TagFilter()
        self.undo_stack.clear()
        self._commands.clear()
        self.undo_button.setEnabled(False)
        self._heat_job = None
        self._heat = None
        self.review.blockSignals(True)
        self.review.setCurrentIndex(0)
        self.review.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.has_model = False
        self.label_list.blockSignals(True)
        self.label_list.clear()
        self.label_list.blockSignals(False)
        self.model.set_state_source(None)
        self.model.set_paths([])
        self.editor.show_label(None, None)
        self.count_label.setText("")
        self.decisions_label.setText("")
        self.retrain_button.setEnabled(False)
        self.queue_box.setChecked(False)
        self._retrain_job = None
        self._show_image()

    def refresh(self) -> None:
        project = self.active_project
        labels = api.tag_labels(project)
        status = api.model_status(project)
        self.has_model = status.exported
        self.why_button.setEnabled(self.has_model)
        self.why_button.setToolTip("Show where in the photo the project's model sees the selected tag"
                                   if self.has_model else "The project has no exported model to explain with")
        self._show_policy(project)
        self._show_decision_count()
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
        self.model.set_state_source(lambda paths: api.review_states(project, paths))
        self.apply_filter()

    def _schedule(self) -> None:
        self._timer.start()

    def _show_policy(self, project: Project) -> None:
        policy = api.policy(project)
        self.global_slider.blockSignals(True)
        self.global_slider.setValue(round(policy.global_offset * 100))
        self.global_slider.blockSignals(False)
        self.global_value.setText(f"{policy.global_offset:+.2f}")
        for i, (_text, point, target) in enumerate(OPERATING_POINTS):
            if point == policy.operating_point and (target is None or abs(target - policy.target_precision) < 1e-9):
                self.operating.setCurrentIndex(i)

    def apply_filter(self) -> None:
        project = self.active_project
        self.filter.labels = [
            self.label_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.label_list.count())
            if self.label_list.item(i).checkState() == Qt.CheckState.Checked
        ]
        self.filter.mode = self.mode.currentText()
        self.filter.review = str(self.review.currentData())
        self.filter.search = self.search.text().strip()
        counts = api.label_counts(project, self.filter)
        thresholds = api.label_thresholds(project)
        matching = api.matching_count(project, self.filter)
        total = api.tagged_count(project)
        self.label_list.blockSignals(True)
        for i in range(self.label_list.count()):
            item = self.label_list.item(i)
            label = item.data(Qt.ItemDataRole.UserRole)
            info = thresholds.get(label)
            at = f"  ≥{info.in_force:.2f}{'*' if info.own is not None else ''}" if info else ""
            item.setText(f"{label}  ({counts.get(label, 0)}){at}")
        self.label_list.blockSignals(False)
        flt = TagFilter(list(self.filter.labels), self.filter.mode, self.filter.review, self.filter.search)
        if self.queue_box.isChecked():
            queue = [item.path for item in api.review_queue(project, limit=QUEUE_LENGTH)]
            self.model.set_paths(queue)
            matching = len(queue)
        else:
            self.model.set_source(matching, lambda limit, offset: api.matching_images(project, flt, limit=limit,
                                                                                      offset=offset))
        if total == 0:
            self.count_label.setText("No tagged photos yet — tag a folder in the Tagging panel.")
        elif self.queue_box.isChecked():
            self.count_label.setText(f"review queue: {matching} undecided photos, most useful first")
        else:
            self.count_label.setText(f"{matching} of {total} photos")
        narrowing = not self.queue_box.isChecked()
        self.review.setEnabled(narrowing)  # the queue is its own selection: undecided photos, most useful first
        self.search.setEnabled(narrowing)
        if matching:
            self.grid.setCurrentIndex(self.model.index(0))
        else:
            self._show_image()
        self._show_label_threshold()

    def _global_changed(self, value: int) -> None:
        self.global_value.setText(f"{value / 100:+.2f}")
        self._offset_timer.start()

    def _store_offset(self) -> None:
        api.set_global_offset(self.active_project, self.global_slider.value() / 100)
        self.apply_filter()

    def _operating_changed(self, index: int) -> None:
        _text, point, target = OPERATING_POINTS[index]
        api.set_operating_point(self.active_project, point, target)
        self.apply_filter()

    def _current_label(self) -> str | None:
        item = self.label_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def _show_label_threshold(self) -> None:
        self.editor.show_label(self.active_project, self._current_label())

    # -- details ----------------------------------------------------------------------------------
    def current_path(self) -> str | None:
        index = self.grid.currentIndex()
        return str(self.model.data(index, Qt.ItemDataRole.UserRole)) if index.isValid() else None

    def current_tag(self) -> str | None:
        item = self.chips.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def _overlay_for(self, path: str | None) -> QImage | None:
        """The heatmap to draw over `path`: the last one computed for it, unless switched off."""
        shown = self._heat is not None and self._heat[0] == path
        self.heat_row.setVisible(shown)
        if not shown or not self.heat_box.isChecked() or self._heat is None:
            return None
        self.legend.show_label(self._heat[1])
        return self._heat[2]

    def _show_image(self) -> None:
        path = self.current_path()
        selected = self.chips.currentItem().data(Qt.ItemDataRole.UserRole) if self.chips.currentItem() else None
        if path != self._shown_path:  # another photo: no highlight carries over from the previous one
            selected = None
        self._shown_path = path
        self.chips.clear()
        overlay = self._overlay_for(path)
        if path is None:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("Select a photo")
            return
        pixmap = QPixmap(path)
        if overlay is not None and not pixmap.isNull():
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.setOpacity(self.opacity.value() / 100)
            painter.drawImage(pixmap.rect(), overlay)
            painter.end()
        tags = api.image_tag_views(self.active_project, path)
        if pixmap.isNull():
            self.preview.setPixmap(QPixmap())
            self.preview.setText("This photo is missing (moved or deleted?)" if not os.path.exists(path)
                                 else "Cannot display this file")
        else:
            self.preview.setPixmap(pixmap.scaled(self.preview.size() * 0.98, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))
        for tag in tags:
            shown = f"{tag.probability:.2f}" if tag.probability is not None else "—"
            item = QListWidgetItem(f"{MARK[tag.source]}{label_text(tag)}   {shown}")
            item.setData(Qt.ItemDataRole.UserRole, tag.label)
            item.setData(Qt.ItemDataRole.UserRole + 1, tag.source)
            item.setData(Qt.ItemDataRole.UserRole + 2, tag.in_force)
            if tag.threshold is not None:
                item.setToolTip(f"probability {shown}, threshold {tag.threshold:.2f}"
                                + (" — close to the threshold: worth a look" if tag.uncertain else ""))
            if tag.source == "confirmed":
                item.setForeground(QColor("#3a9d5d"))
            elif not tag.in_force:
                item.setForeground(QColor("#9099a5"))
            elif tag.uncertain:
                item.setForeground(QColor("#d08a2c"))
            self.chips.addItem(item)
        for i in range(self.chips.count()):
            if self.chips.item(i).data(Qt.ItemDataRole.UserRole) == selected:
                self.chips.setCurrentRow(i)
                break
        else:
            if self.chips.count():
                self.chips.setCurrentRow(0)

    def decide(self, source: str) -> Decision | None:
        """Confirm or reject the selected tag of the selected photo, then move to the next tag."""
        path, label = self.current_path(), self.current_tag()
        if path is None or label is None:
            return None
        row = self.chips.currentRow()
        made = self._push([(path, label, source)])
        if row + 1 < self.chips.count():
            self.chips.setCurrentRow(row + 1)
        return made[0]

    def accept_shown(self) -> list[Decision]:
        """Confirm every tag shown in force on the photo shown (A): the photo's tags are right as they are."""
        path = self.current_path()
        if path is None:
            return []
        wanted = [(path, view.label, "confirmed") for view in api.image_tag_views(self.active_project, path)
                  if view.in_force and view.source == "auto"]
        return self._push(wanted) if wanted else []

    def add_label(self, label: str | None = None) -> Decision | None:
        """Add a label the photo shown is missing (N); without `label`, ask which one."""
        path = self.current_path()
        if path is None:
            return None
        if label is None:
            on_photo = {v.label for v in api.image_tag_views(self.active_project, path) if v.in_force}
            choices = [lab for lab in api.tag_labels(self.active_project) if lab not in on_photo]
            label, ok = QInputDialog.getItem(self, "Add a missing label", "Label:", choices, 0, True)
            if not ok or not label:
                return None
        return self._push([(path, label, "manual")])[0]

    @property
    def decisions(self) -> list[Decision]:
        """The decisions Undo can take back, oldest first (those undone are left out until redone)."""
        return [d for cmd in self._commands[:self.undo_stack.index()] for d in cmd.made]

    def _push(self, wanted: list[tuple[str, str, str]]) -> list[Decision]:
        """Make decisions (path, label, source) as one undo step; returns them."""
        del self._commands[self.undo_stack.index():]  # the stack drops the undone commands on push, so do we
        command = DecisionCommand(self.active_project, wanted, self._decisions_changed)
        self._commands.append(command)
        self.undo_stack.push(command)
        return command.made

    def _decisions_changed(self, made: list[Decision], undone: bool) -> None:
        """After a decision, its undo or redo: the photo's chips, its badge and the decision count follow."""
        for d in made:
            log.info("%s%s %s on %s", "undid " if undone else "", d.source, d.label, d.path)
        self.model.refresh_states(sorted({d.path for d in made}))
        self._show_decision_count()
        if made and made[0].path == self.current_path():
            self._show_image()
            if undone:  # the undone tag is highlighted again, ready for another decision
                for i in range(self.chips.count()):
                    if self.chips.item(i).data(Qt.ItemDataRole.UserRole) == made[0].label:
                        self.chips.setCurrentRow(i)

    def retrain(self) -> Job | None:
        """Retrain on the decisions in the background, then export, re-tag and show the new scores."""
        if self._retrain_job is not None:
            return None
        job = self.ctx.runner.start(api.retrain_with_decisions, self.active_project, name="Retrain with my corrections")
        self._retrain_job = job
        self.retrain_button.setEnabled(False)

        def ended(*_: object) -> None:
            self._retrain_job = None
            self.ctx.data_changed.emit("model")
            self.ctx.data_changed.emit("tags")
            self.safe_refresh()

        job.done.connect(self.for_this_project(ended))
        return job

    def undo(self) -> Decision | None:
        """Put the tags of the last decision back as they were (U, Ctrl+Z or Edit → Undo, repeatedly)."""
        if not self.undo_stack.canUndo():
            return None
        index = self.undo_stack.index()
        self.undo_stack.undo()
        made = self._commands[index - 1].made
        return made[-1] if made else None

    # -- why: heatmap ---------------------------------------------------------------------------------
    def explain(self) -> Job | None:
        """Colour where the project's model sees the selected tag over the photo (computed in a worker)."""
        path, label = self.current_path(), self.current_tag()
        if path is None or label is None or not self.has_model:
            return None
        job = self.ctx.runner.start(heatmap_for, self.active_project, path, label, name=f"Heatmap for {label}")
        job.finished.connect(self.for_this_project(lambda image, p=path, lab=label: self._heatmap_ready(p, lab, image)))
        self._heat_job = job
        return job

    def _heatmap_ready(self, path: str, label: str, image: QImage) -> None:
        self._heat = (path, label, image)
        self.heat_box.setChecked(True)
        if path == self.current_path():
            self._show_image()

    # -- export ---------------------------------------------------------------------------------------
    def export(self, kind: str) -> Job | None:
        project = self.active_project
        if kind == "xmp":
            dry = self.dry_run.isChecked()
            job = self.ctx.runner.start(api.export_tags, "xmp", project, dry_run=dry,
                                        name="XMP dry run" if dry else "Writing XMP sidecars")
            job.finished.connect(lambda r: log.info("XMP: %d sidecars %s, %d errors", r.written,
                                                    "would change" if dry else "written", r.errors))
            return job
        default = str(project.exports_dir / f"tags.{kind}")
        out, _ = QFileDialog.getSaveFileName(self, f"Export tags as {kind.upper()}", default)
        if not out:
            return None
        return self.export_to(kind, out)

    def export_to(self, kind: str, out: str) -> Job:
        job = self.ctx.runner.start(call, api.export_tags, kind, self.active_project, out=out,
                                    name=f"Export {kind.upper()}")
        job.finished.connect(lambda n: log.info("exported %s rows to %s", n, out))
        return job


def label_text(tag: api.TagView) -> str:
    """A chip's label: uncertain automatic tags (close to their threshold) get a question mark."""
    return f"{tag.label} ?" if tag.uncertain else tag.label


def heatmap_for(project: Project, image_path: str, label: str, *, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> QImage:
    """The project's model's map for `label` (api.explain) through the perceptual colormap (runs in a worker)."""
    image = colour_heatmap(api.explain(project, image_path, label))
    mode = Qt.TransformationMode.SmoothTransformation
    return image.scaled(image.width() * 32, image.height() * 32, Qt.AspectRatioMode.IgnoreAspectRatio, mode)


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default
