"""Deterministic keys and seeds: every synthetic image is re-makeable from (caption, index, run seed)."""

from __future__ import annotations

import json
from typing import Any

from engine.hashing import sha256_hex, sha256_int

SEED_BITS = 63  # torch.Generator.manual_seed accepts any non-negative int below 2**64


def image_seed(key: str, index: int, run_seed: int) -> int:
    """Seed of image `index` of the caption with `key` in a run seeded `run_seed`."""
    return sha256_int(f"{key}|{int(index)}|{int(run_seed)}", SEED_BITS)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def params_hash(params: dict[str, Any]) -> str:
    """24-hex hash of a backend's `params_key()`; a changed parameter gives a new hash (and folder)."""
    return sha256_hex(canonical_json(params), 24)
