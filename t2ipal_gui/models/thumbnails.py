"""A lazy list model of image paths: rows arrive page by page as the view scrolls (canFetchMore / fetchMore),
thumbnails are decoded off the GUI thread, only when a row is shown; each row can carry a review state (badges)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QIcon, QImage, QImageReader, QPainter, QPixmap

THUMB = 128
PAGE = 2000  # rows fetched at a time when the view scrolls near the end
PageFetcher = Callable[[int, int], list[str]]  # (limit, offset) -> paths
StateFetcher = Callable[[list[str]], dict[str, Any]]  # paths -> review state per path (engine.api.ReviewState)
REVIEW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's review state, for the badges


def placeholder_image(size: int, text: str = "") -> QImage:
    """A neutral grey square, with `text` (e.g. "missing") written in its middle when given."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(128, 128, 128, 60))
    if text:
        painter = QPainter(image)
        painter.setPen(QColor(128, 128, 128))
        font = painter.font()
        font.setPixelSize(max(10, size // 8))
        painter.setFont(font)
        painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
    return image


class _Done(QObject):
    loaded = Signal(str, QImage)


class _Load(QRunnable):
    def __init__(self, path: str, size: int, done: _Done) -> None:
        super().__init__()
        self.path, self.size, self.done = path, size, done

    def run(self) -> None:  # pool thread: QImage (not QPixmap) is safe here
        reader = QImageReader(self.path)
        reader.setAutoTransform(True)
        full = reader.size()
        if full.isValid():
            reader.setScaledSize(full.scaled(QSize(self.size, self.size), Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        self.done.loaded.emit(self.path, image)


class ThumbnailModel(QAbstractListModel):
    """Rows are paths; DecorationRole is a placeholder until the thumbnail arrives."""

    def __init__(self, parent: QObject | None = None, size: int = THUMB) -> None:
        super().__init__(parent)
        self.size = size
        self.paths: list[str] = []
        self._row_of: dict[str, int] = {}
        self.total = 0  # rows the source holds (all pages)
        self._fetch: PageFetcher | None = None
        self.subtitles: dict[str, str] = {}
        self.states: dict[str, Any] = {}
        self._states_of: StateFetcher | None = None
        self._icons: dict[str, QIcon] = {}
        self._requested: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._done = _Done()
        self._done.loaded.connect(self._loaded, Qt.ConnectionType.QueuedConnection)
        self._placeholder = QIcon(QPixmap.fromImage(placeholder_image(size)))

    def set_state_source(self, states_of: StateFetcher | None) -> None:
        """Where the rows' review states come from (read for each page as it arrives); None: no badges."""
        self._states_of = states_of
        self.states = states_of(list(self.paths)) if states_of is not None and self.paths else {}

    def refresh_states(self, paths: list[str]) -> None:
        """Read the review state of `paths` again (after a decision or its undo) and repaint their badges."""
        if self._states_of is None:
            return
        self.states.update(self._states_of(paths))
        for path in paths:
            row = self._row_of.get(path)
            if row is not None:
                self.dataChanged.emit(self.index(row), self.index(row), [REVIEW_ROLE])

    def set_thumb_size(self, size: int) -> None:
        """Thumbnails shown at `size` px: decoded again only when larger than the ones already decoded."""
        if size <= self.size:
            return
        self.size = size
        self._icons.clear()
        self._requested.clear()
        if self.paths:
            self.dataChanged.emit(self.index(0), self.index(len(self.paths) - 1), [Qt.ItemDataRole.DecorationRole])

    def set_paths(self, paths: list[str], subtitles: dict[str, str] | None = None) -> None:
        """Show exactly these paths (no paging)."""
        self.beginResetModel()
        self.paths = list(paths)
        self._row_of = {p: i for i, p in enumerate(self.paths)}
        self.total, self._fetch = len(self.paths), None
        self.subtitles = subtitles or {}
        self.states = self._states_of(self.paths) if self._states_of is not None and self.paths else {}
        self.endResetModel()

    def set_source(self, total: int, fetch: PageFetcher) -> None:
        """Show `total` rows read page by page through `fetch(limit, offset)` as the view needs them."""
        self.beginResetModel()
        self.paths, self._row_of, self.subtitles, self.states = [], {}, {}, {}
        self.total, self._fetch = total, fetch
        self.endResetModel()
        if self.canFetchMore():
            self.fetchMore()

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and self._fetch is not None and len(self.paths) < self.total

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008, N802
        if not self.canFetchMore(parent) or self._fetch is None:
            return
        page = self._fetch(PAGE, len(self.paths))
        if not page:  # the source shrank under us: stop asking
            self.total = len(self.paths)
            return
        start = len(self.paths)
        self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
        self.paths.extend(page)
        self._row_of.update({p: start + i for i, p in enumerate(page)})
        if self._states_of is not None:
            self.states.update(self._states_of(page))
        self.endInsertRows()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.paths)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        path = self.paths[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            name = path.rsplit("/", 1)[-1]
            sub = self.subtitles.get(path)
            return f"{name}\n{sub}" if sub else name
        if role == Qt.ItemDataRole.DecorationRole:
            icon = self._icons.get(path)
            if icon is None:
                self._request(path)
                return self._placeholder
            return icon
        if role == Qt.ItemDataRole.ToolTipRole:
            return path
        if role == Qt.ItemDataRole.UserRole:
            return path
        if role == REVIEW_ROLE:
            return self.states.get(path)
        return None

    def _request(self, path: str) -> None:
        if path not in self._requested:
            self._requested.add(path)
            self._pool.start(_Load(path, self.size, self._done))

    @Slot(str, QImage)
    def _loaded(self, path: str, image: QImage) -> None:
        if image.isNull():  # a neutral square that says why, never an alarming colour
            image = placeholder_image(self.size, "missing" if not os.path.exists(path) else "cannot display")
        self._icons[path] = QIcon(QPixmap.fromImage(image))
        row = self._row_of.get(path)
        if row is not None:
            self.dataChanged.emit(self.index(row), self.index(row), [Qt.ItemDataRole.DecorationRole])

    def wait(self, ms: int = 5000) -> bool:
        return self._pool.waitForDone(ms)

    def loaded_count(self) -> int:
        return len(self._icons)
