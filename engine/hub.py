"""Hugging Face hub settings the engine reads: where the cache is and whether downloads are off."""

from __future__ import annotations

import os

_TRUE = ("1", "true", "yes", "on")


def offline(value: str | None = None) -> bool:
    """Whether `value` (default: the HF_HUB_OFFLINE environment variable) turns downloads off."""
    value = os.environ.get("HF_HUB_OFFLINE", "") if value is None else value
    return value.strip().lower() in _TRUE


def cache_dir(explicit: str | None = None) -> str:
    """`explicit`, else the hub cache huggingface_hub resolved from HF_HUB_CACHE / HF_HOME / XDG_CACHE_HOME."""
    if explicit:
        return explicit
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)
