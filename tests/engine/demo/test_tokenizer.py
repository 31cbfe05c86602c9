"""The demo CLIP's word tokenizer: ids, SOT/EOT, padding, truncation, unknown words."""

from __future__ import annotations

import torch

from engine.demo.tokenizer import DemoTokenizer


def test_layout_sot_words_eot_padding() -> None:
    tok = DemoTokenizer(context_length=12)
    ids = tok(["a red circle.", "a box"])
    assert ids.dtype == torch.long and ids.shape == (2, 12)
    assert ids[0, 0] == tok.sot_token_id
    assert ids[0, 5] == tok.eot_token_id and (ids[0, 6:] == 0).all()
    assert tok.decode(ids[0]) == "a red circle ."
    assert (ids.argmax(-1) == torch.tensor([5, 3])).all()  # EOT is the largest id: CLIP pools there
    assert tok.eot_token_id == tok.vocab_size - 1 and tok.sot_token_id < tok.eot_token_id


def test_unknown_words_and_truncation() -> None:
    tok = DemoTokenizer(context_length=6)
    ids = tok(["a zebra circle and a very long tail of words"])
    assert ids[0, 2] == tok.unk_token_id
    assert ids[0, -1] == tok.eot_token_id and int(ids.argmax()) == 5


def test_registered_in_the_engine_tokenizer_registry() -> None:
    from engine.clip.tokenizers import get_tokenizer

    tok = get_tokenizer("demo-words", "demo-clip", 32)
    assert isinstance(tok, DemoTokenizer) and tok.context_length == 32


def test_vocab_size_matches_model_config() -> None:
    import json
    from pathlib import Path

    import engine

    cfg = json.loads((Path(engine.__file__).parent / "model_configs" / "demo-clip.json").read_text())
    assert cfg["text_cfg"]["vocab_size"] == DemoTokenizer().vocab_size
    assert cfg["text_cfg"]["context_length"] == DemoTokenizer().context_length
