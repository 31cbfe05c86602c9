"""Seeded compositional caption generator that tops up labels with too few captions (1-4 labels a caption)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping

from lemminflect import getInflection

from engine.labels.labelset import Label, LabelSet
from engine.labels.noun_filter import NounFilter
from engine.progress import CancelToken, check_cancel


class GeneratedCaption(str):
    """A caption that is also a `str`, carrying the labels it was written for in `.labels`."""

    labels: tuple[str, ...]

    def __new__(cls, text: str, labels: tuple[str, ...] | list[str]) -> GeneratedCaption:
        obj = super().__new__(cls, text)
        obj.labels = tuple(labels)
        return obj


# Words that read as a scene or a substance rather than a countable thing get "the"/no article.
_SCENE_WORDS = {
    "sky", "sun", "moon", "sunset", "sunrise", "night", "nighttime", "snow", "fog", "rain", "water", "grass", "sand",
    "ice", "fire", "frost", "food", "sea", "ocean", "beach", "surf", "reflection", "military", "police", "wildlife",
    "dancing", "running", "swimming", "sports", "soccer", "christmas", "graduation", "birthday", "wedding", "protest",
    "earthquake", "cityscape", "skyline", "night sky", "clouds", "rainbow", "meadow", "forest", "desert", "street",
}
_INTROS = [
    "a photo of", "a picture of", "an image of", "a close-up photo of", "a snapshot of", "a wide shot of",
    "a candid photo of", "a blurry photo of", "a bright photo of", "a photograph showing", "this picture shows",
    "there is", "we can see", "",
]
_ATTRS = ["small", "large", "old", "beautiful", "little", "big", "colorful", "lovely", "distant", "nearby"]
_JOINS_2 = ["{a} and {b}", "{a} next to {b}", "{a} near {b}", "{a} with {b}", "{a} beside {b}", "{a} in front of {b}"]
_SETTINGS = [
    "", "", "", "outdoors", "indoors", "in the afternoon", "on a bright day", "in the evening", "in the morning",
    "on a quiet day", "at home", "in winter", "in summer", "in spring", "in autumn", "on a weekend trip",
]
_TAILS = ["", "", "", " in the background", ", seen from above", ", in soft light", ", taken with a phone",
          ", shot from a distance", ", in black and white"]
_COUNTS = ["two", "three", "several", "some", "a few", "a group of", "many"]


class _Balancer:
    """Keeps the remaining need per label and proposes label combinations that reduce it."""

    def __init__(self, labelset: LabelSet, target: int, existing: Mapping[str, int] | None, rng: random.Random,
                 max_labels: int) -> None:
        self.names = labelset.names
        self.need = [max(0, target - int((existing or {}).get(n, 0))) for n in self.names]
        self.rng = rng
        self.max_labels = max(1, min(4, max_labels))
        self.related = [set(labelset.ancestors(n)) for n in self.names]

    def total(self) -> int:
        return sum(self.need)

    def combo(self) -> list[int]:
        rng = self.rng
        needy = [i for i, n in enumerate(self.need) if n > 0]
        primary = rng.choices(needy, weights=[self.need[i] for i in needy])[0]
        k = rng.choices([1, 2, 3, 4][: self.max_labels], weights=[4, 3, 2, 1][: self.max_labels])[0]
        others = [
            i for i in needy
            if i != primary and self.names[i] not in self.related[primary]
            and self.names[primary] not in self.related[i]
        ]
        chosen = [primary, *rng.sample(others, min(k - 1, len(others)))]
        rng.shuffle(chosen)
        return chosen

    def record(self, found: list[int]) -> None:
        for i in found:
            self.need[i] = max(0, self.need[i] - 1)


def _term(label: Label, rng: random.Random) -> str:
    extra = [s for s in label.synonyms[:4] if s.replace(" ", "").isalpha()]
    if extra and rng.random() < 0.35:
        return rng.choice(extra)
    return label.prompt_name


def _plural(term: str) -> str:
    head, _, last = term.rpartition(" ")
    forms = getInflection(last, tag="NNS") if last.isalpha() else ()
    plural = forms[0] if forms else last + "s"
    return f"{head} {plural}".strip()


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _noun_phrase(label: Label, rng: random.Random) -> str:
    term = _term(label, rng)
    if term in _SCENE_WORDS or label.name in _SCENE_WORDS:
        return rng.choice(["the ", ""]) + term
    attr = rng.choice(_ATTRS) + " " if rng.random() < 0.35 else ""
    if rng.random() < 0.3 and term == label.prompt_name:
        return f"{rng.choice(_COUNTS)} {attr}{_plural(term)}"
    phrase = attr + term
    with_article = _article(phrase) + " " + phrase
    return rng.choice([with_article, with_article, "the " + phrase, "one " + phrase])


def compose(labels: list[Label], rng: random.Random, *, with_setting: bool = True) -> str:
    """One sentence naming each of the given labels, in varied wording."""
    nps = [_noun_phrase(lb, rng) for lb in labels]
    if len(nps) == 1:
        body = nps[0]
    elif len(nps) == 2:
        body = rng.choice(_JOINS_2).format(a=nps[0], b=nps[1])
    else:
        body = ", ".join(nps[:-1]) + rng.choice([" and ", ", and ", " as well as "]) + nps[-1]
    intro = rng.choice(_INTROS)
    parts = [intro, body]
    if with_setting:
        parts.append(rng.choice(_SETTINGS))
    text = " ".join(p for p in parts if p) + (rng.choice(_TAILS) if with_setting else "")
    return text[0].upper() + text[1:] + ("." if with_setting else "")


def _plans(labelset: LabelSet, target: int, existing: Mapping[str, int] | None, seed: int, max_labels: int,
           max_captions: int | None) -> Iterator[tuple[_Balancer, list[int], random.Random]]:
    rng = random.Random(seed)
    bal = _Balancer(labelset, target, existing, rng, max_labels)
    limit = max_captions if max_captions is not None else bal.total() * 4 + 100
    tries = 0
    while bal.total() > 0 and tries < limit:
        tries += 1
        yield bal, bal.combo(), rng


def generate_captions(
    labelset: LabelSet,
    target_per_label: int,
    seed: int = 0,
    existing_counts: Mapping[str, int] | None = None,
    *,
    max_labels: int = 4,
    max_captions: int | None = None,
    cancel: CancelToken | None = None,
) -> list[GeneratedCaption]:
    """Captions that bring every label up to `target_per_label` (counting `existing_counts`), deterministically.

    Each caption names 1-`max_labels` labels that still need captions; it is checked with the noun filter and
    its `.labels` are what the filter finds, so it is labelled exactly as an imported caption would be.
    """
    nf = NounFilter(labelset)
    names = labelset.names
    out: list[GeneratedCaption] = []
    seen: set[str] = set()
    for n, (bal, combo, rng) in enumerate(_plans(labelset, target_per_label, existing_counts, seed, max_labels, None)):
        if n % 256 == 0:
            check_cancel(cancel)
        wanted = set(combo)
        for i in combo:
            wanted.update(names.index(a) for a in labelset.ancestors(names[i]))
        best: tuple[str, list[int]] | None = None
        for _ in range(6):
            text = compose([labelset.labels[i] for i in combo], rng)
            if text.lower() in seen:
                continue
            found = nf.labels_of(text)
            if set(found) == wanted:
                best = (text, found)
                break
            if best is None and set(combo) <= set(found):
                best = (text, found)  # mentions a little more (e.g. "in winter" -> snow): still truthful
        if best is None:
            continue
        text, found = best
        seen.add(text.lower())
        out.append(GeneratedCaption(text, [names[i] for i in found]))
        bal.record(found)
    return out
