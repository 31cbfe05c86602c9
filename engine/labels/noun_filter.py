"""The caption noun filter (METHOD.md §2.1): lemmatised phrase matching of label synonyms -> multi-hot labels."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from engine.labels.labelset import LabelSet
from engine.labels.text import forms, tokenize

_END = ""  # trie key holding a node's payload: (label indices it names, label indices it blocks)


class NounFilter:
    """Finds which labels a caption mentions.

    Steps: lower-case and tokenize (possessive 's dropped, hyphens split), give each word its forms (itself,
    its noun lemmas), then find every phrase (name, prompt wording, synonym, or
    the space-free spelling of a multi-word one, and every "not this" phrase) whose words each match one of
    the word's forms. A match inside a longer match is dropped ("teddy bear" hides "bear"), and so is a match
    inside one of its own label's "not this" phrases ("hot dog" is not a dog). With `include_ancestors`, a
    label also switches on its parent labels (a "dog" caption counts for "animal" when both are labels).
    """

    def __init__(self, labelset: LabelSet, *, include_ancestors: bool = True, join_multiword: bool = True) -> None:
        self.labelset = labelset
        self.num_labels = len(labelset.labels)
        self._trie: dict = {}
        self._forms: dict[str, tuple[str, ...]] = {}
        self._starts: dict[str, list[dict]] = {}  # word -> trie nodes right below the root for its forms
        names = labelset.names
        explicit: set[tuple[str, ...]] = set()
        for label in labelset.labels:
            explicit.update(tuple(tokenize(t)) for t in label.terms)
        for idx, label in enumerate(labelset.labels):
            for term in label.terms:
                words = tokenize(term)
                self._add(words, idx, block=False)
                joined = ("".join(words),)
                if join_multiword and len(words) > 1 and joined not in explicit:
                    self._add(list(joined), idx, block=False)
            for phrase in label.not_this:
                self._add(tokenize(phrase), idx, block=True)
        self._ancestors: list[tuple[int, ...]] = []
        for name in names:
            self._ancestors.append(tuple(names.index(a) for a in labelset.ancestors(name)) if include_ancestors else ())

    def _add(self, words: list[str], idx: int, *, block: bool) -> None:
        if not words:
            return
        # Index the phrase under every combination of its words' forms, so "skis" also finds "ski".
        nodes = [self._trie]
        for word in words:
            nxt = []
            for node in nodes:
                for form in forms(word):
                    nxt.append(node.setdefault(form, {}))
            nodes = list({id(n): n for n in nxt}.values())
        for node in nodes:
            payload = node.setdefault(_END, (set(), set()))
            payload[1 if block else 0].add(idx)

    def _matches(self, words: list[str]) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        hits: list[tuple[int, int, int]] = []
        blocks: list[tuple[int, int, int]] = []
        root = self._trie
        starts = self._starts
        cache = self._forms
        n = len(words)
        for i in range(n):
            word = words[i]
            frontier = starts.get(word)
            if frontier is None:  # first time this word is seen: the trie nodes its forms start
                frontier = starts[word] = [root[f] for f in forms(word) if f in root]
            j = i + 1
            while frontier:
                for node in frontier:
                    payload = node.get(_END)
                    if payload is not None:
                        for idx in payload[0]:
                            hits.append((i, j, idx))
                        for idx in payload[1]:
                            blocks.append((i, j, idx))
                if j >= n:
                    break
                nxt = words[j]
                word_forms = cache.get(nxt) or cache.setdefault(nxt, forms(nxt))
                frontier = [child[f] for child in frontier for f in word_forms if f in child]
                j += 1
        return hits, blocks

    def labels_of(self, text: str, *, max_words: int | None = None) -> list[int]:
        """Sorted indices of the labels a caption mentions (optionally looking at its first `max_words` only)."""
        words = tokenize(text)
        if max_words is not None:
            words = words[:max_words]
        hits, blocks = self._matches(words)
        if not hits:
            return []
        found: set[int] = set()
        long_spans = [(i2, j2) for i2, j2, _ in hits if j2 - i2 > 1]
        for i, j, idx in hits:
            if idx in found:
                continue
            if long_spans and any(i2 <= i and j <= j2 and j2 - i2 > j - i for i2, j2 in long_spans):
                continue  # part of a longer phrase ("teddy bear" hides "bear")
            if blocks and any(i2 <= i and j <= j2 for i2, j2, b in blocks if b == idx):
                continue  # inside one of this label's "not this" phrases
            found.add(idx)
        for idx in list(found):
            found.update(self._ancestors[idx])
        return sorted(found)

    def names_of(self, text: str, *, max_words: int | None = None) -> list[str]:
        names = self.labelset.names
        return [names[i] for i in self.labels_of(text, max_words=max_words)]

    def multi_hot(self, texts: Iterable[str], *, max_words: int | None = None) -> np.ndarray:
        """(N, C) uint8 matrix, row n has a 1 for each label text n mentions."""
        rows = [self.labels_of(t, max_words=max_words) for t in texts]
        out = np.zeros((len(rows), self.num_labels), dtype=np.uint8)
        for r, idxs in enumerate(rows):
            out[r, idxs] = 1
        return out
