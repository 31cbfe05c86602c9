"""The offline demo world; importing it registers its renderer ("demo") and tokenizer ("demo-words")."""

from __future__ import annotations

from typing import Any

from engine.clip.tokenizers import Tokenizer, register_tokenizer
from engine.synthesis.backend import SynthesisBackend, register_backend


def demo_renderer(**options: Any) -> SynthesisBackend:
    """The demo world's procedural renderer (numpy only)."""
    from engine.demo.renderer import DemoRenderer

    return DemoRenderer.from_options(**options)


def demo_tokenizer(context_length: int) -> Tokenizer:
    """The demo CLIP's word-level tokenizer."""
    from engine.demo.tokenizer import DemoTokenizer

    return DemoTokenizer(context_length=context_length)


register_backend("demo", demo_renderer)
register_tokenizer("demo-words", demo_tokenizer)
