"""Labelled CSV files: `caption,labels[,group]` and `path,labels[,group]` -> a TrainingSet (labels joined by ';')."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from engine.datasets.training_set import TrainingSet
from engine.errors import InputError
from engine.labels.labelset import LabelSet

LABEL_SEPARATOR = ";"


def multi_hot(names: list[str], label_lists: list[list[str]], where: str) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    out = np.zeros((len(label_lists), len(names)), np.uint8)
    for row, labels in enumerate(label_lists):
        for label in labels:
            if label not in index:
                raise InputError(f"{where}, row {row + 1}: unknown label {label!r}; known: {', '.join(names)}")
            out[row, index[label]] = 1
    return out


def read_labelled_csv(path: Path, first: str) -> list[tuple[str, list[str], str | None]]:
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


def from_csv(labels: LabelSet, captions_csv: str | Path | None, images_csv: str | Path | None) -> TrainingSet:
    """captions.csv: `caption,labels[,group]`; images.csv: `path,labels[,group]`; labels joined by ';'.

    Image paths are relative to the CSV's folder unless absolute.
    """
    captions, cap_labels, cap_groups = [], [], []
    if captions_csv:
        for text, names, group in read_labelled_csv(Path(captions_csv), "caption"):
            captions.append(text)
            cap_labels.append(names)
            cap_groups.append(group or f"c:{text}")
    paths, img_labels, img_groups = [], [], []
    if images_csv:
        base = Path(images_csv).resolve().parent
        for path, names, group in read_labelled_csv(Path(images_csv), "path"):
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
