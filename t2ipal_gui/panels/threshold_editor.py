"""Per-label threshold editor: a label's probability histogram, its threshold and, live, how many photos it tags."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from engine import api
from engine.project import Project

BINS = 20


class ThresholdEditor(QWidget):
    """Edit one label's own threshold (probability); `changed` fires once the new value is stored."""

    changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thresholdEditor")
        self.project: Project | None = None
        self.label: str | None = None
        self.title = QLabel("Per-label threshold: choose a label")
        self.title.setProperty("role", "subtitle")
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("scoreHistogram")
        self.plot.setFixedHeight(110)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.getPlotItem().setLabel("bottom", "probability")
        self.bars = pg.BarGraphItem(x=[], height=[], width=1.0 / BINS, brush="#5b8fd6")
        self.line = pg.InfiniteLine(0.5, angle=90, pen=pg.mkPen("#e07b39", width=2))
        self.plot.addItem(self.bars)
        self.plot.addItem(self.line)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("labelThreshold")
        self.slider.setRange(0, 100)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._moved)
        self.value = QLabel("—")
        self.count = QLabel("")
        self.count.setObjectName("labelWouldTag")
        self.reset = QPushButton("Reset")
        self.reset.setToolTip("Go back to the threshold computed from the model's calibration")
        self.reset.clicked.connect(self.clear_own)
        self.reset.setEnabled(False)
        self._store = QTimer(self, singleShot=True, interval=250)
        self._store.timeout.connect(self._save)
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.value)
        row.addWidget(self.reset)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.title)
        col.addWidget(self.plot)
        col.addLayout(row)
        col.addWidget(self.count)

    def show_label(self, project: Project | None, label: str | None) -> None:
        """Show `label`'s histogram and threshold (None: nothing to edit)."""
        self.project, self.label = project, label
        thresholds = api.label_thresholds(project) if project is not None and label is not None else {}
        info = thresholds.get(label) if label is not None else None
        self.slider.setEnabled(info is not None)
        self.reset.setEnabled(info is not None and info.own is not None)
        if info is None:
            self.title.setText("Per-label threshold: choose a label" if label is None
                               else f"“{label}” was added by hand: no scores to threshold")
            self.bars.setOpts(x=[], height=[])
            self.count.setText("")
            return
        assert project is not None and label is not None
        counts, edges = api.score_histogram(project, label, BINS)
        self.bars.setOpts(x=[(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)], height=counts)
        own = info.own if info.own is not None else info.default
        self.slider.blockSignals(True)
        self.slider.setValue(round(own * 100))
        self.slider.blockSignals(False)
        self._show(own, saved=True)

    def _show(self, value: float, *, saved: bool) -> None:
        assert self.project is not None and self.label is not None
        info = api.label_thresholds(self.project)[self.label]
        origin = "your own" if (info.own is not None or not saved) else "computed (max F1)" \
            if api.policy(self.project).operating_point == "max_f1" else "computed (precision target)"
        self.title.setText(f"Threshold for “{self.label}”: {value:.2f} ({origin}; default {info.default:.2f})")
        self.value.setText(f"{value:.2f}")
        self.line.setValue(min(1.0, max(0.0, value + api.policy(self.project).global_offset)))
        n = api.count_at(self.project, self.label, value)
        self.count.setText(f"would tag {n} photo{'s' if n != 1 else ''}")

    def _moved(self, position: int) -> None:
        if self.project is None or self.label is None:
            return
        self._show(position / 100, saved=False)
        self._store.start()

    def _save(self) -> None:
        if self.project is None or self.label is None:
            return
        api.set_label_threshold(self.project, self.label, self.slider.value() / 100)
        self.reset.setEnabled(True)
        self.changed.emit(self.label)

    def clear_own(self) -> None:
        if self.project is None or self.label is None:
            return
        api.set_label_threshold(self.project, self.label, None)
        self.show_label(self.project, self.label)
        self.changed.emit(self.label)
