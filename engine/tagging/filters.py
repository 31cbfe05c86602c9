"""Which tagged photos a person wants to see: labels (all / any) and score thresholds (no database code)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config import require_choice


@dataclass
class TagFilter:
    """Photos with all (or any) of `labels`; auto tags count at or above their label's threshold."""

    labels: list[str] = field(default_factory=list)
    mode: str = "all"  # "all" | "any"
    threshold: float = 0.5  # threshold for auto tags of every label without its own
    per_label: dict[str, float] = field(default_factory=dict)  # a label's own threshold

    def __post_init__(self) -> None:
        require_choice("mode", self.mode, ("all", "any"))

    def threshold_of(self, label: str) -> float:
        return self.per_label.get(label, self.threshold)
