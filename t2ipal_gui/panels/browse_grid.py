"""Browse's thumbnail grid: columns that fill the viewport's width at the chosen thumbnail size, and review badges
(confirmed / rejected / uncertain) painted over each thumbnail's corner."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QResizeEvent
from PySide6.QtWidgets import QListView, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from t2ipal_gui.models.thumbnails import REVIEW_ROLE

MIN_THUMB, MAX_THUMB, DEFAULT_THUMB = 64, 256, 112
SPACING = 12  # px between cells, across and down
TEXT_LINES = 2  # the file name under the thumbnail may wrap once
# (attribute of the review state, colour, mark): the order the badges are drawn in, left to right
BADGES = (("confirmed", "#2e8b57", "✓"), ("rejected", "#c0392b", "✗"), ("uncertain", "#d08a2c", "?"))


def badges_of(state: Any) -> list[tuple[str, str]]:
    """(colour, mark) of each badge a review state shows (confirmed, rejected, uncertain), in drawing order."""
    if state is None:
        return []
    return [(colour, mark) for attr, colour, mark in BADGES if getattr(state, attr, 0)]


class BadgeDelegate(QStyledItemDelegate):
    """Paints the usual icon and name, then one small round badge per review state in the icon's top-right."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        badges = badges_of(index.data(REVIEW_ROLE))
        if not badges:
            return
        icon = option.decorationSize  # type: ignore[attr-defined]
        rect: QRect = option.rect  # type: ignore[attr-defined]
        diameter = max(14, icon.width() // 6)
        left = rect.center().x() + icon.width() // 2 - diameter * len(badges) - 2
        top = rect.top() + 4
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = painter.font()
        font.setPixelSize(int(diameter * 0.7))
        font.setBold(True)
        painter.setFont(font)
        for i, (colour, mark) in enumerate(badges):
            circle = QRect(left + i * diameter, top, diameter - 2, diameter - 2)
            painter.setPen(QColor(255, 255, 255, 220))
            painter.setBrush(QColor(colour))
            painter.drawEllipse(circle)
            painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, mark)
        painter.restore()


class ThumbnailGrid(QListView):
    """An icon-mode list whose cells share the viewport's width evenly (no ragged gap at the right edge)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumb = DEFAULT_THUMB
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setItemDelegate(BadgeDelegate(self))
        self.set_thumb_size(DEFAULT_THUMB)

    def set_thumb_size(self, size: int) -> None:
        self.thumb = max(MIN_THUMB, min(MAX_THUMB, int(size)))
        self.setIconSize(QSize(self.thumb, self.thumb))
        self.fit_columns()

    def columns(self) -> int:
        """How many thumbnails fit side by side in the viewport at the current size."""
        return max(1, self.viewport().width() // (self.thumb + SPACING))

    def fit_columns(self) -> None:
        """Spread the columns over the whole width: each cell gets an equal share of the viewport."""
        width = max(self.thumb + SPACING, self.viewport().width() // self.columns())
        text = self.fontMetrics().lineSpacing() * TEXT_LINES
        self.setGridSize(QSize(width, self.thumb + text + SPACING))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.fit_columns()
