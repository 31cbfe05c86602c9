"""Read-only filter queries over the TagStore tables for the Browse panel (thresholds applied at query time)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.tagging.store import IMAGES, TAGS, TagStore, real_path


@dataclass
class Filter:
    labels: list[str] = field(default_factory=list)
    mode: str = "all"  # "all" | "any"
    threshold: float = 0.5  # global threshold for auto tags
    per_label: dict[str, float] = field(default_factory=dict)  # overrides of the global threshold


def _effective_sql(flt: Filter) -> tuple[str, list[object]]:
    """SELECT image_id, label, score, source of tags in force under the filter's thresholds."""
    params: list[object] = []
    case = "?"
    if flt.per_label:
        whens = []
        for label, value in flt.per_label.items():
            whens.append("WHEN ? THEN ?")
            params += [label, value]
        case = f"CASE t.label {' '.join(whens)} ELSE ? END"
    params.append(flt.threshold)
    sql = (
        f"SELECT t.image_id, t.label, t.score, t.source FROM {TAGS} t JOIN {IMAGES} i ON i.id = t.image_id "
        f"WHERE i.status = 'done' AND (t.source IN ('confirmed', 'manual') "
        f"OR (t.source = 'auto' AND t.score >= {case}))"
    )
    return sql, params


def label_counts(store: TagStore, flt: Filter) -> dict[str, int]:
    """Images per label under the thresholds (the live counts next to each label)."""
    sql, params = _effective_sql(flt)
    return dict(store.db.execute(f"SELECT label, COUNT(*) FROM ({sql}) GROUP BY label", params).fetchall())


def all_labels(store: TagStore) -> list[str]:
    known = store.label_set() or []
    extra = [r[0] for r in store.db.execute(f"SELECT DISTINCT label FROM {TAGS}")]
    return sorted(set(known) | set(extra))


def matching_images(store: TagStore, flt: Filter, limit: int = 5000) -> list[str]:
    sql, params = _effective_sql(flt)
    where = "i.status = 'done'"
    if not flt.labels:
        params = []
    else:
        marks = ",".join("?" * len(flt.labels))
        sub = f"SELECT image_id FROM ({sql}) WHERE label IN ({marks})"
        params = params + list(flt.labels)
        if flt.mode == "all":
            sub += f" GROUP BY image_id HAVING COUNT(DISTINCT label) = {len(flt.labels)}"
        where += f" AND i.id IN ({sub})"
    rows = store.db.execute(
        f"SELECT i.path, i.path_bytes FROM {IMAGES} i WHERE {where} ORDER BY i.path LIMIT {int(limit)}", params
    )
    return [real_path(p, raw) for p, raw in rows]


def image_tags(store: TagStore, path: str) -> list[tuple[str, float | None, str]]:
    """(label, score, source) of one image, best score first (rejected included, so it can be undone)."""
    tags = store.tags_of(path)
    return sorted(((lab, s, src) for lab, (s, src) in tags.items()), key=lambda t: -(t[1] if t[1] is not None else 2))
