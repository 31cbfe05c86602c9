"""The demo synthesis backend: draws what the caption names, nothing else, deterministically."""

from __future__ import annotations

import numpy as np

from engine.demo import world
from engine.demo.renderer import DemoRenderer, parse_caption, render_caption
from engine.synthesis.backend import RenderRequest, SynthesisBackend, create_backend


def test_parse_caption_objects_attributes_counts_background() -> None:
    p = parse_caption("a photo of a big red ball, two hexes and a moon on a black background with some scribbles.")
    assert p.objects == ((0, "red", "big"), (9, None, None), (9, None, None), (8, None, None))
    assert p.background == "black"
    assert parse_caption("a table near a wall.").objects == ()


def test_render_shows_only_the_named_objects() -> None:
    img = np.asarray(render_caption("a blue star on a white background.", seed=3), np.float32)
    blue = np.asarray(world.COLOURS["blue"], np.float32)
    white = np.asarray(world.BACKGROUNDS["white"], np.float32)
    is_blue = np.abs(img - blue).sum(-1) < 10
    is_white = np.abs(img - white).sum(-1) < 10
    assert is_blue.sum() > 100  # the star
    assert (is_blue | is_white).mean() > 0.95  # flat style, nothing else drawn (edges are anti-aliased)


def test_backend_interface_determinism_and_registry() -> None:
    backend = create_backend("demo")
    assert isinstance(backend, SynthesisBackend) and isinstance(backend, DemoRenderer)
    reqs = [RenderRequest("a heart and a cross.", 0, seed=11), RenderRequest("a ring.", 0, seed=12)]
    a = backend.render(reqs)
    b = backend.render(reqs[1:])
    assert np.array_equal(np.asarray(a[1]), np.asarray(b[0]))  # independent of batching
    assert a[0].size == (world.IMAGE_SIZE, world.IMAGE_SIZE) and a[0].mode == "RGB"
    c = backend.render([RenderRequest("a heart and a cross.", 0, seed=99)])
    assert not np.array_equal(np.asarray(a[0]), np.asarray(c[0]))
    assert DemoRenderer(size=64).params_key() != backend.params_key()
