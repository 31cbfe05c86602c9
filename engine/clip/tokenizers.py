"""Tokenizer lookup by name: open_clip's own per model, or a registered custom one (the demo world's)."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import torch

from engine.errors import ConfigError


class Tokenizer(Protocol):
    """Texts -> (B, context_length) ids; EOT must be the largest id of each row, padding is 0."""

    def __call__(self, texts: list[str]) -> torch.Tensor: ...


# name -> "module:attribute" of a class taking `context_length=`; imported only when used.
REGISTRY: dict[str, str] = {
    "demo-words": "engine.demo.tokenizer:DemoTokenizer",
}


def get_tokenizer(name: str | None, model_name: str, context_length: int) -> Tokenizer:
    if name in (None, "", "open_clip"):
        import open_clip

        tok: Any = open_clip.get_tokenizer(model_name, context_length=context_length)
        return tok  # type: ignore[no-any-return]
    target = REGISTRY.get(name) if name in REGISTRY else name if ":" in name else None
    if target is None:
        raise ConfigError("tokenizer", f"unknown tokenizer {name!r}; known: open_clip, {', '.join(REGISTRY)}")
    module_name, _, attr = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError("tokenizer", f"cannot import {target!r}: {exc}") from exc
    return factory(context_length=context_length)  # type: ignore[no-any-return]
