"""Which tagged photos a person wants to see: labels (all / any), review state and a file-name / folder search;
thresholds are the tag store's policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config import require_choice

REVIEW_STATES = ("all", "reviewed", "unreviewed", "rejected")


@dataclass
class TagFilter:
    """Photos with all (or any) of `labels` in force under the project's threshold policy (no labels: every photo).

    `review`: every photo, those with at least one human decision (reviewed), none (unreviewed), or at least
    one rejected tag. `search`: words that must all appear in the photo's path (file name or folder),
    case-insensitive.
    """

    labels: list[str] = field(default_factory=list)
    mode: str = "all"  # "all" | "any"
    review: str = "all"  # one of REVIEW_STATES
    search: str = ""

    def __post_init__(self) -> None:
        require_choice("mode", self.mode, ("all", "any"))
        require_choice("review", self.review, REVIEW_STATES)

    def search_words(self) -> list[str]:
        return self.search.split()
