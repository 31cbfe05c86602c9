"""The demo renderer refuses what it cannot draw instead of rendering plain backgrounds."""

from __future__ import annotations

import pytest

from engine.demo.renderer import DemoRenderer
from engine.errors import InputError
from engine.synthesis.backend import RenderRequest


def test_unknown_labels_are_refused_before_drawing():
    renderer = DemoRenderer(size=32)
    with pytest.raises(InputError) as exc:
        renderer.render([RenderRequest("a cat next to a red circle", 0, 1, labels=("cat", "circle"))])
    assert "cannot draw the labels cat" in str(exc.value) and "diffusers" in str(exc.value)


def test_a_caption_naming_no_shape_is_refused():
    with pytest.raises(InputError, match="“a dog on a sofa”"):
        DemoRenderer(size=32).render([RenderRequest("a dog on a sofa", 0, 1)])


def test_demo_captions_still_render():
    images = DemoRenderer(size=32).render([RenderRequest("a red circle and a star", 0, 1, labels=("circle", "star"))])
    assert len(images) == 1 and images[0].size == (32, 32)
