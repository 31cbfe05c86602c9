"""Find tagged files: the tags in force under the project's threshold policy, by label and source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.tagging.store import SOURCES, TAGS, TagStore, real_path


@dataclass(frozen=True)
class QueryHit:
    path: str  # file-system path (exact bytes restored for non-UTF-8 names)
    label: str
    score: float | None  # raw model score
    source: str
    probability: float | None = None  # the calibrated probability of `score` (None for manual tags)


def query_tags(
    db_path: str | Path,
    *,
    label: str | None = None,
    sources: tuple[str, ...] = ("auto", "confirmed", "manual"),
    limit: int | None = None,
) -> list[QueryHit]:
    """Tags in force (the same ones Browse shows and exports write), best probability first.

    Rejected tags are never in force; they are listed only when `sources` names "rejected".
    """
    bad = [s for s in sources if s not in SOURCES]
    if bad:
        raise InputError(f"unknown tag source {bad[0]!r}; use {', '.join(SOURCES)}")
    if not Path(db_path).exists():
        raise InputError(f"database {db_path} does not exist; run `t2ipal tag` first")
    with TagStore.open(db_path) as store:
        known = store.label_set() or []
        if label is not None and known and label not in known:
            manual = store.db.execute(f"SELECT 1 FROM {TAGS} WHERE label = ? LIMIT 1", [label]).fetchone()
            if manual is None:
                raise InputError(f"label {label!r} is not in this database; known labels: {', '.join(known[:20])}")
        rules = store.label_rules()
        hits = []
        for path, raw, lab, score, source in store.iter_tags_in_force(label=label, rejected="rejected" in sources):
            if source not in sources:
                continue
            rule = rules.get(lab)
            prob = rule.probability(score) if rule is not None and score is not None else None
            hits.append(QueryHit(real_path(path, raw), lab, score, source, prob))
    hits.sort(key=lambda h: (h.source == "rejected", -(h.probability if h.probability is not None else 2.0)))
    return hits[:limit] if limit is not None else hits
