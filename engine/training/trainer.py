"""The training loop: ranking loss on both branches, SGD + warm-up + cosine, per-epoch checkpoints, resume."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.clip.model import T2IPAL
from engine.errors import ConfigError
from engine.evaluation.calibration import Calibration, caption_priors, fit_calibration
from engine.evaluation.metrics import average_precision, calibrate_thresholds, mean_average_precision
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel
from engine.training.checkpoint import Checkpoints, LoopState, run_key
from engine.training.config import TrainConfig
from engine.training.features import ImageFeatures, TextFeatures
from engine.training.losses import masked_bce, partial_ranking_loss, ranking_loss

log = logging.getLogger(__name__)


@dataclass
class BranchData:
    """Features and multi-hot labels (N, C) of one branch."""

    features: ImageFeatures | TextFeatures
    labels: torch.Tensor
    known: torch.Tensor | None = None  # (N, C) bool: which labels a person decided (None: every label is known)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor]:
        f = self.features
        valid = f.valid[idx] if isinstance(f, TextFeatures) else None
        return f.g[idx].float(), f.local[idx].float(), valid, self.labels[idx]

    def known_of(self, idx: torch.Tensor) -> torch.Tensor | None:
        return None if self.known is None else self.known[idx]


@dataclass
class FitData:
    """Training and held-out data for both branches (either may be empty), plus reviewed photos.

    `photo` holds real photos with partial labels (a person's confirmed / rejected tags); they train the
    image branch with the partial-label loss (`branch_loss`).
    """

    image: BranchData | None = None
    text: BranchData | None = None
    photo: BranchData | None = None
    heldout_image: BranchData | None = None
    heldout_text: BranchData | None = None


@dataclass
class TrainResult:
    """What `fit` returns: per-epoch history, the chosen epoch, held-out metrics and calibrated thresholds."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    heldout_map: float | None = None
    heldout_branch: str | None = None
    thresholds: list[float] = field(default_factory=list)  # raw-score max-F1 thresholds (on renders when any)
    calibration: Calibration | None = None  # per-label Platt fit on held-out renders (or caption priors only)
    per_class_ap: list[float] = field(default_factory=list)  # held-out AP (%) per class, in class order
    seconds: float = 0.0
    resumed_from: int | None = None
    model_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def learning_rate(cfg: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Constant warm-up, then cosine decay to zero over the remaining epochs (per step)."""
    warm = cfg.warmup_epochs * steps_per_epoch
    if step < warm:
        return cfg.warmup_lr
    total = max(1, cfg.epochs * steps_per_epoch - warm)
    return 0.5 * cfg.step_lr * (1.0 + math.cos(math.pi * (step - warm) / total))


def _evaluate(model: T2IPAL, branch: BranchData, name: str) -> tuple[float, np.ndarray]:
    scores = []
    with torch.no_grad():
        emb = model.class_embeddings()
        for start in range(0, len(branch), 256):
            idx = torch.arange(start, min(start + 256, len(branch)))
            g, local, valid, _ = branch.take(idx)
            scores.append(model.score(g, local, branch=name, valid=valid, embeddings=emb).merged)
    s = torch.cat(scores).cpu().numpy()
    return float(mean_average_precision(s, branch.labels.cpu().numpy())), s


def _heldout(model: T2IPAL, data: FitData) -> tuple[str | None, BranchData | None]:
    """Select (and calibrate) on synthetic images when the variant trains on images or on nothing (training-free
    variants score images), else on held-out captions."""
    scores_images = "image" in model.cfg.branches or not model.cfg.learned
    if scores_images and data.heldout_image is not None and len(data.heldout_image):
        return "image", data.heldout_image
    if data.heldout_text is not None and len(data.heldout_text):
        return "text", data.heldout_text
    if data.heldout_image is not None and len(data.heldout_image):
        return "image", data.heldout_image
    return None, None


def _score_heldout(model: T2IPAL, name: str | None, held: BranchData | None, data: FitData,
                   result: TrainResult) -> None:
    """Final held-out mAP and per-class AP; thresholds and calibration from held-out *images* when there are any.

    Caption scores and photo scores live on different scales, so a text-only variant is calibrated on
    the held-out renders too. Without any held-out images the calibration carries only the labels'
    shares among the captions, and the tag store matches those shares on the photos (prior matching).
    """
    if held is None or name is None:
        return
    result.heldout_map, scores = _evaluate(model, held, name)
    labels = held.labels.numpy()
    result.per_class_ap = (100.0 * average_precision(scores, labels)).tolist()
    priors = _priors(data)
    images = data.heldout_image
    if images is not None and len(images):
        image_scores = scores if name == "image" else _evaluate(model, images, "image")[1]
        image_labels = images.labels.numpy()
        fitted_on = "heldout_images"
        if data.photo is not None and len(data.photo) >= MIN_PHOTOS_FOR_CALIBRATION:
            photo_scores, photo_labels = _reviewed_photo_evidence(model, data.photo)
            image_scores = np.concatenate([image_scores, photo_scores])
            image_labels = np.concatenate([image_labels, photo_labels])
            fitted_on = "heldout_images+reviewed_photos"
        result.thresholds = calibrate_thresholds(image_scores, image_labels).tolist()
        result.calibration = fit_calibration(image_scores, image_labels, fitted_on=fitted_on, priors=priors)
        log.info("calibrated on %d images (%s)", len(image_scores), fitted_on)
    else:
        result.thresholds = calibrate_thresholds(scores, labels).tolist()
        result.calibration = Calibration(priors=tuple(priors.tolist()), fitted_on="none")
        log.warning("no held-out images to calibrate on: tags will match the labels' shares among the captions")


MIN_PHOTOS_FOR_CALIBRATION = 40  # reviewed photos join the calibration from this many on


def _reviewed_photo_evidence(model: T2IPAL, photos: BranchData) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels of the reviewed photos for calibration: a label nobody confirmed or added counts as absent.

    A reviewed photo was looked at with its tags shown, and the person adds what is missing, so an
    undecided label is far more often absent than present. These are real photos, the only ones the
    project has labels for; their scores are in-sample (the photos also trained the head).
    """
    _, scores = _evaluate(model, photos, "image")
    return scores, (photos.labels.numpy() > 0.5).astype(np.uint8)


def _priors(data: FitData) -> np.ndarray:
    """Each label's share among the training captions (or the training images when there are no captions)."""
    parts = [b.labels.numpy() for b in (data.text, data.heldout_text) if b is not None and len(b)]
    if not parts:
        parts = [b.labels.numpy() for b in (data.image, data.heldout_image) if b is not None and len(b)]
    return caption_priors(np.concatenate(parts)) if parts else np.zeros(0)


SCORED_AS = {"image": "image", "text": "text", "photo": "image"}  # training branch -> the head branch scoring it


def branch_loss(logits: torch.Tensor, y: torch.Tensor, known: torch.Tensor | None, cfg: TrainConfig) -> torch.Tensor:
    """The loss of one batch: ranking (or BCE) over every pair, or over known pairs only for partial labels."""
    if cfg.loss == "bce":
        return masked_bce(logits, y, known)
    if known is None:
        return ranking_loss(logits, y, cfg.margin)
    return partial_ranking_loss(logits, y, known, cfg.margin, cfg.unknown_weight)


def _step_loss(
    model: T2IPAL, data: FitData, cfg: TrainConfig, perms: dict[str, torch.Tensor], weights: dict[str, float], step: int
) -> torch.Tensor:
    """Weighted loss (global + local logits) of one batch of each trained branch."""
    emb = model.class_embeddings()
    loss = torch.zeros((), device=model.backbone.device)
    for b, perm in perms.items():
        size = min(cfg.batch, len(perm)) if b == "photo" else cfg.batch  # a few photos: each once per step
        idx = perm[torch.arange(step * size, (step + 1) * size) % len(perm)]
        part = getattr(data, b)
        g, local, valid, y = part.take(idx)
        known = part.known_of(idx)
        s = model.score(g, local, branch=SCORED_AS[b], valid=valid, embeddings=emb)
        total = branch_loss(s.global_logits, y, known, cfg) + branch_loss(s.local_logits, y, known, cfg)
        loss = loss + weights[b] * total
    return loss


def _train_epoch(
    model: T2IPAL, data: FitData, cfg: TrainConfig, opt: torch.optim.Optimizer, weights: dict[str, float],
    epoch: int, steps_per_epoch: int, reporter: ProgressReporter, cancel: CancelToken | None,
) -> tuple[float, float]:
    """SGD over a seeded permutation of each branch in `weights`; returns (mean loss, last learning rate)."""
    model.train()
    gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
    perms = {b: torch.randperm(len(getattr(data, b)), generator=gen) for b in weights}
    total_loss, lr = 0.0, cfg.step_lr
    for step in range(steps_per_epoch):
        check_cancel(cancel)
        lr = learning_rate(cfg, epoch * steps_per_epoch + step, steps_per_epoch)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = _step_loss(model, data, cfg, perms, weights, step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total_loss += float(loss.detach())
        reporter.advance(1, metrics={"loss": float(loss.detach()), "epoch": epoch + 1})
    model.eval()
    return total_loss / steps_per_epoch, lr


def _branch_weights(cfg: TrainConfig, branches: list[str], photos: int = 0) -> dict[str, float]:
    """Loss weight per trained branch, in the order the branches train (and draw their permutations).

    Reviewed photos ("photo") add `cfg.photo_weight` on top of the captions/renders mix, scaled down while
    there are fewer photos than a batch (25 photos must not weigh as much as 64 renders; measured on the
    demo's "val" split, docs/training.md).
    """
    synthetic = [b for b in branches if b != "photo"]
    if len(synthetic) == 2:
        weights = {b: cfg.lambda_img if b == "image" else 1.0 - cfg.lambda_img for b in synthetic}
    else:
        weights = {b: 1.0 for b in synthetic}
    if "photo" in branches:
        weights["photo"] = cfg.photo_weight * min(1.0, photos / cfg.batch) if synthetic else 1.0
    return weights


def _train_epochs(
    model: T2IPAL, data: FitData, cfg: TrainConfig, branches: list[str], result: TrainResult,
    held: tuple[str | None, BranchData | None], checkpoint_dir: str | Path | None,
    progress: ProgressCallback | None, cancel: CancelToken | None,
) -> None:
    """Train the remaining epochs (resuming from `checkpoint_dir`), then keep the selected epoch's head."""
    held_name, held_data = held
    opt = torch.optim.SGD(model.head_parameters(), lr=cfg.step_lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    weights = _branch_weights(cfg, branches, len(data.photo) if data.photo is not None else 0)
    steps_per_epoch = max(1, math.ceil(max(len(getattr(data, b)) for b in branches) / cfg.batch))
    parts = (data.image, data.text, data.heldout_image, data.heldout_text, data.photo)
    sizes = [len(b) if b is not None else 0 for b in parts]
    ckpts = Checkpoints(Path(checkpoint_dir), run_key(model, cfg, sizes)) if checkpoint_dir else None
    state = ckpts.resume(model, opt) if ckpts is not None else None
    if state is not None:
        result.resumed_from = state.epoch
        log.info("resuming training at epoch %d of %d", state.epoch + 1, cfg.epochs)
    state = state or LoopState()
    result.history = state.history
    reporter = ProgressReporter(progress, "training", cfg.epochs * steps_per_epoch)
    reporter.done = state.epoch * steps_per_epoch
    best_state = None
    for epoch in range(state.epoch, cfg.epochs):
        loss, lr = _train_epoch(model, data, cfg, opt, weights, epoch, steps_per_epoch, reporter, cancel)
        record: dict[str, float] = {"epoch": epoch + 1, "loss": loss, "lr": lr}
        if held_data is not None and held_name is not None:
            record["heldout_map"], _ = _evaluate(model, held_data, held_name)
        state.history.append(record)
        current = record.get("heldout_map", -1.0) if cfg.select_on == "heldout_map" else float(epoch)
        improved = current > state.best_map
        if improved:
            state.best_map, state.best_epoch = current, epoch + 1
        state.epoch = epoch + 1
        log.info("epoch %d/%d loss %.4f held-out mAP %s", epoch + 1, cfg.epochs, record["loss"],
                 f"{record['heldout_map']:.2f}" if "heldout_map" in record else "n/a")
        reporter.report("epoch done", metrics=record, force=True)
        if ckpts is not None:
            ckpts.save(model, opt, state, improved)
        elif improved:
            best_state = model.head_state_dict()
    if cfg.select_on == "heldout_map":
        if ckpts is not None:
            ckpts.load_best(model)
        elif best_state is not None:
            model.load_head_state_dict(best_state)
    result.best_epoch = state.best_epoch


def fit(
    model: T2IPAL,
    data: FitData,
    cfg: TrainConfig,
    *,
    checkpoint_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> TrainResult:
    """Train prompts and adapter on cached features; resumes from `checkpoint_dir` when it holds a checkpoint."""
    t0 = time.monotonic()
    branches = [b for b in model.cfg.branches if getattr(data, b) is not None and len(getattr(data, b))]
    if model.cfg.learned and data.photo is not None and len(data.photo):
        branches.append("photo")
    if model.cfg.learned and not branches:
        raise ConfigError("variant", f"{model.cfg.variant} trains on {model.cfg.branches} but no such data was given")
    result = TrainResult()
    held_name, held = _heldout(model, data)
    result.heldout_branch = held_name
    if model.cfg.learned:  # zero-shot has nothing to train
        _train_epochs(model, data, cfg, branches, result, (held_name, held), checkpoint_dir, progress, cancel)
    _score_heldout(model, held_name, held, data, result)
    result.seconds = time.monotonic() - t0
    return result
