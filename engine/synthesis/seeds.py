"""Deterministic keys and seeds: every synthetic image is re-makeable from (caption, index, run seed)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

SEED_BITS = 63  # torch.Generator.manual_seed accepts any non-negative int below 2**64


def caption_key(text: str) -> str:
    """Stable 32-hex key of a caption's text (whitespace-normalised, case kept)."""
    norm = " ".join(text.split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:32]


def image_seed(key: str, index: int, run_seed: int) -> int:
    """Seed of image `index` of the caption with `key` in a run seeded `run_seed`."""
    digest = hashlib.sha256(f"{key}|{int(index)}|{int(run_seed)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << SEED_BITS) - 1)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def params_hash(params: dict[str, Any]) -> str:
    """24-hex hash of a backend's `params_key()`; a changed parameter gives a new hash (and folder)."""
    return hashlib.sha256(canonical_json(params).encode("utf-8")).hexdigest()[:24]
