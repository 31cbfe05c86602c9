"""Find tagged files: by label, minimum score and source, straight from the TagStore."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.tagging.store import IMAGES, SOURCES, TAGS, TagStore, real_path


@dataclass(frozen=True)
class QueryHit:
    path: str  # file-system path (exact bytes restored for non-UTF-8 names)
    label: str
    score: float | None
    source: str


def query_tags(
    db_path: str | Path,
    *,
    label: str | None = None,
    min_score: float | None = None,
    sources: tuple[str, ...] = ("auto", "confirmed", "manual"),
    include_missing: bool = False,
    limit: int | None = None,
) -> list[QueryHit]:
    """Tags matching the filters, best score first; `min_score` applies to auto tags only.

    Rejected tags are left out unless `sources` names "rejected".
    """
    bad = [s for s in sources if s not in SOURCES]
    if bad:
        raise InputError(f"unknown tag source {bad[0]!r}; use {', '.join(SOURCES)}")
    if not Path(db_path).exists():
        raise InputError(f"database {db_path} does not exist; run `t2ipal tag` first")
    where = [f"t.source IN ({','.join('?' * len(sources))})"]
    params: list[object] = list(sources)
    if label is not None:
        where.append("t.label = ?")
        params.append(label)
    if min_score is not None:
        where.append("(t.source != 'auto' OR t.score >= ?)")
        params.append(min_score)
    if not include_missing:
        where.append("i.status != 'missing'")
    sql = (
        f"SELECT i.path, i.path_bytes, t.label, t.score, t.source FROM {TAGS} t JOIN {IMAGES} i ON i.id = t.image_id "
        f"WHERE {' AND '.join(where)} ORDER BY t.score IS NULL, t.score DESC, i.path"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with TagStore.open(db_path) as store:
        known = store.label_set() or []
        if label is not None and known and label not in known:
            manual = store.db.execute(f"SELECT 1 FROM {TAGS} WHERE label = ? LIMIT 1", [label]).fetchone()
            if manual is None:
                raise InputError(f"label {label!r} is not in this database; known labels: {', '.join(known[:20])}")
        return [
            QueryHit(real_path(path, raw), lab, score, source)
            for path, raw, lab, score, source in store.db.execute(sql, params)
        ]
