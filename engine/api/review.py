"""Review the project's tags: filtered views, human decisions with undo, queries and tag export."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.progress import CancelToken, ProgressCallback
from engine.project import Project
from engine.tagging.filters import TagFilter

EXPORT_KINDS = ("csv", "json", "xmp")


def _store(project: Project) -> Any:
    from engine.tagging.store import TagStore

    return TagStore(project.open_db())


def tag_labels(project: Project) -> list[str]:
    """Every label that has tags in the project (its model's labels plus any added by hand)."""
    with _store(project) as store:
        return store.labels_in_use()


def label_counts(project: Project, flt: TagFilter) -> dict[str, int]:
    with _store(project) as store:
        return store.label_counts(flt)


def matching_images(project: Project, flt: TagFilter, *, limit: int = 5000, offset: int = 0) -> list[str]:
    with _store(project) as store:
        return store.matching_paths(flt, limit=limit, offset=offset)


def tagged_count(project: Project) -> int:
    """How many photos the project has tagged successfully."""
    with _store(project) as store:
        return int(store.counts().get("done", 0))


def image_tags(project: Project, path: str) -> list[tuple[str, float | None, str]]:
    """(label, score, source) of one photo, best score first (rejected tags included, so they can be undone)."""
    with _store(project) as store:
        tags = store.tags_of(path)
    return sorted(((lab, s, src) for lab, (s, src) in tags.items()), key=lambda t: -(t[1] if t[1] is not None else 2))


@dataclass(frozen=True)
class Decision:
    """A human decision on one (photo, label) and the tag as it was before, so it can be undone."""

    path: str
    label: str
    source: str  # confirmed | rejected | manual
    before: tuple[float | None, str] | None  # (score, source) before the decision; None: no tag


def decide(project: Project, path: str, label: str, source: str) -> Decision:
    """Confirm, reject or add (manual) a tag; later tagging runs never overwrite it."""
    with _store(project) as store:
        before = store.tags_of(path).get(label)
        store.set_decision(path, label, source)
    return Decision(path, label, source, before)


def undo(project: Project, decision: Decision) -> None:
    """Put the tag back exactly as it was before `decision`."""
    with _store(project) as store:
        store.restore_tag(decision.path, decision.label, decision.before)


def query(
    project: Project | None = None,
    *,
    db: str | Path | None = None,
    label: str | None = None,
    min_score: float | None = None,
    sources: tuple[str, ...] = ("auto", "confirmed", "manual"),
    include_missing: bool = False,
    limit: int | None = None,
) -> list[Any]:
    """Tagged files by label, score and source, from the project's database or any tag database `db`."""
    from engine.tagging.query import query_tags

    return query_tags(_db_path(project, db), label=label, min_score=min_score, sources=sources,
                      include_missing=include_missing, limit=limit)


@dataclass(frozen=True)
class FailedImage:
    """A file whose last read failed, and why (stored in its error row)."""

    path: str
    error: str


def failed_images(
    project: Project | None = None,
    *,
    db: str | Path | None = None,
    run_id: int | None = None,
    limit: int | None = None,
) -> list[FailedImage]:
    """Files that could not be tagged (only those of run `run_id` when given), in path order."""
    from engine.tagging.store import TagStore

    with TagStore.open(_db_path(project, db)) as store:
        return [FailedImage(path, error) for path, error in store.failed(run_id=run_id, limit=limit)]


def _db_path(project: Project | None, db: str | Path | None) -> Path:
    if (project is None) == (db is None):
        raise InputError("give a project (--project DIR) or a tag database (DB), not both")
    return project.db_path if project is not None else Path(db)  # type: ignore[arg-type]


def export_tags(
    kind: str,
    project: Project | None = None,
    *,
    db: str | Path | None = None,
    out: str | Path | None = None,
    min_score: float | None = None,
    dry_run: bool = False,
    naming: str = "auto",
    hierarchical: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Export the tags in force as CSV or JSON (`out`: rows written) or XMP sidecars (an XmpResult)."""
    from engine.tagging import export_tags as exporter

    if kind not in EXPORT_KINDS:
        raise InputError(f"unknown export format {kind!r}; use {', '.join(EXPORT_KINDS)}")
    path = _db_path(project, db)
    if kind == "xmp":
        return exporter.write_xmp_sidecars(path, naming=naming, dry_run=dry_run, min_score=min_score,
                                           hierarchical=hierarchical, progress=progress, cancel=cancel)
    if out is None:
        raise InputError(f"say where to write the {kind.upper()} file (-o FILE)")
    fn = exporter.export_csv if kind == "csv" else exporter.export_json
    return fn(path, out, min_score=min_score)
