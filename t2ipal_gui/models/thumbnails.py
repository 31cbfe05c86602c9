"""A lazy list model of image paths: rows arrive page by page as the view scrolls (canFetchMore / fetchMore),
thumbnails are decoded off the GUI thread, only when a row is shown."""

from __future__ import annotations

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
from PySide6.QtGui import QColor, QIcon, QImage, QImageReader, QPixmap

THUMB = 128
PAGE = 2000  # rows fetched at a time when the view scrolls near the end
PageFetcher = Callable[[int, int], list[str]]  # (limit, offset) -> paths


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
        self._icons: dict[str, QIcon] = {}
        self._requested: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._done = _Done()
        self._done.loaded.connect(self._loaded, Qt.ConnectionType.QueuedConnection)
        placeholder = QPixmap(size, size)
        placeholder.fill(QColor(128, 128, 128, 60))
        self._placeholder = QIcon(placeholder)

    def set_paths(self, paths: list[str], subtitles: dict[str, str] | None = None) -> None:
        """Show exactly these paths (no paging)."""
        self.beginResetModel()
        self.paths = list(paths)
        self._row_of = {p: i for i, p in enumerate(self.paths)}
        self.total, self._fetch = len(self.paths), None
        self.subtitles = subtitles or {}
        self.endResetModel()

    def set_source(self, total: int, fetch: PageFetcher) -> None:
        """Show `total` rows read page by page through `fetch(limit, offset)` as the view needs them."""
        self.beginResetModel()
        self.paths, self._row_of, self.subtitles = [], {}, {}
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
        return None

    def _request(self, path: str) -> None:
        if path not in self._requested:
            self._requested.add(path)
            self._pool.start(_Load(path, self.size, self._done))

    @Slot(str, QImage)
    def _loaded(self, path: str, image: QImage) -> None:
        if image.isNull():
            image = QImage(self.size, self.size, QImage.Format.Format_ARGB32)
            image.fill(QColor(200, 80, 80, 80))
        self._icons[path] = QIcon(QPixmap.fromImage(image))
        row = self._row_of.get(path)
        if row is not None:
            self.dataChanged.emit(self.index(row), self.index(row), [Qt.ItemDataRole.DecorationRole])

    def wait(self, ms: int = 5000) -> bool:
        return self._pool.waitForDone(ms)

    def loaded_count(self) -> int:
        return len(self._icons)
