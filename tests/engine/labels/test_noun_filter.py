"""Noun filter: plurals, irregular plurals, multi-word names, punctuation, case, possessives, false friends."""

from __future__ import annotations

import numpy as np
import pytest

from engine.labels.labelset import LabelSet
from engine.labels.noun_filter import NounFilter


@pytest.fixture(scope="module")
def coco() -> NounFilter:
    return NounFilter(LabelSet.bundled("coco"))


@pytest.fixture(scope="module")
def voc() -> NounFilter:
    return NounFilter(LabelSet.bundled("voc2007"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two dogs chase three cats.", {"dog", "cat"}),  # plurals
        ("A mouse next to two computer mice", {"mouse"}),  # irregular plural
        ("Children and women on the sofa", {"person", "couch"}),  # irregular plurals -> person
        ("Knives, forks and spoons on a table", {"knife", "fork", "spoon", "dining table"}),
        ("A TEDDY BEAR sits on a bed", {"teddy bear", "bed"}),  # multi-word first, case
        ("a teddy-bear!", {"teddy bear"}),  # hyphen and punctuation
        ("The dog's bowl is empty", {"dog", "bowl"}),  # possessive
        ("the dogs' toys", {"dog"}),  # plural possessive
        ("A man eating a hot dog", {"person", "hot dog"}),  # false friend: hot dog is not a dog
        ("a hotdog on a plate", {"hot dog"}),  # space-free spelling of a multi-word name
        ("A category of concatenated catalogues", set()),  # word boundaries
        ("A remote village by the road", set()),  # not-this phrase
        ("A man holding a tv remote", {"person", "remote"}),  # longer phrase hides "tv"
        ("A fire hydrant, a stop sign and a traffic light.", {"fire hydrant", "stop sign", "traffic light"}),
        ("people skiing down a slope", {"person", "skis"}),
        ("A baseball player swings a bat", {"person", "baseball bat"}),  # "baseball player" is not a ball
        ("an orange cat on a chair", {"cat", "chair"}),  # the colour is not the fruit
        ("Sliced oranges in a bowl", {"orange", "bowl"}),
    ],
)
def test_coco_cases(coco, text, expected):
    assert set(coco.names_of(text)) == expected


def test_voc_false_friends(voc):
    assert voc.names_of("a hot dog with mustard") == []
    assert voc.names_of("a dog sniffs a hot dog") == ["dog"]  # the real dog still counts
    assert voc.names_of("bird's eye view of a car park") == ["car"]
    assert voc.names_of("An aeroplane and an airplane") == ["aeroplane"]
    assert voc.names_of("a potted plant near a television set") == ["pottedplant", "tvmonitor"]


def test_not_this_is_per_label():
    ls = LabelSet.from_dict({"labels": [
        {"name": "dog", "not_this": ["hot dog"]},
        {"name": "hot", "synonyms": ["heat"]},
    ]})
    nf = NounFilter(ls)
    assert nf.names_of("a hot dog") == ["hot"]  # the block only removes "dog"


def test_ancestors_are_switched_on():
    ls = LabelSet.from_dict({"labels": [{"name": "animal"}, {"name": "dog", "parent": "animal"}, "cat"]})
    assert NounFilter(ls).names_of("a puppy? no, a dog") == ["animal", "dog"]
    assert NounFilter(ls, include_ancestors=False).names_of("a dog") == ["dog"]


def test_max_words_and_multi_hot(coco):
    assert coco.labels_of("a dog " + "word " * 80 + "cat", max_words=77) == [coco.labelset.index("dog")]
    y = coco.multi_hot(["a dog", "nothing here", "a cat and a dog"])
    assert y.dtype == np.uint8 and y.shape == (3, 80)
    assert y.sum(axis=1).tolist() == [1, 0, 2]


def test_many_captions_in_one_call(coco):
    # Speed is measured side by side in bench/, never asserted here (a loaded 2-core machine would flake).
    texts = [f"A man riding a bike past {i} parked cars and a red bus near the hot dog stand." for i in range(3000)]
    y = coco.multi_hot(texts)
    assert y.shape == (3000, 80)
    for label in ("car", "bus", "bicycle", "person", "hot dog"):
        assert y[:, coco.labelset.index(label)].all(), label
    assert (y.sum(axis=1) == y[0].sum()).all()
