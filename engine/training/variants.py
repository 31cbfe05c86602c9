"""What a variant changes in its training data: TaI-DPT's per-class template sentences."""

from __future__ import annotations

import numpy as np

from engine.clip.templates import template_sentences
from engine.datasets.training_set import TrainingSet


def with_template_sentences(train: TrainingSet) -> TrainingSet:
    """`train` plus TaI-DPT's 89 one-hot sentences per class, as captions (never rendered, never held out)."""
    labels = train.labels
    texts: list[str] = []
    rows: list[int] = []
    for k, prompt in enumerate(labels.prompt_names):
        sentences = template_sentences(prompt)
        texts += sentences
        rows += [k] * len(sentences)
    onehot = np.zeros((len(texts), len(labels.names)), np.uint8)
    onehot[np.arange(len(texts)), rows] = 1
    return TrainingSet(
        labels, train.captions + texts, np.concatenate([train.caption_labels, onehot]),
        train.caption_groups + [f"template:{i}" for i in range(len(texts))],
        train.image_paths, train.image_labels, train.image_groups,
    )
