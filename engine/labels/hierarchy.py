"""The label hierarchy walk shared by label sets and exported models: ancestors root first, keyword paths."""

from __future__ import annotations

from collections.abc import Mapping

HIERARCHY_SEP = "|"


def ancestors(parents: Mapping[str, str | None], name: str) -> list[str]:
    """Parents of `name` from the root down; the chain stops at a parent with no entry and cuts cycles.

    A parent that is not itself a key (a free keyword group such as "Animals" or "Nature|Animals") ends
    the chain and is included as its root.
    """
    chain: list[str] = []
    parent = parents.get(name)
    while parent and parent not in chain and parent != name:
        chain.append(parent)
        parent = parents.get(parent)
    return chain[::-1]


def keyword_path(parents: Mapping[str, str | None], name: str, sep: str = HIERARCHY_SEP) -> str:
    """Hierarchical keyword of a label, e.g. "Animals|dog" (what photo tools call a keyword path)."""
    return sep.join([*ancestors(parents, name), name])
