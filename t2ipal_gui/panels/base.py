"""Panel base: a title, an empty state (no project open) and the panel's content, reset when the project changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.project import Project
from t2ipal_gui.context import AppContext


class EmptyState(QWidget):
    """A centred message with an optional action button."""

    action = Signal()
    second_action = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setProperty("role", "empty")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setMinimumWidth(240)
        self.button = QPushButton()
        self.button.setProperty("role", "primary")
        self.button.clicked.connect(self.action)
        self.second = QPushButton()
        self.second.clicked.connect(self.second_action)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.button)
        buttons.addWidget(self.second)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.label)
        layout.addSpacing(10)
        layout.addLayout(buttons)
        layout.addStretch(3)

    def set(self, text: str, button: str = "", second: str = "") -> None:
        self.label.setText(text)
        self.button.setText(button)
        self.button.setVisible(bool(button))
        self.second.setText(second)
        self.second.setVisible(bool(second))


class Panel(QWidget):
    """Subclasses set `title`, `subtitle` and implement `build(content)`, `reset()` and `refresh()`."""

    title = ""
    subtitle = ""
    needs_project = True
    empty_no_project = "No project is open. Create a new project, or open one you made before."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(f"panel_{self.key()}")
        header = QLabel(self.title)
        header.setProperty("role", "title")
        sub = QLabel(self.subtitle)
        sub.setProperty("role", "subtitle")
        sub.setWordWrap(True)
        self.stack = QStackedWidget()
        self.empty = EmptyState()
        self.empty.action.connect(self.on_empty_action)
        self.empty.second_action.connect(self.on_empty_second_action)
        self.content = QWidget()
        # the content scrolls when the window is too small for it (1.5x scaling, a tall Log dock) instead of
        # squeezing widgets below their minimum size, where texts are clipped and controls overlap
        self.scroller = QScrollArea()
        self.scroller.setObjectName(f"scroller_{self.key()}")
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setWidget(self.content)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.scroller)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.addWidget(header)
        if self.subtitle:
            layout.addWidget(sub)
        layout.addSpacing(6)
        layout.addWidget(self.stack, 1)
        self.build(self.content)
        ctx.project_changed.connect(self._project_changed)
        ctx.data_changed.connect(self._on_data_changed)
        self._update_state()

    @classmethod
    def key(cls) -> str:
        return cls.__name__.removesuffix("Panel").lower()

    @property
    def project(self) -> Project | None:
        return self.ctx.project

    @property
    def active_project(self) -> Project:
        """The open project (panels only act while one is open: their content is hidden otherwise)."""
        if self.ctx.project is None:
            raise RuntimeError("open or create a project first (File → New Project…)")
        return self.ctx.project

    def is_ready(self) -> bool:
        return self.project is not None or not self.needs_project

    def for_this_project(self, slot: Callable[..., Any]) -> Callable[..., None]:
        """Wrap a job's slot so it is ignored once another project has been opened."""
        project = self.project

        def guarded(*args: Any) -> None:
            if self.project == project:
                slot(*args)

        return guarded

    def _project_changed(self, _project: Project | None) -> None:
        self.reset()
        self._update_state()

    def _update_state(self) -> None:
        if self.needs_project and self.project is None:
            self.empty.set(self.empty_no_project, "New Project…", "Open Project…")
            self.stack.setCurrentWidget(self.empty)
        else:
            self.stack.setCurrentWidget(self.scroller)
            self.safe_refresh()

    def _on_data_changed(self, area: str) -> None:
        if self.is_ready() and area in self.depends_on():
            self.safe_refresh()

    def safe_refresh(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - a broken project file must not break the window
            self.ctx.report(exc, f"Loading the {self.title} panel")

    def on_empty_action(self) -> None:
        new_project = getattr(self.window(), "new_project", None)
        if callable(new_project):
            new_project()

    def on_empty_second_action(self) -> None:
        open_project = getattr(self.window(), "open_project_dialog", None)
        if callable(open_project):
            open_project()

    # -- for subclasses -------------------------------------------------------------------------
    def build(self, content: QWidget) -> None:
        """Create the widgets inside `content`."""

    def reset(self) -> None:
        """Forget everything of the previous project (folders, results, messages) before the new one loads."""

    def refresh(self) -> None:
        """Reload from the project (called when the project or a dependency changes)."""

    def depends_on(self) -> tuple[str, ...]:
        return ()
