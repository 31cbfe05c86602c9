"""Learn from a person's decisions: the review queue, and retraining on the reviewed photos (partial labels)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.api.models import export, model_status
from engine.api.projects import load_labels
from engine.api.review import _store
from engine.errors import InputError
from engine.progress import CancelToken, ProgressCallback, check_cancel
from engine.project import Project

RETRAIN_EPOCHS = 6  # warm start: fewer epochs than a training from scratch (demo "val" split, docs/training.md)
RETRAIN_LR = 5e-3
RETRAIN_UNKNOWN_WEIGHT = 0.2  # a reviewed photo's undecided labels as weak negatives (measured, docs/training.md)


@dataclass(frozen=True)
class QueueItem:
    """One photo of the review queue: how much a decision on it would teach, and its labels nearest their thresholds."""

    path: str
    value: float
    uncertain: tuple[str, ...]


@dataclass
class RetrainResult:
    """What a retraining did: the training, the photos and decisions it learned from, the photos re-tagged."""

    train: Any  # engine.training.trainer.TrainResult
    photos: int
    decisions: int
    tagged: int = 0
    folders: list[str] = field(default_factory=list)


def decisions_since_training(project: Project) -> int:
    """Human decisions made, changed or undone since the project's model last learned from decisions."""
    with _store(project) as store:
        return int(store.decisions_since_training())


def review_queue(project: Project, limit: int = 50) -> list[QueueItem]:
    """Undecided photos in the order a decision teaches the model most (labels near their thresholds, diverse)."""
    import numpy as np

    from engine.tagging.review_queue import UNCERTAIN_WIDTH, informativeness, queue_order

    with _store(project) as store:
        rules = store.label_rules()
        labels = list(rules)
        paths, raw = store.undecided_scores(labels)
    if not paths or not labels:
        return []
    probs = np.array([[rules[lab].probability(s) if s is not None else 0.0 for lab, s in zip(labels, row,
                                                                                          strict=True)]
                      for row in raw])
    thresholds = np.array([rules[lab].threshold for lab in labels])
    order = queue_order(probs, thresholds, limit)
    values = informativeness(probs, thresholds)
    near = np.abs(probs - thresholds[None, :]) < UNCERTAIN_WIDTH
    return [QueueItem(paths[i], float(values[i]), tuple(lab for j, lab in enumerate(labels) if near[i, j]))
            for i in order]


def _reviewed_photos(project: Project, names: list[str]) -> tuple[Any, list[tuple[str, str, str]]]:
    from engine.datasets.reviewed import ReviewedPhotos

    with _store(project) as store:
        decisions = store.human_decisions()
    photos = ReviewedPhotos.from_decisions(names, decisions)
    if not len(photos):
        raise InputError("no decisions on the model's labels yet; confirm or reject some tags in Browse first")
    return photos, decisions


def _train_on_decisions(project: Project, photos: Any, epochs: int | None, device: str,
                        progress: ProgressCallback | None, cancel: CancelToken | None) -> Any:
    """Warm-started training into a side folder that replaces the project's model only when it finished."""
    from engine.artifact import ModelArtifact
    from engine.training.config import TrainConfig
    from engine.training.project_data import training_set_from_project

    status = model_status(project)
    if not status.trained or status.record.model_dir is None:
        raise InputError("the project has no model yet; train one first (`t2ipal train --project P`)")
    current = ModelArtifact.from_pretrained(status.record.model_dir)
    labels = load_labels(project)
    dataset = training_set_from_project(project, labels)
    summary_train = dict((current.config.get("summary") or {}).get("train") or {})
    cfg = TrainConfig(epochs=epochs or RETRAIN_EPOCHS, lr=RETRAIN_LR, warmup_epochs=0, select_on="last",
                      unknown_weight=RETRAIN_UNKNOWN_WEIGHT,
                      lambda_img=float(summary_train.get("lambda_img", 0.5)),
                      heldout_fraction=float(summary_train.get("heldout_fraction", 0.1)))
    side = project.models_dir / "retrain"
    shutil.rmtree(side, ignore_errors=True)
    shutil.rmtree(side.with_name(side.name + ".checkpoints"), ignore_errors=True)
    from engine.training.job import train_model  # imports torch

    result = train_model(dataset, side, backbone_cfg=current.backbone_cfg, model_cfg=current.model_cfg,
                         train_cfg=cfg, cache_dir=project.feature_cache_dir, device=device, photos=photos,
                         init_from=current.folder, progress=progress, cancel=cancel)
    check_cancel(cancel)
    shutil.rmtree(project.model_dir, ignore_errors=True)
    side.replace(project.model_dir)
    result.model_dir = str(project.model_dir)
    project.record_model(model_dir=project.model_dir, labels=list(labels.names), onnx_path=None, onnx_sha256="")
    return result


def retrain_with_decisions(
    project: Project,
    *,
    epochs: int | None = None,
    retag: bool = True,
    device: str = "cpu",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RetrainResult:
    """Retrain the project's model on its captions, renders and reviewed photos (partial labels), warm-started
    from the current model; then export it, re-tag the project's folders and keep every human decision.

    A cancel before the new model is complete leaves the current model, its export and the tags untouched.
    """
    from engine.api.tagging import tag

    names = list(load_labels(project).names)
    photos, decisions = _reviewed_photos(project, names)
    result = _train_on_decisions(project, photos, epochs, device, progress, cancel)
    export(project, progress=progress, cancel=cancel)
    with _store(project) as store:
        store.mark_decisions_trained(decisions)
        folders = [f for f in store.tagged_folders() if Path(f).is_dir()]
    out = RetrainResult(result, len(photos), len(decisions), folders=folders)
    if retag and folders:
        out.tagged = int(tag(project, folders, progress=progress, cancel=cancel).tagged)
    return out
