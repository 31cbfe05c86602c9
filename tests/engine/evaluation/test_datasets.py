"""Benchmark readers on tiny fake layouts written to tmp_path, and their missing-file errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.errors import InputError
from engine.evaluation.datasets import VOC_CLASSES, load_coco2014, load_eval_dataset, load_nuswide, load_voc2007


def _write_voc(root: Path) -> Path:
    voc = root / "VOCdevkit" / "VOC2007"
    (voc / "JPEGImages").mkdir(parents=True)
    main = voc / "ImageSets" / "Main"
    main.mkdir(parents=True)
    ids = ["000001", "000002", "000004"]
    for k, cls in enumerate(VOC_CLASSES):
        values = {0: ["1", "0", "-1"], 1: ["-1", "-1", "1"]}.get(k, ["-1", "-1", "-1"])  # aeroplane: 2nd difficult
        lines = [f"{i} {' ' if v == '1' else ''}{v}\n" for i, v in zip(ids, values, strict=True)]  # VOC pads " 1"
        (main / f"{cls}_test.txt").write_text("".join(lines))
    return voc


def test_voc_difficult_is_negative(tmp_path: Path) -> None:
    voc = _write_voc(tmp_path)
    for root in (tmp_path, tmp_path / "VOCdevkit", voc):
        ds = load_voc2007(root)
        assert ds.name == "voc2007" and ds.classnames == list(VOC_CLASSES) and ds.prompt_names == ds.classnames
        assert ds.labels.dtype == np.uint8 and ds.labels.shape == (3, 20)
        assert ds.labels[:, 0].tolist() == [1, 0, 0]  # 0 (difficult) and -1 are negatives
        assert ds.labels[:, 1].tolist() == [0, 0, 1]
        assert ds.labels[:, 2:].sum() == 0
        assert ds.image_paths[2] == voc / "JPEGImages" / "000004.jpg"


def test_voc_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="ImageSets/Main"):
        load_voc2007(tmp_path)
    voc = _write_voc(tmp_path)
    (voc / "ImageSets" / "Main" / "sofa_test.txt").unlink()
    with pytest.raises(InputError, match="sofa_test.txt"):
        load_voc2007(tmp_path)


def _write_coco(root: Path) -> None:
    (root / "annotations").mkdir(parents=True)
    (root / "val2014").mkdir()
    data = {
        "images": [{"id": 42, "file_name": "a.jpg"}, {"id": 7, "file_name": "b.jpg"}, {"id": 9, "file_name": "c.jpg"}],
        "categories": [{"id": 5, "name": "airplane"}, {"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
        "annotations": [
            {"image_id": 42, "category_id": 1}, {"image_id": 42, "category_id": 1},
            {"image_id": 7, "category_id": 5}, {"image_id": 42, "category_id": 3},
        ],
    }
    (root / "annotations" / "instances_val2014.json").write_text(json.dumps(data))


def test_coco_multi_hot_in_category_id_order(tmp_path: Path) -> None:
    _write_coco(tmp_path)
    ds = load_eval_dataset("coco2014", tmp_path)
    assert ds.classnames == ["person", "car", "airplane"]
    assert ds.prompt_names == ["person", "car", "aeroplane"]
    assert ds.labels.tolist() == [[1, 1, 0], [0, 0, 1], [0, 0, 0]]  # image 9 has no annotations but is kept
    assert ds.image_paths == [tmp_path / "val2014" / n for n in ("a.jpg", "b.jpg", "c.jpg")]


def test_coco_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="instances_val2014.json"):
        load_coco2014(tmp_path)
    _write_coco(tmp_path)
    (tmp_path / "annotations" / "instances_val2014.json").write_text("{}")
    with pytest.raises(InputError, match="not a COCO instances file"):
        load_coco2014(tmp_path)


def _write_nus(root: Path) -> None:
    (root / "ConceptsList").mkdir(parents=True)
    (root / "ConceptsList" / "Concepts81.txt").write_text("sky\nanimal\n")
    (root / "ImageList").mkdir()
    (root / "ImageList" / "TestImagelist.txt").write_text("actor\\0001_1.jpg\r\nairport\\0002_2.jpg\r\n")
    (root / "Groundtruth" / "TrainTestLabels").mkdir(parents=True)
    (root / "Groundtruth" / "TrainTestLabels" / "Labels_sky_Test.txt").write_text("1\n0\n")
    (root / "Groundtruth" / "TrainTestLabels" / "Labels_animal_Test.txt").write_text("1 \n1 \n")
    (root / "Flickr").mkdir()


def test_nuswide(tmp_path: Path) -> None:
    _write_nus(tmp_path)
    ds = load_nuswide(tmp_path)
    assert ds.classnames == ["sky", "animal"]
    assert ds.labels.tolist() == [[1, 1], [0, 1]]
    flickr = tmp_path / "Flickr"
    assert ds.image_paths == [flickr / "actor" / "0001_1.jpg", flickr / "airport" / "0002_2.jpg"]


def test_nuswide_errors(tmp_path: Path) -> None:
    _write_nus(tmp_path)
    (tmp_path / "Groundtruth" / "TrainTestLabels" / "Labels_sky_Test.txt").write_text("1\n")
    with pytest.raises(InputError, match="1 lines but TestImagelist.txt lists 2"):
        load_nuswide(tmp_path)
    (tmp_path / "Groundtruth" / "TrainTestLabels" / "Labels_animal_Test.txt").unlink()
    (tmp_path / "Groundtruth" / "TrainTestLabels" / "Labels_sky_Test.txt").write_text("1\n0\n")
    with pytest.raises(InputError, match="Labels_animal_Test.txt"):
        load_nuswide(tmp_path)
    with pytest.raises(InputError, match="unknown dataset"):
        load_eval_dataset("imagenet", tmp_path)
