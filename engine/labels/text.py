"""Caption text normalisation shared by label-set validation and the noun filter (lemminflect, no downloads)."""

from __future__ import annotations

import re
from functools import lru_cache

from lemminflect import getLemma

# A word is a run of letters/digits, optionally joined by apostrophes ("o'clock", "dog's").
# Hyphens, slashes and other punctuation split words, so "hot-dog" reads as "hot dog".
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})


def tokenize(text: str) -> list[str]:
    """Lower-case words with possessive 's removed: "The Dog's toys!" -> ["the", "dog", "toys"]."""
    words = _WORD.findall(text.lower().translate(_APOSTROPHES))
    return [w[:-2] if w.endswith("'s") and len(w) > 2 else w for w in words]


@lru_cache(maxsize=262_144)
def forms(word: str) -> tuple[str, ...]:
    """The word itself and its noun lemmas ("mice" -> ("mice", "mouse")); verbs are left alone on purpose.

    Verb lemmas would turn "training" into "train" and "parking" into "park"; label sets list the -ing forms
    they mean instead ("skiing" for skis).
    """
    out = [word]
    if word.isalpha():
        for lemma in getLemma(word, upos="NOUN"):
            if lemma not in out:
                out.append(lemma)
    return tuple(out)


@lru_cache(maxsize=65_536)
def canonical(word: str) -> str:
    """One normal form per word (its first noun lemma); two phrases with equal canonical forms are the same term."""
    if not word.isalpha():
        return word
    lemmas = getLemma(word, upos="NOUN")
    return lemmas[0] if lemmas else word


def canonical_phrase(text: str) -> tuple[str, ...]:
    return tuple(canonical(w) for w in tokenize(text))
