"""Captions of the project's label set: import, generate, add by hand, list and count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.api.projects import load_labels
from engine.progress import CancelToken, ProgressCallback
from engine.project import Project


def import_captions(
    project: Project,
    file: str | Path,
    *,
    fmt: str = "auto",
    source: str | None = None,
    max_per_image: int | None = None,
    min_count: int = 50,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Import a caption file into the project (all or nothing); returns the store's ImportResult."""
    from engine.captions.store import CaptionStore

    labels = load_labels(project)
    with project.db() as db:
        store = CaptionStore(db)
        store.add_labelset(labels)
        return store.import_file(file, fmt, labels, source=source, max_per_image=max_per_image,
                                 min_count=min_count, progress=progress, cancel=cancel)


def add_captions(project: Project, captions: list[Any], *, source: str = "typed") -> int:
    """Add captions: plain strings are labelled by the noun filter, `{text, labels}` dicts keep their labels.

    Returns how many were new and mention a label of the project.
    """
    from engine.captions.generate import GeneratedCaption
    from engine.captions.store import CaptionStore

    labels = load_labels(project)
    items = [GeneratedCaption(c["text"], c["labels"]) if isinstance(c, dict) and c.get("labels")
             else (c["text"] if isinstance(c, dict) else c) for c in captions]
    with project.db() as db:
        store = CaptionStore(db)
        store.add_labelset(labels)
        return store.add_captions(labels, items, source=source)


def generate_captions(
    project: Project,
    *,
    target: int = 100,
    seed: int = 0,
    max_labels: int = 4,
    model: str | None = None,
    device: str = "cpu",
    store: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[list[Any], int]:
    """Write captions for labels with fewer than `target`; (captions, how many were added to the project)."""
    from engine.captions.store import CaptionStore

    labels = load_labels(project)
    with project.db() as db:
        existing = CaptionStore(db).label_counts(labels)
    if model:
        from engine.captions.generate_llm import generate_with_model

        caps = generate_with_model(labels, model, target, seed, existing, max_labels=max_labels, device=device,
                                   progress=progress, cancel=cancel)
        source = f"generated:model:{Path(model).name}"
    else:
        from engine.captions.generate import generate_captions as from_templates

        caps = from_templates(labels, target, seed, existing, max_labels=max_labels)
        source = f"generated:template:seed{seed}"
    if not store:
        return caps, 0
    with project.db() as db:
        added = CaptionStore(db).add_captions(labels, caps, source=source)
    return caps, added


def list_captions(project: Project) -> list[Any]:
    """The project's captions for its label set, in the order they were added."""
    from engine.captions.store import CaptionStore

    labels = load_labels(project)
    with project.db() as db:
        return list(CaptionStore(db).iter_captions(labels.name))


def caption_stats(project: Project, *, min_count: int = 50) -> Any:
    """Captions per label, frequent pairs and thin labels (the store's CaptionStats)."""
    from engine.captions.store import CaptionStore

    labels = load_labels(project)
    with project.db() as db:
        store = CaptionStore(db)
        store.add_labelset(labels)
        return store.stats(labels, min_count=min_count)


def count_captions(project: Project) -> int:
    """How many captions the project's label set has."""
    from engine.captions.store import CaptionStore

    labels = load_labels(project)
    with project.db() as db:
        return CaptionStore(db).count(labels.name)


def update_caption(project: Project, caption_id: int, text: str) -> Any:
    """Change a caption's text (its labels follow the new words); returns the stored Caption."""
    from engine.captions.store import CaptionStore

    labels = load_labels(project)
    with project.db() as db:
        return CaptionStore(db).update_caption(labels, caption_id, text)


def delete_captions(project: Project, caption_ids: list[int]) -> list[Any]:
    """Delete captions; returns them, for `restore_captions` (undo)."""
    from engine.captions.store import CaptionStore

    with project.db() as db:
        return CaptionStore(db).delete_captions(caption_ids)


def restore_captions(project: Project, captions: list[Any]) -> int:
    """Put deleted captions back as they were."""
    from engine.captions.store import CaptionStore

    with project.db() as db:
        return CaptionStore(db).restore_captions(captions)
