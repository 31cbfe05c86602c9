"""A lazy list model of image paths: thumbnails are decoded off the GUI thread, only when a row is shown."""

from __future__ import annotations

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
        self.beginResetModel()
        self.paths = list(paths)
        self.subtitles = subtitles or {}
        self.endResetModel()

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
        if path in self.paths:
            row = self.paths.index(path)
            self.dataChanged.emit(self.index(row), self.index(row), [Qt.ItemDataRole.DecorationRole])

    def wait(self, ms: int = 5000) -> bool:
        return self._pool.waitForDone(ms)

    def loaded_count(self) -> int:
        return len(self._icons)
