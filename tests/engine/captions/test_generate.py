"""Template caption generator: balanced, seeded, labelled like the noun filter would label it."""

from __future__ import annotations

from collections import Counter

from engine.captions.generate import GeneratedCaption, generate_captions
from engine.labels.labelset import LabelSet
from engine.labels.noun_filter import NounFilter


def test_balances_to_target_with_existing_counts():
    ls = LabelSet.bundled("voc2007")
    existing = {"person": 500, "dog": 25}
    caps = generate_captions(ls, 30, seed=3, existing_counts=existing)
    counts = Counter(n for c in caps for n in c.labels)
    for name in ls.names:
        have = existing.get(name, 0) + counts[name]
        assert have >= 30, name
    assert counts["person"] <= 3  # already full: only as an incidental companion, if at all
    assert counts["dog"] <= 8
    sizes = Counter(len(c.labels) for c in caps)
    assert set(sizes) <= {1, 2, 3, 4} and len(sizes) >= 3
    assert len({c.lower() for c in caps}) == len(caps)


def test_labels_agree_with_noun_filter_and_are_strings():
    ls = LabelSet.bundled("outdoors")
    nf = NounFilter(ls)
    caps = generate_captions(ls, 5, seed=0)
    assert caps and all(isinstance(c, str) and isinstance(c, GeneratedCaption) for c in caps)
    for c in caps:
        assert tuple(nf.names_of(c)) == c.labels
        assert c[0].isupper() and c.endswith(".")


def test_seeded_and_varied():
    ls = LabelSet.from_names(["dog", "cat", "bicycle", "umbrella"])
    a = generate_captions(ls, 10, seed=1)
    assert a == generate_captions(ls, 10, seed=1)
    assert a != generate_captions(ls, 10, seed=2)
    assert len({c.split()[0] for c in a}) > 2  # varied openings
    assert generate_captions(ls, 10, seed=1, max_labels=1) and all(
        len(c.labels) == 1 for c in generate_captions(ls, 10, seed=1, max_labels=1)
    )


def test_nothing_needed():
    ls = LabelSet.from_names(["dog"])
    assert generate_captions(ls, 5, existing_counts={"dog": 5}) == []
