"""Model weights for both front ends: what the Hugging Face cache holds, and fetching CLIP or text-to-image models."""

from __future__ import annotations

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

__all__ = [
    "DEFAULT_SD",
    "KINDS",
    "NEVER_DOWNLOAD",
    "CachedModel",
    "FetchResult",
    "fetch_clip",
    "fetch_sd",
    "list_cached_models",
]
