"""A word-level tokenizer's labels are checked before training: plain words, never an IndexError."""

from __future__ import annotations

import pytest

import engine.demo  # noqa: F401 - registers the demo tokenizer
from engine.clip.config import BackboneConfig
from engine.clip.vocabulary import VocabularyError, check_config_vocabulary, check_vocabulary, unspellable
from engine.errors import InputError


def _demo_tokenizer():
    from engine.demo.tokenizer import DemoTokenizer

    return DemoTokenizer()


def test_the_demo_tokenizer_cannot_spell_everyday_words():
    assert unspellable(_demo_tokenizer(), ["circle", "cat", "red star", "dog", "car"]) == ["cat", "dog", "car"]


def test_check_names_the_labels_and_what_to_fetch():
    with pytest.raises(VocabularyError) as exc:
        check_vocabulary(_demo_tokenizer(), ["cat", "dog", "circle"])
    text = str(exc.value)
    assert "cat, dog" in text and "circle" not in text.split("labels:")[1].split(".")[0]
    assert "t2ipal fetch clip" in text and "Manage Models" in text
    assert isinstance(exc.value, InputError)


def test_demo_labels_pass():
    check_vocabulary(_demo_tokenizer(), ["circle", "star", "heart"])


def test_bpe_tokenizers_spell_anything_without_loading_weights():
    check_config_vocabulary(BackboneConfig(), ["cat", "zyxwv"])  # open_clip's BPE: nothing to check


def test_config_with_the_demo_tokenizer_is_checked():
    cfg = BackboneConfig(model_name="demo-clip", pretrained=None, tokenizer="demo-words")
    with pytest.raises(VocabularyError, match="cat, dog, car"):
        check_config_vocabulary(cfg, ["cat", "dog", "car"])
