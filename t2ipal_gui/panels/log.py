"""Log panel: engine and app log records, filterable by level."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from t2ipal_gui.logbridge import QtLogHandler

LEVELS = {"Debug": logging.DEBUG, "Info": logging.INFO, "Warning": logging.WARNING, "Error": logging.ERROR}


class LogPanel(QWidget):
    """Shows records from the Qt log handler (including those logged before it was created)."""

    def __init__(self, handler: QtLogHandler, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel_log")
        self.handler = handler
        self.view = QPlainTextEdit(readOnly=True)
        self.view.setObjectName("logView")
        self.view.setMaximumBlockCount(5000)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setPlaceholderText("Nothing logged yet. Jobs report what they do here.")
        self.level = QComboBox()
        self.level.addItems(list(LEVELS))
        self.level.setCurrentText("Info")
        self.level.currentTextChanged.connect(self._reload)
        clear = QPushButton("Clear")
        clear.clicked.connect(self._clear)
        self.count = QLabel()
        self.count.setProperty("role", "subtitle")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.level)
        bar.addStretch(1)
        bar.addWidget(self.count)
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self._errors = 0
        handler.emitter.record.connect(self.add_record, Qt.ConnectionType.QueuedConnection)
        self._reload()

    @property
    def min_level(self) -> int:
        return LEVELS[self.level.currentText()]

    @Slot(object)
    def add_record(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self._errors += 1
            self.count.setText(f"{self._errors} error(s)")
        if record.levelno >= self.min_level:
            self.view.appendPlainText(getattr(record, "formatted", record.getMessage()))

    def text(self) -> str:
        return self.view.toPlainText()

    def _reload(self, *_: object) -> None:
        self.view.clear()
        for record in list(self.handler.backlog):
            if record.levelno >= self.min_level:
                self.view.appendPlainText(getattr(record, "formatted", record.getMessage()))

    def _clear(self) -> None:
        self.handler.backlog.clear()
        self.view.clear()
        self._errors = 0
        self.count.clear()
