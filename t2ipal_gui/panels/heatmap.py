"""The "why" heatmap: the engine's map (api.explain, 0..1) coloured with a perceptual colormap, and its legend."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

COLORMAP = "viridis"  # perceptually uniform, readable in grey and by colour-blind people
LEVELS = 256


def _lookup_table() -> np.ndarray:
    """(256, 3) uint8 RGB from pyqtgraph's bundled colormap, 0 → dark violet … 1 → yellow."""
    from pyqtgraph import colormap

    table = colormap.get(COLORMAP).getLookupTable(0.0, 1.0, LEVELS, alpha=False)
    return np.asarray(table, dtype=np.uint8)[:, :3]


def colour_heatmap(heat: Any) -> QImage:
    """An opaque RGB image of `heat` (values 0..1) through the colormap, at the map's own resolution."""
    values = np.clip(np.nan_to_num(np.asarray(heat, dtype=np.float32)), 0.0, 1.0)
    rgb = np.ascontiguousarray(_lookup_table()[np.rint(values * (LEVELS - 1)).astype(np.intp)])
    h, w = values.shape
    return QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def colour_bar(width: int, height: int) -> QPixmap:
    """The legend's bar: the colormap from 0 (left) to 1 (right)."""
    ramp = np.linspace(0.0, 1.0, max(2, width), dtype=np.float32)[None, :].repeat(max(1, height), axis=0)
    return QPixmap.fromImage(colour_heatmap(ramp))


class HeatmapLegend(QWidget):
    """A colour bar from 0 to 1 under the photo, titled with what it shows ("where the model sees <label>")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("heatmapLegendTitle")
        self.bar = QLabel()
        self.bar.setPixmap(colour_bar(160, 10))
        self.bar.setToolTip(f"{COLORMAP} colormap: dark = the model does not look here, yellow = it looks most")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("0"))
        row.addWidget(self.bar)
        row.addWidget(QLabel("1"))
        row.addStretch(1)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(self.title)
        col.addLayout(row)
        self.title.setAlignment(Qt.AlignmentFlag.AlignLeft)

    def show_label(self, label: str) -> None:
        self.title.setText(f"Where the model sees “{label}”")
