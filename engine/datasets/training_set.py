"""Training inputs (captions and synthetic images with multi-hot labels) and the held-out split by caption."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.errors import InputError
from engine.hashing import hash_fraction
from engine.labels.labelset import LabelSet


@dataclass
class TrainingSet:
    """Captions and images with labels over `labels.names`; `groups` tie images to the caption they render."""

    labels: LabelSet
    captions: list[str] = field(default_factory=list)
    caption_labels: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.uint8))
    caption_groups: list[str] = field(default_factory=list)
    image_paths: list[str] = field(default_factory=list)
    image_labels: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.uint8))
    image_groups: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.labels.names)
        if self.caption_labels.size == 0:
            self.caption_labels = np.zeros((len(self.captions), n), np.uint8)
        if self.image_labels.size == 0:
            self.image_labels = np.zeros((len(self.image_paths), n), np.uint8)
        if not self.caption_groups:
            self.caption_groups = [f"c:{t}" for t in self.captions]
        if not self.image_groups:
            self.image_groups = [f"i:{p}" for p in self.image_paths]
        if self.caption_labels.shape != (len(self.captions), n) or len(self.caption_groups) != len(self.captions):
            raise InputError("captions, their labels and groups differ in length")
        if self.image_labels.shape != (len(self.image_paths), n) or len(self.image_groups) != len(self.image_paths):
            raise InputError("images, their labels and groups differ in length")

    def split(self, fraction: float, seed: int) -> tuple[TrainingSet, TrainingSet]:
        """Deterministic held-out split by group: a caption and its renders always land on the same side."""

        def heldout(group: str) -> bool:
            return hash_fraction(f"{seed}|{group}") < fraction

        cap_mask = np.array([heldout(g) for g in self.caption_groups], bool)
        img_mask = np.array([heldout(g) for g in self.image_groups], bool)
        return self._subset(~cap_mask, ~img_mask), self._subset(cap_mask, img_mask)

    def _subset(self, cap_mask: np.ndarray, img_mask: np.ndarray) -> TrainingSet:
        ci, ii = np.flatnonzero(cap_mask), np.flatnonzero(img_mask)
        return TrainingSet(
            self.labels,
            [self.captions[i] for i in ci],
            self.caption_labels[ci] if len(ci) else np.zeros((0, len(self.labels.names)), np.uint8),
            [self.caption_groups[i] for i in ci],
            [self.image_paths[i] for i in ii],
            self.image_labels[ii] if len(ii) else np.zeros((0, len(self.labels.names)), np.uint8),
            [self.image_groups[i] for i in ii],
        )
