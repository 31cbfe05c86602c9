"""Reviewed photos: real photos with partial labels (known positive, known negative, unknown per label)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from engine.errors import InputError

POSITIVE_SOURCES = ("confirmed", "manual")
NEGATIVE_SOURCES = ("rejected",)


@dataclass
class ReviewedPhotos:
    """Photo paths with `labels` (N, C) 0/1 and `known` (N, C) bool over `names`; unknown labels are 0 and False."""

    names: list[str]
    paths: list[str] = field(default_factory=list)
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.uint8))
    known: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))

    def __post_init__(self) -> None:
        n = (len(self.paths), len(self.names))
        if self.labels.size == 0:
            self.labels = np.zeros(n, np.uint8)
        if self.known.size == 0:
            self.known = np.zeros(n, bool)
        if self.labels.shape != n or self.known.shape != n:
            raise InputError("reviewed photos, their labels and known masks differ in shape")

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def from_decisions(cls, names: list[str], decisions: Iterable[tuple[str, str, str]]) -> ReviewedPhotos:
        """From (path, label, source) human decisions; labels outside `names` are skipped (not in the model)."""
        col = {n: j for j, n in enumerate(names)}
        rows: dict[str, int] = {}
        cells: list[tuple[int, int, bool]] = []
        for path, label, source in decisions:
            if label not in col or source not in POSITIVE_SOURCES + NEGATIVE_SOURCES:
                continue
            row = rows.setdefault(path, len(rows))
            cells.append((row, col[label], source in POSITIVE_SOURCES))
        labels = np.zeros((len(rows), len(names)), np.uint8)
        known = np.zeros((len(rows), len(names)), bool)
        for row, c, positive in cells:
            labels[row, c] = int(positive)
            known[row, c] = True
        return cls(list(names), list(rows), labels, known)

    @classmethod
    def fully_labelled(cls, names: list[str], paths: list[str], labels: np.ndarray) -> ReviewedPhotos:
        """Photos whose every label is known (e.g. a labelled photo set)."""
        return cls(list(names), list(paths), np.asarray(labels, np.uint8), np.ones(labels.shape, bool))

    def subset(self, index: np.ndarray | list[int]) -> ReviewedPhotos:
        idx = np.asarray(index, int)
        return ReviewedPhotos(self.names, [self.paths[i] for i in idx], self.labels[idx], self.known[idx])
