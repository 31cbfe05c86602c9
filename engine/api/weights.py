"""Model weights for both front ends: what the Hugging Face cache holds, and fetching CLIP or text-to-image models."""

from __future__ import annotations

from typing import Any

from engine.demo.pretrain import MODEL_NAME as DEMO_CLIP
from engine.weights import (
    DEFAULT_SD,
    KINDS,
    NEVER_DOWNLOAD,
    CachedModel,
    FetchResult,
    fetch_clip,
    fetch_sd,
    list_cached_models,
)


def demo_labels_only(names: list[str] | tuple[str, ...]) -> bool:
    """Whether every label is one the demo world draws and its CLIP spells (then the demo models are offered)."""
    from engine.demo.renderer import undrawable

    return bool(names) and not undrawable(list(names))


def demo_clip_config() -> Any:
    """The BackboneConfig of the shipped demo CLIP (its own word tokenizer); for the demo world's labels only."""
    from engine.demo.pipeline import demo_backbone_cfg

    return demo_backbone_cfg()[0]


__all__ = [
    "DEMO_CLIP",
    "demo_clip_config",
    "demo_labels_only",
    "DEFAULT_SD",
    "KINDS",
    "NEVER_DOWNLOAD",
    "CachedModel",
    "FetchResult",
    "fetch_clip",
    "fetch_sd",
    "list_cached_models",
]
