"""Tokenizer lookup by name: open_clip's own per model, or a registered custom one (the demo world's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from engine.errors import ConfigError

if TYPE_CHECKING:
    import torch


class Tokenizer(Protocol):
    """Texts -> (B, context_length) ids; EOT must be the largest id of each row, padding is 0."""

    def __call__(self, texts: list[str]) -> torch.Tensor: ...


TokenizerFactory = Callable[[int], Tokenizer]  # context_length -> tokenizer

# name -> factory; higher layers add theirs with `register_tokenizer` (the demo world registers "demo-words")
REGISTRY: dict[str, TokenizerFactory] = {}


def register_tokenizer(name: str, factory: TokenizerFactory) -> None:
    """Make `get_tokenizer(name, ...)` call `factory(context_length)`; a later call replaces it."""
    REGISTRY[name] = factory


def get_tokenizer(name: str | None, model_name: str, context_length: int) -> Tokenizer:
    if name in (None, "", "open_clip"):
        import open_clip

        tok: Any = open_clip.get_tokenizer(model_name, context_length=context_length)
        return tok  # type: ignore[no-any-return]
    factory = REGISTRY.get(name)
    if factory is None:
        hint = " (import engine.demo to register the demo tokenizer)" if name.startswith("demo") else ""
        raise ConfigError("tokenizer", f"unknown tokenizer {name!r}; known: open_clip, {', '.join(REGISTRY)}{hint}")
    return factory(context_length)
