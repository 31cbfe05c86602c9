"""Synthetic images from captions: backend interface, diffusers renderer, cache + manifest, runner, filter."""

from __future__ import annotations

from engine.hashing import caption_key
from engine.synthesis.backend import (
    RenderRequest,
    SynthesisBackend,
    available_backends,
    create_backend,
    register_backend,
)
from engine.synthesis.cache import ImageRecord, Manifest, ManifestReport
from engine.synthesis.items import CaptionItem, as_caption_items
from engine.synthesis.runner import SynthesisConfig, SynthesisResult, synthesize
from engine.synthesis.seeds import image_seed, params_hash

__all__ = [
    "CaptionItem",
    "ImageRecord",
    "Manifest",
    "ManifestReport",
    "RenderRequest",
    "SynthesisBackend",
    "SynthesisConfig",
    "SynthesisResult",
    "as_caption_items",
    "available_backends",
    "caption_key",
    "create_backend",
    "image_seed",
    "params_hash",
    "register_backend",
    "synthesize",
]
