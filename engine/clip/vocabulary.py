"""Can a backbone's tokenizer spell every label? A word-level tokenizer (the demo CLIP's) knows only its words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.clip.config import BackboneConfig
from engine.errors import InputError

CHECK_CONTEXT_LENGTH = 77  # any length that holds a label name; only unknown-word ids are looked at


class VocabularyError(InputError):
    """Labels the backbone cannot spell; fixed by a CLIP that can (fetch one) or by words it knows."""

    needs_model = True  # front ends offer their model manager next to the message


def unspellable(tokenizer: Any, names: Sequence[str]) -> list[str]:
    """The names `tokenizer` maps (in part) to its unknown-word id; [] for tokenizers without one (BPE spells all)."""
    unk = getattr(tokenizer, "unk_token_id", None)
    encode = getattr(tokenizer, "encode", None)
    if unk is None or encode is None:
        return []
    return [name for name in names if not encode(name) or unk in encode(name)]


def check_vocabulary(backbone: Any, names: Sequence[str]) -> None:
    """Raise VocabularyError naming the labels `backbone` (or its tokenizer) cannot spell, and what to do."""
    tokenizer = getattr(backbone, "tokenizer", backbone)
    missing = unspellable(tokenizer, names)
    if missing:
        raise VocabularyError(
            f"the CLIP model cannot spell {len(missing)} of your labels: {', '.join(missing)}. It is the demo "
            "world's small CLIP, which knows only the demo world's words (shapes and colours). Fetch a real CLIP "
            "(Preferences → Manage Models…, or `t2ipal fetch clip RN50 openai` on a connected machine) and "
            "choose it for training, or use the demo world's labels."
        )


def check_config_vocabulary(cfg: BackboneConfig, names: Sequence[str]) -> None:
    """`check_vocabulary` before any weights load: only registered word-level tokenizers can fail it."""
    if cfg.tokenizer in (None, "", "open_clip"):
        return
    from engine.clip.tokenizers import get_tokenizer

    check_vocabulary(get_tokenizer(cfg.tokenizer, cfg.model_name, CHECK_CONTEXT_LENGTH), names)
