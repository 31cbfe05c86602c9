"""Readers for the official VOC2007 test, COCO val2014 and NUS-WIDE test layouts (METHOD.md §2.2)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import InputError

log = logging.getLogger(__name__)

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
    "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)
# TaI-DPT writes two COCO names differently in its prompts (datasets/data_helpers.py); the rest are official.
_COCO_PROMPT_NAMES = {"motorcycle": "motor bike", "airplane": "aeroplane"}

_VOC_LAYOUT = "VOC2007/{JPEGImages/, ImageSets/Main/<class>_test.txt} (root may also be VOCdevkit/ or its parent)"
_COCO_LAYOUT = "ROOT/annotations/instances_val2014.json and ROOT/val2014/*.jpg"
_NUS_LAYOUT = ("ROOT/{Concepts81.txt or ConceptsList/Concepts81.txt, ImageList/TestImagelist.txt, "
               "TrainTestLabels/Labels_<concept>_Test.txt (or Groundtruth/TrainTestLabels/), Flickr/}")


@dataclass(frozen=True)
class EvalDataset:
    """A benchmark test set: labels (N, C) uint8 with 1 = positive, classes in the benchmark's order.

    ``prompt_names`` are the names the reference implementation puts in its text prompts (same
    order as ``classnames``); they differ from ``classnames`` only where TaI-DPT renamed a class.
    """

    name: str
    classnames: list[str]
    image_paths: list[Path]
    labels: np.ndarray
    prompt_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.prompt_names:
            object.__setattr__(self, "prompt_names", list(self.classnames))


def _first_existing(root: Path, candidates: list[str], what: str, layout: str) -> Path:
    for rel in candidates:
        if (root / rel).exists():
            return root / rel
    tried = ", ".join(str(root / rel) for rel in candidates)
    raise InputError(f"{what} not found (looked for {tried}); expected layout: {layout}")


def _read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def load_voc2007(root: str | Path) -> EvalDataset:
    """VOC2007 test: ``ImageSets/Main/{cls}_test.txt`` values {1, 0 = difficult, -1}; only 1 is positive."""
    root = Path(root)
    voc = _first_existing(root, ["ImageSets/Main", "VOC2007/ImageSets/Main", "VOCdevkit/VOC2007/ImageSets/Main"],
                          "VOC2007 ImageSets/Main folder", _VOC_LAYOUT).parent.parent
    ids: list[str] = []
    columns = []
    for cls in VOC_CLASSES:
        path = _first_existing(voc, [f"ImageSets/Main/{cls}_test.txt"], f"VOC class list for '{cls}'", _VOC_LAYOUT)
        rows = [line.split() for line in _read_lines(path)]
        if any(len(r) != 2 or r[1] not in ("1", "0", "-1") for r in rows):
            raise InputError(f"{path}: every line must be '<image id> <1|0|-1>'")
        if not ids:
            ids = [r[0] for r in rows]
        elif [r[0] for r in rows] != ids:
            raise InputError(f"{path}: image ids differ from {VOC_CLASSES[0]}_test.txt (mixed VOC versions?)")
        columns.append(np.array([r[1] == "1" for r in rows]))  # difficult (0) and -1 are negatives
    _first_existing(voc, ["JPEGImages"], "VOC image folder", _VOC_LAYOUT)
    log.info("VOC2007 test: %d images (the official split has 4,952)", len(ids))
    return EvalDataset("voc2007", list(VOC_CLASSES), [voc / "JPEGImages" / f"{i}.jpg" for i in ids],
                       np.stack(columns, axis=1).astype(np.uint8))


def load_coco2014(root: str | Path) -> EvalDataset:
    """COCO val2014: every image of ``instances_val2014.json`` (also those without annotations), 80 classes
    in category-id order."""
    root = Path(root)
    ann_path = _first_existing(root, ["annotations/instances_val2014.json"], "COCO annotations", _COCO_LAYOUT)
    image_dir = _first_existing(root, ["val2014"], "COCO image folder", _COCO_LAYOUT)
    try:
        with open(ann_path, encoding="utf-8") as f:
            data = json.load(f)
        cats = sorted(data["categories"], key=lambda c: c["id"])
        images = data["images"]
        anns = data["annotations"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{ann_path}: not a COCO instances file ({exc})") from exc
    col = {c["id"]: k for k, c in enumerate(cats)}
    row = {img["id"]: n for n, img in enumerate(images)}
    labels = np.zeros((len(images), len(cats)), dtype=np.uint8)
    try:
        rows = np.fromiter((row[a["image_id"]] for a in anns), dtype=np.int64, count=len(anns))
        cols = np.fromiter((col[a["category_id"]] for a in anns), dtype=np.int64, count=len(anns))
    except KeyError as exc:
        raise InputError(f"{ann_path}: an annotation refers to unknown image or category id {exc}") from exc
    labels[rows, cols] = 1
    names = [c["name"] for c in cats]
    log.info("COCO val2014: %d images, %d classes (the official split has 40,504 and 80)", len(images), len(cats))
    return EvalDataset("coco2014", names, [image_dir / img["file_name"] for img in images], labels,
                       [_COCO_PROMPT_NAMES.get(n, n) for n in names])


def load_nuswide(root: str | Path) -> EvalDataset:
    """NUS-WIDE test: ``ImageList/TestImagelist.txt`` and one 0/1 file per concept, concepts in Concepts81 order."""
    root = Path(root)
    concepts = _read_lines(_first_existing(root, ["Concepts81.txt", "ConceptsList/Concepts81.txt"],
                                           "NUS-WIDE concept list", _NUS_LAYOUT))
    names = _read_lines(_first_existing(root, ["ImageList/TestImagelist.txt"], "NUS-WIDE test image list",
                                        _NUS_LAYOUT))
    label_dir = _first_existing(root, ["TrainTestLabels", "Groundtruth/TrainTestLabels"], "NUS-WIDE label folder",
                                _NUS_LAYOUT)
    image_dir = _first_existing(root, ["Flickr"], "NUS-WIDE image folder", _NUS_LAYOUT)
    labels = np.zeros((len(names), len(concepts)), dtype=np.uint8)
    for k, concept in enumerate(concepts):
        path = _first_existing(label_dir, [f"Labels_{concept}_Test.txt"], f"NUS-WIDE labels for '{concept}'",
                               _NUS_LAYOUT)
        try:
            values = np.array(path.read_text(encoding="utf-8").split(), dtype=np.int64)
        except ValueError as exc:
            raise InputError(f"{path}: expected one integer (0 or 1) per line ({exc})") from exc
        if values.shape[0] != len(names):
            raise InputError(f"{path}: {values.shape[0]} lines but TestImagelist.txt lists {len(names)} images")
        labels[:, k] = values == 1
    # The list uses Windows separators ("actor\\0001_2124494179.jpg").
    paths = [image_dir.joinpath(*n.replace("\\", "/").split("/")) for n in names]
    log.info("NUS-WIDE test: %d images, %d concepts", len(names), len(concepts))
    return EvalDataset("nuswide", concepts, paths, labels)


LOADERS = {"voc2007": load_voc2007, "coco2014": load_coco2014, "nuswide": load_nuswide}


def load_eval_dataset(name: str, root: str | Path) -> EvalDataset:
    """Load one of `LOADERS` ("voc2007", "coco2014", "nuswide") from its official layout under ``root``."""
    if name not in LOADERS:
        raise InputError(f"unknown dataset '{name}'; choose one of {', '.join(LOADERS)}")
    return LOADERS[name](root)
