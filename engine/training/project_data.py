"""A project's training data: its stored captions (text branch) and synthetic images (image branch)."""

from __future__ import annotations

from typing import Any

from engine.artifact import LabelInfo
from engine.errors import InputError
from engine.project import Project
from engine.training.dataset import TrainingSet, multi_hot


def load_project_labelset(project: Project) -> Any:
    from engine.labels.labelset import LabelSet

    if not project.labelset_path.exists():
        raise InputError(f"{project.root} has no label set yet ({project.labelset_path}); write one in the Labels "
                         "panel or copy a label-set file there")
    return LabelSet.from_file(project.labelset_path)


def training_set_from_project(project: Project, labelset: Any = None, *, source: str | None = None) -> TrainingSet:
    """Captions that mention a label, and the synthetic images rendered from them, grouped by caption.

    A caption and its renders share a group, so the held-out split never separates them.
    """
    from engine.captions.store import CaptionStore
    from engine.synthesis import Manifest

    labelset = labelset or load_project_labelset(project)
    names = list(labelset.names)
    info = LabelInfo.from_labelset(labelset)
    with project.db() as db:
        captions = [c for c in CaptionStore(db).iter_captions(labelset.name, source=source) if c.labels]
        records = Manifest(db, project.synthetic_dir).records(include_flagged=False)
    by_text = {c.text: c for c in captions}
    by_id = {str(c.id): c for c in captions}
    images, image_labels, image_groups = [], [], []
    for r in records:
        caption = by_id.get(str(r.caption_id)) if r.caption_id is not None else by_text.get(r.caption)
        caption = caption or by_text.get(r.caption)
        if caption is None:  # rendered from a caption of another label set or source
            continue
        images.append(str(project.synthetic_dir / r.path))
        image_labels.append([label for label in r.labels if label in names])
        image_groups.append(f"c:{caption.id}")
    if not captions:
        raise InputError(f"no stored caption mentions a label of {labelset.name!r}; import or generate captions")
    return TrainingSet(
        info,
        [c.text for c in captions], multi_hot(names, [list(c.labels) for c in captions], "captions"),
        [f"c:{c.id}" for c in captions],
        images, multi_hot(names, image_labels, "synthetic images"), image_groups,
    )
