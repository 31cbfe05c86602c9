"""Review the project's tags: filtered views, human decisions with undo, queries and tag export."""

from __future__ import annotations

import math
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
    """One page of the photos that match `flt` under the threshold policy, in path order."""
    with _store(project) as store:
        return store.matching_paths(flt, limit=limit, offset=offset)


def matching_count(project: Project, flt: TagFilter) -> int:
    """How many photos match `flt` under the threshold policy (all pages)."""
    with _store(project) as store:
        return store.matching_count(flt)


def tagged_count(project: Project) -> int:
    """How many photos the project has tagged successfully."""
    with _store(project) as store:
        return int(store.counts().get("done", 0))


def image_tags(project: Project, path: str) -> list[tuple[str, float | None, str]]:
    """(label, score, source) of one photo: tags without a score (added by hand) first, then best score first
    (rejected tags included, so they can be undone). Raw scores are not bounded, so no number can stand for "none"."""
    with _store(project) as store:
        tags = store.tags_of(path)
    return sorted(((lab, s, src) for lab, (s, src) in tags.items()),
                  key=lambda t: -(t[1] if t[1] is not None else math.inf))


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
    sources: tuple[str, ...] = ("auto", "confirmed", "manual"),
    limit: int | None = None,
) -> list[Any]:
    """The tags in force (threshold policy) by label and source, from the project's or any tag database `db`."""
    from engine.tagging.query import query_tags

    return query_tags(_db_path(project, db), label=label, sources=sources, limit=limit)


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
    dry_run: bool = False,
    naming: str = "auto",
    hierarchical: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Export the tags in force (the threshold policy: what Browse shows).

    CSV or JSON to `out` (returns the rows written), or XMP sidecars (returns an XmpResult).
    """
    from engine.tagging import export_tags as exporter

    if kind not in EXPORT_KINDS:
        raise InputError(f"unknown export format {kind!r}; use {', '.join(EXPORT_KINDS)}")
    path = _db_path(project, db)
    if kind == "xmp":
        return exporter.write_xmp_sidecars(path, naming=naming, dry_run=dry_run,
                                           hierarchical=hierarchical, progress=progress, cancel=cancel)
    if out is None:
        raise InputError(f"say where to write the {kind.upper()} file (-o FILE)")
    fn = exporter.export_csv if kind == "csv" else exporter.export_json
    return fn(path, out)


# --- the threshold policy: which automatic tags are in force ---------------------------------------------
@dataclass(frozen=True)
class TagView:
    """One tag of one photo as the person sees it: probability, the label's threshold, in force or not."""

    label: str
    score: float | None  # raw model score
    probability: float | None
    threshold: float | None  # the label's threshold in force (None: no model rule for this label)
    source: str  # auto | confirmed | rejected | manual
    in_force: bool
    uncertain: bool  # an automatic tag whose probability is close to its threshold


@dataclass(frozen=True)
class LabelThreshold:
    """A label's threshold: the operating point's, the person's own (if any) and the one in force."""

    label: str
    default: float
    own: float | None
    in_force: float


def policy(project: Project) -> Any:
    """The project's threshold policy (engine.tagging.policy.ThresholdPolicy)."""
    with _store(project) as store:
        return store.threshold_policy()


def label_thresholds(project: Project) -> dict[str, LabelThreshold]:
    """Every model label's threshold under the project's policy."""
    with _store(project) as store:
        own = store.threshold_policy().overrides
        rules = store.label_rules()
    return {label: LabelThreshold(label, r.default, own.get(label), r.threshold) for label, r in rules.items()}


def set_label_threshold(project: Project, label: str, value: float | None) -> None:
    """A label's own threshold (probability 0-1) for Browse, query and export; None: back to the computed one."""
    with _store(project) as store:
        known = store.label_rules()
        if known and label not in known:
            raise InputError(f"the project's model has no label {label!r}; its labels: {', '.join(sorted(known))}")
        store.set_label_threshold(label, value)


def set_global_offset(project: Project, offset: float) -> None:
    """Move every label's threshold by `offset` (probability, -1..1) together."""
    with _store(project) as store:
        store.set_policy_value("global_offset", float(offset))


def set_operating_point(project: Project, point: str, target_precision: float | None = None) -> None:
    """`max_f1` (default) or `precision` (at least `target_precision` on the held-out renders) for every label."""
    with _store(project) as store:
        if target_precision is not None:
            store.set_policy_value("target_precision", float(target_precision))
        store.set_policy_value("operating_point", point)


def score_histogram(project: Project, label: str, bins: int = 20) -> tuple[list[int], list[float]]:
    """(counts, bin edges) of the probabilities of `label` over the tagged photos."""
    import numpy as np

    with _store(project) as store:
        probs = store.label_probabilities(label)
    counts, edges = np.histogram(np.asarray(probs, float), bins=bins, range=(0.0, 1.0))
    return counts.tolist(), edges.tolist()


def count_at(project: Project, label: str, threshold: float) -> int:
    """Photos `label` would be in force on with its own threshold at `threshold` (the global offset added)."""
    with _store(project) as store:
        offset = store.threshold_policy().global_offset
        return store.count_at(label, min(1.0, max(0.0, threshold + offset)))


def image_tag_views(project: Project, path: str) -> list[TagView]:
    """Every tag of one photo with its probability and whether it is in force, most probable first."""
    with _store(project) as store:
        tags = store.tags_of(path)
        rules = store.label_rules()
    views = []
    for label, (score, source) in tags.items():
        rule = rules.get(label)
        prob = rule.probability(score) if rule is not None and score is not None else None
        above = prob is not None and rule is not None and score is not None and score >= rule.cutoff
        in_force = source in ("confirmed", "manual") or (source == "auto" and above)
        uncertain = source == "auto" and prob is not None and rule is not None and rule.uncertain(prob)
        views.append(TagView(label, score, prob, rule.threshold if rule else None, source, in_force, uncertain))
    return sorted(views, key=lambda v: -(v.probability if v.probability is not None else 2.0))


@dataclass(frozen=True)
class ReviewState:
    """One photo's review at a glance (Browse's thumbnail badges): tags a person confirmed or added, tags a
    person rejected, and automatic tags close to their threshold that nobody decided on yet."""

    confirmed: int = 0  # confirmed + manual
    rejected: int = 0
    uncertain: int = 0

    @property
    def reviewed(self) -> bool:
        return bool(self.confirmed or self.rejected)


def review_states(project: Project, paths: list[str]) -> dict[str, ReviewState]:
    """The review state of each of `paths` (e.g. the page Browse shows); unknown paths get an empty state."""
    with _store(project) as store:
        tags = store.tags_of_paths(paths)
        rules = store.label_rules()
    states = {}
    for path in paths:
        confirmed = rejected = uncertain = 0
        for label, (score, source) in tags.get(path, {}).items():
            confirmed += source in ("confirmed", "manual")
            rejected += source == "rejected"
            rule = rules.get(label)
            if source == "auto" and rule is not None and score is not None:
                uncertain += bool(rule.uncertain(rule.probability(score)))
        states[path] = ReviewState(confirmed, rejected, uncertain)
    return states
