"""Small caption files in every supported format."""

from __future__ import annotations

import json

import pytest

from engine.labels.labelset import LabelSet

COCO_CAPTIONS = [
    (1, "A dog runs on the beach."),
    (1, "Two dogs playing with a frisbee."),
    (2, "A cat sleeping on a sofa."),
    (3, "A man riding a bicycle down the street."),
    (3, "a man riding a bicycle down the  street"),  # duplicate after normalisation
    (4, "A bowl of soup."),  # no label of the pets set
]


@pytest.fixture
def pets() -> LabelSet:
    return LabelSet.from_dict({
        "name": "pets",
        "labels": [
            {"name": "dog", "synonyms": ["puppy"], "not_this": ["hot dog"]},
            {"name": "cat", "synonyms": ["kitten"]},
            {"name": "bicycle", "synonyms": ["bike"]},
            {"name": "person", "synonyms": ["man", "woman", "people"]},
            {"name": "frisbee"},
        ],
    })


def write_coco(path, captions=COCO_CAPTIONS, extra=""):
    data = {
        "info": {"description": "test", "nested": [[1, 2], {"a": "]"}]},
        "images": [{"id": i, "file_name": f"{i}.jpg"} for i in range(1, 5)],
        "licenses": [],
        "annotations": [{"image_id": img, "id": k, "caption": c} for k, (img, c) in enumerate(captions)],
    }
    text = json.dumps(data, indent=1)
    path.write_text(text + extra, encoding="utf-8")
    return path


@pytest.fixture
def coco_file(tmp_path):
    return write_coco(tmp_path / "captions_train.json")
