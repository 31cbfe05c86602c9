"""Image loading and CLIP preprocessing in numpy/PIL, identical for training, torch and ONNX paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, ImageOps

from engine.config import ConfigBase, require_choice, require_int
from engine.errors import ConfigError

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
_INTERP = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


@dataclass(frozen=True)
class PreprocessSpec(ConfigBase):
    """How an image becomes a (3, size, size) float tensor: resize, crop, normalise."""

    size: int = 224
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD
    resize_mode: str = "shortest"  # "shortest": shorter side to size, centre crop; "squash": stretch
    interpolation: str = "bicubic"

    def __post_init__(self) -> None:
        require_int("size", self.size, minimum=8)
        require_choice("resize_mode", self.resize_mode, ("shortest", "squash"))
        require_choice("interpolation", self.interpolation, tuple(_INTERP))
        for name in ("mean", "std"):
            value = getattr(self, name)
            if len(value) != 3:
                raise ConfigError(name, f"needs 3 values (RGB), got {len(value)}")
        if any(s <= 0 for s in self.std):
            raise ConfigError("std", "every value must be > 0")


def open_rgb(path: str | Path | IO[bytes], *, draft_size: int | None = None) -> Image.Image:
    """Open an image file as RGB with its EXIF orientation applied (first frame of animations).

    `draft_size` lets the JPEG decoder downscale by 1/2..1/8 while decoding (never below the size).
    """
    with Image.open(path) as img:
        if draft_size is not None and img.format == "JPEG":
            img.draft("RGB", (draft_size, draft_size))
        img.seek(0)
        img.load()
        return to_rgb(img)


def to_rgb(img: Image.Image) -> Image.Image:
    """EXIF-transpose and convert any mode (P, LA, CMYK, I;16, ...) to 8-bit RGB."""
    img = ImageOps.exif_transpose(img) or img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = max(float(arr.max()), 1.0)
        img = Image.fromarray((arr * (255.0 / (65535.0 if top > 255 else 255.0))).clip(0, 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB") if img.mode != "RGB" else img


def resize_and_crop(img: Image.Image, spec: PreprocessSpec) -> Image.Image:
    size, interp = spec.size, _INTERP[spec.interpolation]
    if spec.resize_mode == "squash":
        return img.resize((size, size), interp)
    w, h = img.size
    scale = size / min(w, h)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), interp)
    left = int(round((new_w - size) / 2.0))
    top = int(round((new_h - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def preprocess(img: Image.Image, spec: PreprocessSpec) -> np.ndarray:
    """RGB PIL image -> normalised float32 array (3, size, size)."""
    pixels = np.asarray(resize_and_crop(to_rgb(img), spec), dtype=np.float32) / np.float32(255.0)
    mean, std = np.asarray(spec.mean, np.float32), np.asarray(spec.std, np.float32)
    normalised: np.ndarray = (pixels - mean) / std
    return np.ascontiguousarray(normalised.transpose(2, 0, 1))


def preprocess_batch(images: list[Any], spec: PreprocessSpec) -> np.ndarray:
    """PIL images or paths -> (B, 3, size, size) float32."""
    out = np.empty((len(images), 3, spec.size, spec.size), np.float32)
    for i, item in enumerate(images):
        img = item if isinstance(item, Image.Image) else open_rgb(item)
        out[i] = preprocess(img, spec)
    return out
