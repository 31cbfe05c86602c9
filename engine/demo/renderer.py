"""The demo world's text-to-image backend: parses a caption and draws exactly what it names, in the clean style."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.config import require_int, require_range
from engine.demo import world
from engine.errors import InputError
from engine.progress import check_cancel
from engine.synthesis.backend import RenderRequest

if TYPE_CHECKING:
    from PIL import Image

    from engine.progress import CancelToken

RENDERER_VERSION = 1
MAX_OBJECTS = 6
_COUNTS = {"one": 1, "two": 2, "three": 3}
_SIZE_OF = {w: size for size, words in world.SIZE_WORDS.items() for w in words} | {"medium": "medium"}


@dataclass(frozen=True)
class ParsedCaption:
    """What a caption asks for: (class, colour or None, size or None) per object, and a background or None."""

    objects: tuple[tuple[int, str | None, str | None], ...]
    background: str | None


def parse_caption(text: str) -> ParsedCaption:
    """Read objects with their colour/size adjectives and counts, and an "... X background" colour."""
    words = world.words_of(text)
    objects: list[tuple[int, str | None, str | None]] = []
    background: str | None = None
    colour: str | None = None
    size: str | None = None
    count = 1
    for k, word in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) else ""
        if nxt == "background" and (word in world.BACKGROUNDS or word in world.COLOURS):
            background = word
            colour = size = None
            continue
        if word in world.COLOURS:
            colour = word
        elif word in _SIZE_OF:
            size = _SIZE_OF[word]
        elif word in _COUNTS:
            count = _COUNTS[word]
        else:
            classes = world.caption_classes(word)
            if classes:
                plural = word not in world._NOUNS  # noqa: SLF001 - same module family
                for _ in range(count if plural or count == 1 else 1):
                    objects.append((classes[0], colour, size))
                colour = size = None
                count = 1
            elif word in (".", ",", "and", "with", "next", "near"):
                colour = size = None
                count = 1
    return ParsedCaption(tuple(objects[:MAX_OBJECTS]), background)


def render_caption(text: str, seed: int, *, size: int = world.IMAGE_SIZE, style: float = world.STYLE_SYNTHETIC,
                   ) -> Image.Image:
    """One image of `text`: every named object (unspecified colour/size/position drawn from `seed`), nothing else."""
    parsed = parse_caption(text)
    rng = np.random.default_rng(int(seed))
    background = parsed.background or list(world.BACKGROUNDS)[int(rng.integers(len(world.BACKGROUNDS)))]
    objects = world.place_objects(rng, parsed.objects, size=size)
    scene = world.Scene(objects, background, float(style))
    return world.render_scene(scene, rng, size=size, clutter=False)


def undrawable(names: Sequence[str]) -> list[str]:
    """The names the demo world cannot draw (it draws only its own shapes)."""
    return [n for n in names if not world.caption_classes(n)]


def refuse_undrawable(requests: Sequence[RenderRequest]) -> None:
    """Raise InputError before drawing anything when a request names labels, or a caption no shape, it cannot draw."""
    labels = sorted({label for req in requests for label in req.labels})
    missing = undrawable(labels)
    empty = [req.caption for req in requests if not parse_caption(req.caption).objects]
    if missing or empty:
        what = f"the labels {', '.join(missing)}" if missing else f"“{empty[0]}”"
        raise InputError(
            f"the demo renderer cannot draw {what}: it draws only the demo world's shapes "
            f"({', '.join(world.CLASS_NAMES)}). Choose the diffusers backend with a text-to-image model "
            "(fetch one in Preferences → Manage Models…, or `t2ipal fetch sd` on a connected machine)."
        )


class DemoRenderer:
    """`SynthesisBackend` "demo": the demo world's clean synthetic style, rendered from the caption alone."""

    name = "demo"

    def __init__(self, size: int = world.IMAGE_SIZE, style: float = world.STYLE_SYNTHETIC) -> None:
        require_int("size", size, minimum=32)
        require_range("style", style, 0.0, 1.0)
        self.size = int(size)
        self.style = float(style)

    @classmethod
    def from_options(cls, **options: Any) -> DemoRenderer:
        return cls(**options)

    def params_key(self) -> dict[str, Any]:
        from engine.demo.pretrain import world_fingerprint

        return {
            "model": "demo-world-renderer",
            "version": RENDERER_VERSION,
            "world": world_fingerprint(),
            "size": self.size,
            "style": self.style,
        }

    def estimate_seconds_per_image(self) -> float:
        return 0.002

    def render(self, requests: Sequence[RenderRequest], *, cancel: CancelToken | None = None) -> list[Image.Image]:
        refuse_undrawable(requests)
        out = []
        for req in requests:
            check_cancel(cancel)
            out.append(render_caption(req.caption, req.seed, size=self.size, style=self.style))
        return out

