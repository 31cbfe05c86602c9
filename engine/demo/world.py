"""The demo world: seeded multi-label shape scenes, captions, and a "photo"/"synthetic" style renderer."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

IMAGE_SIZE = 128
_SS = 2  # supersampling factor for anti-aliased shape masks

# Class name first, then its synonyms (single nouns whose plural is the noun + "s"/"es").
CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("circle", ("ball", "disc", "dot")),
    ("square", ("box", "block", "tile")),
    ("triangle", ("wedge",)),
    ("star", ("sparkle",)),
    ("cross", ("plus",)),
    ("heart", ("valentine",)),
    ("ring", ("donut", "hoop")),
    ("arrow", ("pointer",)),
    ("crescent", ("moon",)),
    ("hexagon", ("hex",)),
)
CLASS_NAMES: tuple[str, ...] = tuple(name for name, _ in CLASSES)
NUM_CLASSES = len(CLASSES)

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 215),
    "yellow": (240, 210, 40),
    "orange": (245, 135, 30),
    "purple": (135, 55, 180),
    "pink": (240, 120, 180),
    "brown": (125, 80, 40),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (238, 238, 238),
    "grey": (140, 140, 140),
    "black": (30, 30, 30),
    "beige": (225, 210, 175),
}
# size word -> radius range in pixels at IMAGE_SIZE; captions may use the listed synonyms.
SIZES: dict[str, tuple[float, float]] = {"small": (12.0, 16.0), "medium": (17.0, 22.0), "big": (23.0, 28.0)}
SIZE_WORDS: dict[str, tuple[str, ...]] = {"small": ("small", "tiny", "little"), "big": ("big", "large", "huge")}

PREFIXES = (
    "a photo of {}",
    "a picture of {}",
    "{}",
    "there is {}",
    "an image showing {}",
    "a snapshot of {}",
    "a close-up of {}",
)
CONNECT_TWO = ("{} and {}", "{} next to {}", "{} with {}", "{} near {}")
DISTRACTORS = (
    "with some scribbles",
    "on a table",
    "next to a window",
    "in the morning light",
    "with a few lines",
    "on the floor",
    "near a wall",
    "seen from above",
    "on paper",
)
# Extra words the engine's prompts use (CoOp placeholder "x", prompt templates, counts).
EXTRA_WORDS = "x photo of a an the this is there one two three itap drawing shape shapes object objects".split()

STYLE_PHOTO = 0.5  # the test set's style
STYLE_SYNTHETIC = 0.0  # the renderer's (text-to-image stand-in) style

# Disjoint seed streams per split; the test set never shares a stream with anything used for fitting.
SPLITS: dict[str, int] = {
    "pretrain": 11,  # CLIP pretraining corpus
    "val": 12,  # held-out photo-style split for choosing world parameters and hyperparameters
    "probe": 13,  # labelled photo-style images for the linear probe / upper bound
    "test": 14,  # photo-style test set (reported only)
    "captions": 15,  # caption sets for the demo run
    "samples": 16,  # `t2ipal demo world` samples
}


@dataclass(frozen=True)
class SceneObject:
    cls: int
    colour: str
    size: str
    cx: float
    cy: float
    radius: float
    rotation: float  # radians


@dataclass(frozen=True)
class Scene:
    objects: tuple[SceneObject, ...]
    background: str
    style: float
    seed: int = 0

    @property
    def labels(self) -> np.ndarray:
        y = np.zeros(NUM_CLASSES, np.float32)
        for obj in self.objects:
            y[obj.cls] = 1.0
        return y

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(CLASS_NAMES[i] for i in sorted({o.cls for o in self.objects}))


@dataclass(frozen=True)
class CaptionParams:
    """How often a caption mentions attributes, synonyms and distractor phrases (DEMO_WORLD.md: p ≈ 0.3)."""

    p_colour: float = 0.3
    p_size: float = 0.3
    p_background: float = 0.3
    p_synonym: float = 0.4
    p_distractor: float = 0.3


def split_rng(split: str, index: int, seed: int = 0) -> np.random.Generator:
    """The generator of item `index` of `split` for world seed `seed` (independent of batching)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    return np.random.default_rng([SPLITS[split], int(seed), int(index)])


# ---- scenes ------------------------------------------------------------------------------------------------
def place_objects(
    rng: np.random.Generator,
    specs: Sequence[tuple[int, str | None, str | None]],
    *,
    size: int = IMAGE_SIZE,
) -> tuple[SceneObject, ...]:
    """Place (class, colour or None, size word or None) specs without much overlap; None draws at random."""
    placed: list[SceneObject] = []
    colour_names = list(COLOURS)
    scale = size / IMAGE_SIZE
    for cls, colour, size_word in specs:
        colour = colour or colour_names[int(rng.integers(len(colour_names)))]
        size_word = size_word or ("small", "medium", "big")[int(rng.integers(3))]
        lo, hi = SIZES[size_word]
        radius = float(rng.uniform(lo, hi)) * scale
        best: tuple[float, float, float] | None = None
        for _ in range(30):
            cx = float(rng.uniform(radius + 2, size - radius - 2))
            cy = float(rng.uniform(radius + 2, size - radius - 2))
            # worst overlap with what is already placed, as a fraction of the smaller radius
            overlap = max(
                [(o.radius + radius - math.hypot(o.cx - cx, o.cy - cy)) / min(o.radius, radius) for o in placed]
                or [-1.0]
            )
            if best is None or overlap < best[2]:
                best = (cx, cy, overlap)
            if overlap <= 0.0:
                break
        assert best is not None  # noqa: S101 - the loop runs at least once
        placed.append(SceneObject(cls, colour, size_word, best[0], best[1], radius, float(rng.uniform(0, 2 * math.pi))))
    return tuple(placed)


def sample_scene(rng: np.random.Generator, style: float, *, max_objects: int = 3) -> Scene:
    """1..max_objects distinct classes with random colour, size, position and rotation."""
    n = int(rng.integers(1, max_objects + 1))
    classes = rng.choice(NUM_CLASSES, size=n, replace=False)
    objects = place_objects(rng, [(int(c), None, None) for c in classes])
    background = list(BACKGROUNDS)[int(rng.integers(len(BACKGROUNDS)))]
    return Scene(objects, background, float(style))


# ---- captions ----------------------------------------------------------------------------------------------
def _article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def make_caption(scene: Scene, rng: np.random.Generator, params: CaptionParams | None = None) -> str:
    """A caption naming every object (name or synonym) with some attributes and maybe a distractor phrase."""
    p = params or CaptionParams()
    phrases = []
    order = rng.permutation(len(scene.objects))
    for k in order:
        obj = scene.objects[int(k)]
        name, synonyms = CLASSES[obj.cls]
        noun = synonyms[int(rng.integers(len(synonyms)))] if rng.random() < p.p_synonym else name
        words = []
        if obj.size != "medium" and rng.random() < p.p_size:
            choices = SIZE_WORDS[obj.size]
            words.append(choices[int(rng.integers(len(choices)))])
        if rng.random() < p.p_colour:
            words.append(obj.colour)
        phrases.append(_article(" ".join([*words, noun])))
    if len(phrases) == 1:
        body = phrases[0]
    elif len(phrases) == 2:
        body = CONNECT_TWO[int(rng.integers(len(CONNECT_TWO)))].format(*phrases)
    else:
        body = ", ".join(phrases[:-1]) + " and " + phrases[-1]
    text = PREFIXES[int(rng.integers(len(PREFIXES)))].format(body)
    if rng.random() < p.p_background:
        text += f" on a {scene.background} background"
    if rng.random() < p.p_distractor:
        text += " " + DISTRACTORS[int(rng.integers(len(DISTRACTORS)))]
    return text + "."


def partial_scene(scene: Scene, rng: np.random.Generator, p_partial: float) -> Scene:
    """With probability `p_partial`, the scene with only a random non-empty proper subset of its objects.

    Used for the second pretraining stage's captions: like web alt-text, a caption then names only some of
    the objects in its image, so a one-object sentence also matches a busier image (see docs/demo-world.md).
    """
    if len(scene.objects) < 2 or rng.random() >= p_partial:
        return scene
    k = int(rng.integers(1, len(scene.objects)))
    keep = sorted(int(i) for i in rng.choice(len(scene.objects), k, replace=False))
    return replace(scene, objects=tuple(scene.objects[i] for i in keep))


_WORD = re.compile(r"[a-z]+|[^\sa-z]")


def words_of(text: str) -> list[str]:
    """Lower-case word and punctuation tokens (the demo tokenizer's and caption parser's split)."""
    return _WORD.findall(text.lower())


def _singular(word: str) -> str:
    if word.endswith("es") and word[:-2] in _NOUNS:
        return word[:-2]
    if word.endswith("s") and word[:-1] in _NOUNS:
        return word[:-1]
    return word


_NOUNS: dict[str, int] = {}
for _i, (_name, _syns) in enumerate(CLASSES):
    for _w in (_name, *_syns):
        _NOUNS[_w] = _i


def caption_classes(text: str) -> list[int]:
    """Class indices mentioned in a caption, in order of mention (repeats kept)."""
    return [_NOUNS[w] for w in map(_singular, words_of(text)) if w in _NOUNS]


def caption_labels(text: str) -> np.ndarray:
    y = np.zeros(NUM_CLASSES, np.float32)
    for c in caption_classes(text):
        y[c] = 1.0
    return y


def vocabulary() -> list[str]:
    """Every word and punctuation token the world's captions and the engine's prompts use (sorted)."""
    words: set[str] = set(EXTRA_WORDS) | {".", ","}
    for name, syns in CLASSES:
        for w in (name, *syns):
            words |= {w, w + "s", w + "es"}
    words |= set(COLOURS) | set(BACKGROUNDS) | {w for ws in SIZE_WORDS.values() for w in ws} | {"medium"}
    for text in (*PREFIXES, *CONNECT_TWO, *DISTRACTORS, "on a background"):
        words |= set(words_of(text.replace("{}", " ")))
    return sorted(words)


def demo_labelset_dict() -> dict[str, Any]:
    """The world's classes as a label-set dict (names + synonyms) for `LabelSet.from_dict`."""
    return {
        "name": "demo-shapes",
        "version": 1,
        "description": "The demo world's ten shape classes (see docs/demo-world.md).",
        "labels": [{"name": name, "synonyms": list(syns)} for name, syns in CLASSES],
    }


# ---- rendering ---------------------------------------------------------------------------------------------
def _unit_polygon(cls_name: str) -> list[tuple[float, float]] | None:
    if cls_name == "square":
        return [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]
    if cls_name == "triangle":
        return [(math.cos(a), math.sin(a)) for a in np.radians([-90, 30, 150])]
    if cls_name == "hexagon":
        return [(math.cos(a), math.sin(a)) for a in np.radians(np.arange(0, 360, 60))]
    if cls_name == "star":
        return [
            ((1.0 if k % 2 == 0 else 0.42) * math.cos(a), (1.0 if k % 2 == 0 else 0.42) * math.sin(a))
            for k, a in enumerate(np.radians(np.arange(-90, 270, 36)))
        ]
    if cls_name == "cross":
        a, b = 0.3, 0.95
        return [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a),
                (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a)]
    if cls_name == "arrow":
        return [(-1, -0.22), (0.15, -0.22), (0.15, -0.6), (1, 0), (0.15, 0.6), (0.15, 0.22), (-1, 0.22)]
    if cls_name == "heart":
        t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        return [(float(u) / 16.5, float(v) / 16.5 - 0.1) for u, v in zip(x, y, strict=True)]
    return None


def shape_mask(obj: SceneObject, size: int = IMAGE_SIZE) -> np.ndarray:
    """Anti-aliased float mask (size, size) in [0, 1] of one object."""
    big = size * _SS
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    cx, cy, r = obj.cx * _SS, obj.cy * _SS, obj.radius * _SS
    name = CLASS_NAMES[obj.cls]
    poly = _unit_polygon(name)
    if poly is not None:
        c, s = math.cos(obj.rotation), math.sin(obj.rotation)
        draw.polygon([(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in poly], fill=255)
    elif name == "circle":
        rr = 0.9 * r
        draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=255)
    elif name == "ring":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        ri = 0.6 * r
        draw.ellipse((cx - ri, cy - ri, cx + ri, cy + ri), fill=0)
    elif name == "crescent":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        ox, oy = cx + 0.45 * r * math.cos(obj.rotation), cy + 0.45 * r * math.sin(obj.rotation)
        ri = 0.85 * r
        draw.ellipse((ox - ri, oy - ri, ox + ri, oy + ri), fill=0)
    return np.asarray(mask.reduce(_SS), np.float32) / 255.0


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1], (size, size, 3)."""
    small = rng.uniform(-1, 1, (cells, cells, 3)).astype(np.float32)
    img = Image.fromarray(((small + 1) * 127.5).astype(np.uint8)).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(img, np.float32) / 127.5 - 1.0


_GRIDS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    if size not in _GRIDS:
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        _GRIDS[size] = (yy, xx)
    return _GRIDS[size]


def render_scene(
    scene: Scene, rng: np.random.Generator, *, size: int = IMAGE_SIZE, clutter: bool = True
) -> Image.Image:
    """Draw a scene. style 0: flat clean "synthetic"; style > 0: texture, shading, clutter, occluder, blur, noise."""
    s = float(scene.style)
    bg = np.asarray(BACKGROUNDS.get(scene.background) or COLOURS[scene.background], np.float32)
    yy, xx = _grid(size)
    img = np.empty((size, size, 3), np.float32)
    img[:] = bg + rng.uniform(-35, 35, 3).astype(np.float32) * s
    if s > 0:
        angle = rng.uniform(0, 2 * math.pi)
        ca, sa = math.cos(angle), math.sin(angle)
        ramp = xx * (ca / size) + yy * (sa / size) - 0.5 * (ca + sa)
        img += ramp[..., None] * np.float32(rng.uniform(40, 90) * s)
        img += _smooth_noise(rng, size, int(rng.integers(3, 9))) * np.float32(45 * s)
        if rng.random() < 0.5 * s:  # stripes
            freq = rng.uniform(0.15, 0.5)
            wave = np.sin((xx * math.cos(angle + 1) + yy * math.sin(angle + 1)) * np.float32(freq))
            img += wave[..., None] * np.float32(18 * s)
        texture = _smooth_noise(rng, size, 16) * np.float32(25 * s)
    for obj in scene.objects:
        mask = shape_mask(obj, size)
        y0, y1 = max(0, int(obj.cy - obj.radius) - 2), min(size, int(obj.cy + obj.radius) + 3)
        x0, x1 = max(0, int(obj.cx - obj.radius) - 2), min(size, int(obj.cx + obj.radius) + 3)
        m = mask[y0:y1, x0:x1, None]
        colour = np.asarray(COLOURS[obj.colour], np.float32)
        if s > 0:
            colour = colour + rng.uniform(-45, 45, 3).astype(np.float32) * s
            a = rng.uniform(0, 2 * math.pi)
            shade = ((xx[y0:y1, x0:x1] - obj.cx) * math.cos(a) + (yy[y0:y1, x0:x1] - obj.cy) * math.sin(a)) / max(
                obj.radius, 1.0
            )
            lit = colour[None, None] * (1.0 + np.float32(0.3 * s) * shade[..., None])
            fill: np.ndarray = lit + texture[y0:y1, x0:x1]
        else:
            fill = colour[None, None]
        img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - m) + fill * m
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    if s > 0 and clutter:
        draw = ImageDraw.Draw(pil)
        for _ in range(int(rng.binomial(4, min(1.0, 0.8 * s)))):  # at most 4 clutter strokes
            pts = [tuple(rng.uniform(0, size, 2)) for _ in range(int(rng.integers(2, 4)))]
            col = tuple(int(v) for v in rng.integers(0, 256, 3))
            draw.line(pts, fill=col, width=int(rng.integers(1, 3)))
        if scene.objects and rng.random() < 0.5 * s:  # a thin bar occluding part of one object
            obj = scene.objects[int(rng.integers(len(scene.objects)))]
            ang = rng.uniform(0, 2 * math.pi)
            ox, oy = obj.cx + 0.8 * obj.radius * math.cos(ang), obj.cy + 0.8 * obj.radius * math.sin(ang)
            half = obj.radius * rng.uniform(0.6, 1.0)
            d = rng.uniform(0, math.pi)
            col = tuple(int(v) for v in rng.integers(0, 256, 3))
            dx, dy = half * math.cos(d), half * math.sin(d)
            draw.line(
                [(ox - dx, oy - dy), (ox + dx, oy + dy)],
                fill=col,
                width=max(2, int(obj.radius * rng.uniform(0.25, 0.4))),
            )
    if s > 0:
        pil = pil.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 1.0)) * 1.6 * s))
        arr = np.asarray(pil, np.float32)
        gain = np.float32(1.0 + rng.uniform(-0.25, 0.25) * s)
        arr = (arr - 128) * gain + np.float32(128 + rng.uniform(-25, 25) * s)
        arr += rng.standard_normal(arr.shape, dtype=np.float32) * np.float32(14 * s)
        pil = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    return pil


# ---- splits ------------------------------------------------------------------------------------------------
@dataclass
class WorldSample:
    image: Image.Image
    labels: np.ndarray  # (C,) multi-hot
    caption: str
    scene: Scene


def sample(split: str, index: int, *, seed: int = 0, style: float | None = None,
           caption_params: CaptionParams | None = None) -> WorldSample:
    """Item `index` of `split`. style None: the split's default (photo 0.5; pretrain: mixed, see `corpus_style`)."""
    rng = split_rng(split, index, seed)
    st = corpus_style(rng) if style is None and split == "pretrain" else (STYLE_PHOTO if style is None else style)
    scene = sample_scene(rng, st)
    caption = make_caption(scene, rng, caption_params)
    image = render_scene(scene, rng)
    return WorldSample(image, scene.labels, caption, scene)


def corpus_style(rng: np.random.Generator) -> float:
    """Pretraining style mix: 60% photo style drawn from [0.3, 0.7], 40% clean synthetic style."""
    return float(rng.uniform(0.3, 0.7)) if rng.random() < 0.6 else STYLE_SYNTHETIC


_RangeJob = tuple[str, int, int, int, float | None, CaptionParams | None]


def _render_range(args: _RangeJob) -> tuple[np.ndarray, np.ndarray, list[str]]:
    split, start, stop, seed, style, cparams = args
    n = stop - start
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    labels = np.empty((n, NUM_CLASSES), np.float32)
    captions = []
    for k in range(n):
        item = sample(split, start + k, seed=seed, style=style, caption_params=cparams)
        images[k] = np.asarray(item.image)
        labels[k] = item.labels
        captions.append(item.caption)
    return images, labels, captions


def render_split(
    split: str,
    n: int,
    *,
    seed: int = 0,
    start: int = 0,
    style: float | None = None,
    caption_params: CaptionParams | None = None,
    processes: int = 1,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Items start..start+n of a split as (uint8 images (N, S, S, 3), labels (N, C), captions)."""
    if processes <= 1 or n < 256:
        return _render_range((split, start, start + n, seed, style, caption_params))
    import multiprocessing as mp

    bounds = np.linspace(start, start + n, processes * 4 + 1).astype(int)
    jobs = [(split, int(a), int(b), seed, style, caption_params) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    with mp.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_render_range, jobs)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        [c for p in parts for c in p[2]],
    )
