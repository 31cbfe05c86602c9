"""The optional LLM caption generator, run offline on a tiny random GPT-2 the test builds itself."""

from __future__ import annotations

import pytest

from engine.errors import ModelNotFound
from engine.labels.labelset import LabelSet


def _tiny_lm(folder):
    import engine

    engine.torch_ready()
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = "a the of and photo dog cat bicycle caption write one short natural . , : running beach street".split()
    vocab = {"<unk>": 0, "<eos>": 1, **{w: i + 2 for i, w in enumerate(dict.fromkeys(words))}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>", pad_token="<eos>")
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=len(vocab), n_positions=128, n_embd=16, n_layer=1, n_head=2, bos_token_id=1,
                     eos_token_id=1)
    GPT2LMHeadModel(cfg).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_generate_with_tiny_model(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from engine.captions.generate_llm import generate_with_model

    model = _tiny_lm(tmp_path / "lm")
    ls = LabelSet.from_names(["dog", "cat", "bicycle"])
    caps = generate_with_model(ls, model, 3, seed=0, max_new_tokens=6)
    counts = {n: sum(n in c.labels for c in caps) for n in ls.names}
    assert all(v >= 3 for v in counts.values()), counts
    assert all(c.endswith(".") and len(c.split()) >= 3 for c in caps)
    again = generate_with_model(ls, model, 3, seed=0, max_new_tokens=6)
    assert [str(c) for c in again] == [str(c) for c in caps]


def test_missing_model_folder(tmp_path):
    from engine.captions.generate_llm import generate_with_model

    with pytest.raises(ModelNotFound, match="config.json"):
        generate_with_model(LabelSet.from_names(["dog"]), tmp_path, 1)
