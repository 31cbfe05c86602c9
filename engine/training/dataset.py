"""Training inputs (captions and synthetic images with multi-hot labels) and the held-out split by caption."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.artifact import LabelInfo
from engine.errors import InputError

LABEL_SEPARATOR = ";"


@dataclass
class TrainingSet:
    """Captions and images with labels over `labels.names`; `groups` tie images to the caption they render."""

    labels: LabelInfo
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
            h = hashlib.blake2b(f"{seed}|{group}".encode(), digest_size=8).digest()
            return int.from_bytes(h, "big") / 2**64 < fraction

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


def multi_hot(names: list[str], label_lists: list[list[str]], where: str) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    out = np.zeros((len(label_lists), len(names)), np.uint8)
    for row, labels in enumerate(label_lists):
        for label in labels:
            if label not in index:
                raise InputError(f"{where}, row {row + 1}: unknown label {label!r}; known: {', '.join(names)}")
            out[row, index[label]] = 1
    return out


def _read_csv(path: Path, first: str) -> list[tuple[str, list[str], str | None]]:
    rows: list[tuple[str, list[str], str | None]] = []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or first not in reader.fieldnames or "labels" not in reader.fieldnames:
                raise InputError(f"{path}: needs a header with columns {first!r} and 'labels'")
            for line, row in enumerate(reader, start=2):
                value = (row.get(first) or "").strip()
                if not value:
                    raise InputError(f"{path}, line {line}: empty {first}")
                labels = [s.strip() for s in (row.get("labels") or "").split(LABEL_SEPARATOR) if s.strip()]
                rows.append((value, labels, (row.get("group") or "").strip() or None))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from exc
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist") from exc
    return rows


def from_csv(labels: LabelInfo, captions_csv: str | Path | None, images_csv: str | Path | None) -> TrainingSet:
    """captions.csv: `caption,labels[,group]`; images.csv: `path,labels[,group]`; labels joined by ';'.

    Image paths are relative to the CSV's folder unless absolute.
    """
    captions, cap_labels, cap_groups = [], [], []
    if captions_csv:
        for text, names, group in _read_csv(Path(captions_csv), "caption"):
            captions.append(text)
            cap_labels.append(names)
            cap_groups.append(group or f"c:{text}")
    paths, img_labels, img_groups = [], [], []
    if images_csv:
        base = Path(images_csv).resolve().parent
        for path, names, group in _read_csv(Path(images_csv), "path"):
            full = Path(path) if Path(path).is_absolute() else base / path
            if not full.is_file():
                raise InputError(f"{images_csv}: image {full} does not exist")
            paths.append(str(full))
            img_labels.append(names)
            img_groups.append(group or f"i:{path}")
    return TrainingSet(
        labels,
        captions, multi_hot(labels.names, cap_labels, str(captions_csv)), cap_groups,
        paths, multi_hot(labels.names, img_labels, str(images_csv)), img_groups,
    )
