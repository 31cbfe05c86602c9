"""Browse's review decisions as undo commands: one command per key press (C, X, N, or A for every shown tag),
so Edit → Undo / Redo, Ctrl+Z / Ctrl+Shift+Z and U walk them back and forth through the engine's decide / undo."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from engine import api
from engine.api import Decision
from engine.project import Project

VERBS = {"confirmed": "Confirm", "rejected": "Reject", "manual": "Add"}
Changed = Callable[[list[Decision], bool], None]  # (decisions, undone) -> the panel shows the photo again


def command_text(wanted: list[tuple[str, str, str]]) -> str:
    """What Edit → Undo names: "Confirm cat", "Reject dog", "Confirm 3 tags"."""
    sources = {source for _p, _l, source in wanted}
    verb = VERBS[next(iter(sources))] if len(sources) == 1 else "Decide"
    return f"{verb} {wanted[0][1]}" if len(wanted) == 1 else f"{verb} {len(wanted)} tags"


class DecisionCommand(QUndoCommand):
    """Human decisions (path, label, source) made together; redo decides them, undo puts each tag back."""

    def __init__(self, project: Project, wanted: list[tuple[str, str, str]], changed: Changed) -> None:
        super().__init__(command_text(wanted))
        self.project, self.wanted, self.changed = project, list(wanted), changed
        self.made: list[Decision] = []

    def redo(self) -> None:  # QUndoStack.push runs it the first time
        self.made = [api.decide(self.project, path, label, source) for path, label, source in self.wanted]
        self.changed(self.made, False)

    def undo(self) -> None:
        for decision in reversed(self.made):
            api.undo(self.project, decision)
        self.changed(self.made, True)
