"""Which tagged photos a person wants to see: labels (all / any); thresholds are the tag store's policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config import require_choice


@dataclass
class TagFilter:
    """Photos with all (or any) of `labels` in force under the project's threshold policy (no labels: every photo)."""

    labels: list[str] = field(default_factory=list)
    mode: str = "all"  # "all" | "any"

    def __post_init__(self) -> None:
        require_choice("mode", self.mode, ("all", "any"))
