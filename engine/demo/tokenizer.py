"""Word-level tokenizer of the demo CLIP: the world's vocabulary, padding 0, <unk> 1, SOT/EOT the largest ids."""

from __future__ import annotations

import torch

from engine.demo.world import vocabulary, words_of

PAD_ID = 0
UNK_ID = 1
DEFAULT_CONTEXT_LENGTH = 32


class DemoTokenizer:
    """`DemoTokenizer(context_length=32)(["a red circle."])` -> LongTensor (1, 32): SOT, words, EOT, 0-padding.

    EOT has the largest id, so CLIP-style pooling at `argmax(token id)` finds it; captions longer than the
    context are cut and still end with EOT. Unknown words map to `unk_token_id`.
    """

    def __init__(self, context_length: int = DEFAULT_CONTEXT_LENGTH) -> None:
        if int(context_length) < 3:
            raise ValueError(f"context_length must be >= 3, got {context_length}")
        self.context_length = int(context_length)
        self.words = vocabulary()
        self.word_to_id = {w: i + 2 for i, w in enumerate(self.words)}
        self.pad_token_id = PAD_ID
        self.unk_token_id = UNK_ID
        self.sot_token_id = len(self.words) + 2
        self.eot_token_id = len(self.words) + 3
        self.vocab_size = len(self.words) + 4

    def encode(self, text: str) -> list[int]:
        """Word ids of one text, without SOT/EOT."""
        return [self.word_to_id.get(w, UNK_ID) for w in words_of(text)]

    def decode(self, ids: list[int] | torch.Tensor) -> str:
        names = {v: k for k, v in self.word_to_id.items()}
        out = []
        for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids):
            if i in (PAD_ID, self.sot_token_id):
                continue
            if i == self.eot_token_id:
                break
            out.append(names.get(i, "<unk>"))
        return " ".join(out)

    def __call__(self, texts: list[str] | str, context_length: int | None = None) -> torch.Tensor:
        if isinstance(texts, str):
            texts = [texts]
        length = int(context_length or self.context_length)
        out = torch.zeros(len(texts), length, dtype=torch.long)
        for row, text in enumerate(texts):
            ids = [self.sot_token_id, *self.encode(text)][: length - 1] + [self.eot_token_id]
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out
