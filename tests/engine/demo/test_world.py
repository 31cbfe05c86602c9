"""The demo world: determinism, label/caption consistency, styles, splits."""

from __future__ import annotations

import numpy as np

from engine.demo import world


def test_sample_is_deterministic_and_split_streams_differ() -> None:
    a = world.sample("val", 3, seed=1)
    b = world.sample("val", 3, seed=1)
    assert a.caption == b.caption
    assert np.array_equal(np.asarray(a.image), np.asarray(b.image))
    c = world.sample("test", 3, seed=1)
    assert not np.array_equal(np.asarray(a.image), np.asarray(c.image))


def test_render_split_matches_single_samples_and_batching() -> None:
    images, labels, captions = world.render_split("test", 6, start=2)
    one = world.sample("test", 4)
    assert np.array_equal(images[2], np.asarray(one.image))
    assert captions[2] == one.caption
    assert np.array_equal(labels[2], one.labels)
    assert images.shape == (6, world.IMAGE_SIZE, world.IMAGE_SIZE, 3) and images.dtype == np.uint8


def _scenes_and_captions(split: str, n: int) -> tuple[np.ndarray, list[str]]:
    labels, captions = [], []
    for i in range(n):  # the same stream as render_split, without drawing pixels
        rng = world.split_rng(split, i)
        scene = world.sample_scene(rng, world.STYLE_PHOTO)
        labels.append(scene.labels)
        captions.append(world.make_caption(scene, rng))
    return np.stack(labels), captions


def test_captions_name_exactly_the_labels_and_scenes_are_multilabel() -> None:
    labels, captions = _scenes_and_captions("val", 400)
    assert captions[5] == world.sample("val", 5).caption
    counts = labels.sum(1)
    assert counts.min() >= 1 and counts.max() <= 3
    assert 0.15 < labels.mean() < 0.25  # base rate about 0.2
    for y, text in zip(labels, captions, strict=True):
        assert np.array_equal(world.caption_labels(text), y), text
    # synonyms, attributes and distractors do occur
    joined = " ".join(captions)
    assert any(s in joined.split() for _, syns in world.CLASSES for s in syns)
    assert any(c in joined.split() for c in world.COLOURS)
    assert any(d in joined for d in world.DISTRACTORS)


def test_every_caption_word_is_in_the_vocabulary() -> None:
    vocab = set(world.vocabulary())
    _, captions = _scenes_and_captions("pretrain", 400)
    words = {w for text in captions for w in world.words_of(text)}
    assert words <= vocab


def test_photo_and_synthetic_styles_differ() -> None:
    rng = np.random.default_rng(0)
    scene = world.sample_scene(rng, world.STYLE_PHOTO)
    photo = np.asarray(world.render_scene(scene, np.random.default_rng(1)), np.float32)
    clean_scene = world.Scene(scene.objects, scene.background, world.STYLE_SYNTHETIC)
    clean = np.asarray(world.render_scene(clean_scene, np.random.default_rng(1)), np.float32)
    # the clean style is flat: few distinct colours; the photo style is noisy
    assert len(np.unique(clean.reshape(-1, 3), axis=0)) < 2000
    assert len(np.unique(photo.astype(np.uint8).reshape(-1, 3), axis=0)) > 5000
    # an object is still where the scene says it is, in both styles
    obj = scene.objects[0]
    mask = world.shape_mask(obj) > 0.9
    bg = np.asarray(world.BACKGROUNDS[scene.background], np.float32)
    assert np.abs(clean[mask].mean(0) - bg).sum() > 30


def test_labelset_dict_lists_classes_and_synonyms() -> None:
    d = world.demo_labelset_dict()
    assert [x["name"] for x in d["labels"]] == list(world.CLASS_NAMES)
    assert len(d["labels"]) >= 10
    try:
        from engine.labels.labelset import LabelSet
    except ImportError:  # pragma: no cover - the label module lands separately
        return
    ls = LabelSet.from_dict(d)
    assert [lab.name for lab in ls.labels] == list(world.CLASS_NAMES)
