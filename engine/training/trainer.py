"""The training loop: ranking loss on both branches, SGD + warm-up + cosine, per-epoch checkpoints, resume."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from engine.clip.model import T2IPAL
from engine.errors import ArtifactError, ConfigError
from engine.evaluation.metrics import average_precision, calibrate_thresholds, mean_average_precision
from engine.hashing import sha1_hex
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel
from engine.training.config import TrainConfig
from engine.training.features import ImageFeatures, TextFeatures
from engine.training.losses import ranking_loss

log = logging.getLogger(__name__)


@dataclass
class BranchData:
    """Features and multi-hot labels (N, C) of one branch."""

    features: ImageFeatures | TextFeatures
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor]:
        f = self.features
        valid = f.valid[idx] if isinstance(f, TextFeatures) else None
        return f.g[idx].float(), f.local[idx].float(), valid, self.labels[idx]


@dataclass
class FitData:
    """Training and held-out data for both branches (either may be empty)."""

    image: BranchData | None = None
    text: BranchData | None = None
    heldout_image: BranchData | None = None
    heldout_text: BranchData | None = None


@dataclass
class TrainResult:
    """What `fit` returns: per-epoch history, the chosen epoch, held-out metrics and calibrated thresholds."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    heldout_map: float | None = None
    heldout_branch: str | None = None
    thresholds: list[float] = field(default_factory=list)
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
    return 0.5 * cfg.lr * (1.0 + math.cos(math.pi * (step - warm) / total))


def _config_hash(model: T2IPAL, cfg: TrainConfig, data: FitData) -> str:
    sizes = [len(b) if b is not None else 0 for b in (data.image, data.text, data.heldout_image, data.heldout_text)]
    blob = json.dumps([model.cfg.to_dict(), cfg.to_dict(), model.classnames, sizes], sort_keys=True)
    return sha1_hex(blob, 16)


def _save_checkpoint(path: Path, model: T2IPAL, opt: torch.optim.Optimizer, meta: dict[str, Any]) -> None:
    tensors = {f"head.{k}": v.contiguous() for k, v in model.head_state_dict().items()}
    for i, p in enumerate(model.head_parameters()):
        buf = opt.state.get(p, {}).get("momentum_buffer")
        if buf is not None:
            tensors[f"opt.{i}"] = buf.detach().contiguous()
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"meta": json.dumps(meta)})
    os.replace(tmp, path)


def _load_checkpoint(path: Path, model: T2IPAL, opt: torch.optim.Optimizer) -> None:
    tensors = load_file(str(path), device=str(model.backbone.device))
    model.load_head_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})
    for i, p in enumerate(model.head_parameters()):
        if f"opt.{i}" in tensors:
            opt.state[p]["momentum_buffer"] = tensors[f"opt.{i}"].clone()


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
    """Select on synthetic images when the variant trains on images, else on held-out captions."""
    if "image" in model.cfg.branches and data.heldout_image is not None and len(data.heldout_image):
        return "image", data.heldout_image
    if data.heldout_text is not None and len(data.heldout_text):
        return "text", data.heldout_text
    if data.heldout_image is not None and len(data.heldout_image):
        return "image", data.heldout_image
    return None, None


def _score_heldout(model: T2IPAL, name: str | None, held: BranchData | None, result: TrainResult) -> None:
    """Final held-out mAP, per-class AP and max-F1 thresholds of the model as it stands."""
    if held is None or name is None:
        return
    result.heldout_map, scores = _evaluate(model, held, name)
    labels = held.labels.numpy()
    result.thresholds = calibrate_thresholds(scores, labels).tolist()
    result.per_class_ap = (100.0 * average_precision(scores, labels)).tolist()


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
    if model.cfg.learned and not branches:
        raise ConfigError("variant", f"{model.cfg.variant} trains on {model.cfg.branches} but no such data was given")
    result = TrainResult()
    held_name, held = _heldout(model, data)
    result.heldout_branch = held_name
    if not model.cfg.learned:  # zero-shot: nothing to train
        _score_heldout(model, held_name, held, result)
        result.seconds = time.monotonic() - t0
        return result

    params = model.head_parameters()
    opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    sizes = {b: len(getattr(data, b)) for b in branches}
    steps_per_epoch = max(1, math.ceil(max(sizes.values()) / cfg.batch_size))
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir else None
    run_key = _config_hash(model, cfg, data)
    start_epoch, best_map, best_epoch = 0, -1.0, 0
    if ckpt_dir is not None and (ckpt_dir / "last.json").exists():
        meta = json.loads((ckpt_dir / "last.json").read_text())
        if meta.get("run_key") != run_key:
            raise ArtifactError(
                f"{ckpt_dir} holds a checkpoint of a different training setup; choose another output folder "
                "or delete its checkpoints/ to start over"
            )
        _load_checkpoint(ckpt_dir / "last.safetensors", model, opt)
        start_epoch, best_map, best_epoch = meta["epoch"], meta["best_map"], meta["best_epoch"]
        result.history = meta["history"]
        result.resumed_from = start_epoch
        log.info("resuming training at epoch %d of %d", start_epoch + 1, cfg.epochs)
    reporter = ProgressReporter(progress, "training", cfg.epochs * steps_per_epoch)
    reporter.done = start_epoch * steps_per_epoch
    weights = {"image": cfg.lambda_img, "text": 1.0 - cfg.lambda_img} if len(branches) == 2 else {branches[0]: 1.0}

    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        perms = {b: torch.randperm(sizes[b], generator=gen) for b in branches}
        total_loss = 0.0
        for step in range(steps_per_epoch):
            check_cancel(cancel)
            lr = learning_rate(cfg, epoch * steps_per_epoch + step, steps_per_epoch)
            for group in opt.param_groups:
                group["lr"] = lr
            emb = model.class_embeddings()
            loss = torch.zeros((), device=model.backbone.device)
            for b in branches:
                n = sizes[b]
                idx = perms[b][torch.arange(step * cfg.batch_size, (step + 1) * cfg.batch_size) % n]
                g, local, valid, y = getattr(data, b).take(idx)
                s = model.score(g, local, branch=b, valid=valid, embeddings=emb)
                branch_loss = ranking_loss(s.global_logits, y, cfg.margin) + ranking_loss(s.local_logits, y, cfg.margin)
                loss = loss + weights[b] * branch_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total_loss += float(loss.detach())
            reporter.advance(1, metrics={"loss": float(loss.detach()), "epoch": epoch + 1})
        model.eval()
        record: dict[str, float] = {"epoch": epoch + 1, "loss": total_loss / steps_per_epoch, "lr": lr}
        if held is not None and held_name is not None:
            record["heldout_map"], _ = _evaluate(model, held, held_name)
        result.history.append(record)
        current = record.get("heldout_map", -1.0) if cfg.select_on == "heldout_map" else float(epoch)
        improved = current > best_map
        if improved:
            best_map, best_epoch = current, epoch + 1
        log.info("epoch %d/%d loss %.4f held-out mAP %s", epoch + 1, cfg.epochs, record["loss"],
                 f"{record['heldout_map']:.2f}" if "heldout_map" in record else "n/a")
        reporter.report("epoch done", metrics=record, force=True)
        if ckpt_dir is not None:
            ckpt_dir.mkdir(parents=True, exist_ok=True)
            if improved:
                _save_checkpoint(ckpt_dir / "best.safetensors", model, opt, {"epoch": epoch + 1})
            _save_checkpoint(ckpt_dir / "last.safetensors", model, opt, {"epoch": epoch + 1})
            meta = {"run_key": run_key, "epoch": epoch + 1, "best_map": best_map, "best_epoch": best_epoch,
                    "history": result.history}
            tmp = ckpt_dir / "last.json.tmp"
            tmp.write_text(json.dumps(meta))
            os.replace(tmp, ckpt_dir / "last.json")
        elif improved:
            best_state = model.head_state_dict()
    if ckpt_dir is not None and cfg.select_on == "heldout_map" and (ckpt_dir / "best.safetensors").exists():
        tensors = load_file(str(ckpt_dir / "best.safetensors"), device=str(model.backbone.device))
        model.load_head_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})
    elif ckpt_dir is None and cfg.select_on == "heldout_map" and best_epoch:
        model.load_head_state_dict(best_state)
    result.best_epoch = best_epoch
    _score_heldout(model, held_name, held, result)
    result.seconds = time.monotonic() - t0
    return result
