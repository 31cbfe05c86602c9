"""The end-to-end train job: load CLIP, cache features, split, fit, calibrate thresholds, save the model folder."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import torch

from engine.artifact import save_pretrained
from engine.clip.backbone import ClipBackbone, load_backbone
from engine.clip.config import BackboneConfig, ModelConfig
from engine.clip.model import T2IPAL
from engine.datasets.reviewed import ReviewedPhotos
from engine.datasets.training_set import TrainingSet
from engine.device import resolve
from engine.errors import InputError
from engine.progress import CancelToken, ProgressCallback, check_cancel
from engine.training.config import TrainConfig
from engine.training.features import FeatureCache
from engine.training.trainer import BranchData, FitData, TrainResult, fit
from engine.training.variants import with_template_sentences

log = logging.getLogger(__name__)


def checkpoint_dir_for(out_dir: Path) -> Path:
    return out_dir.with_name(out_dir.name + ".checkpoints")


def build_fit_data(
    backbone: ClipBackbone,
    train: TrainingSet,
    heldout: TrainingSet,
    cache: FeatureCache,
    branches: tuple[str, ...],
    cfg: TrainConfig,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FitData:
    """Cached features for the branches the variant needs (held-out images are always scored for selection)."""
    data = FitData()
    need_images = "image" in branches or not train.captions
    for part, name in ((train, ""), (heldout, "heldout_")):
        check_cancel(cancel)
        if part.image_paths and (need_images or name):
            feats = cache.image_features(part.image_paths, batch_size=cfg.feature_batch_size,
                                         progress=progress, cancel=cancel)
            setattr(data, f"{name}image", BranchData(feats, torch.from_numpy(part.image_labels).float()))
        if part.captions and ("text" in branches or name):
            feats_t = cache.text_features(part.captions, progress=progress, cancel=cancel)
            setattr(data, f"{name}text", BranchData(feats_t, torch.from_numpy(part.caption_labels).float()))
    return data


def add_reviewed_photos(
    data: FitData, photos: ReviewedPhotos, cache: FeatureCache, cfg: TrainConfig, *,
    progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
) -> None:
    """Reviewed photos' features (through the same content-keyed cache) and partial labels as the photo branch."""
    if not len(photos):
        return
    feats = cache.image_features(photos.paths, batch_size=cfg.feature_batch_size, progress=progress, cancel=cancel)
    data.photo = BranchData(feats, torch.from_numpy(photos.labels).float(), torch.from_numpy(photos.known))


def warm_start(model: T2IPAL, init_from: str | Path) -> None:
    """Load the head (prompts, adapter) of the model folder `init_from` into `model`: retraining starts there."""
    from engine.artifact import ModelArtifact

    artifact = ModelArtifact.from_pretrained(init_from)
    if list(artifact.labelset.prompt_names) != list(model.classnames):
        raise InputError(f"{init_from} was trained on other labels; train from scratch to use the new label set")
    if artifact.model_cfg.variant != model.cfg.variant:
        raise InputError(f"{init_from} is a {artifact.model_cfg.variant} model; retrain it as that variant")
    head = {k[5:]: v.to(model.backbone.device) for k, v in artifact.tensors.items() if k.startswith("head.")}
    try:
        model.load_head_state_dict(head)
    except KeyError as exc:
        raise InputError(f"{init_from} has another head shape ({exc}); train from scratch") from exc
    log.info("warm start from %s", init_from)


def train_model(
    dataset: TrainingSet,
    out_dir: str | Path,
    *,
    backbone_cfg: BackboneConfig,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    cache_dir: str | Path,
    device: str = "auto",
    precision: str = "auto",
    backbone: ClipBackbone | None = None,
    photos: ReviewedPhotos | None = None,
    init_from: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> TrainResult:
    """Train T2I-PAL (or a baseline variant) and write the model folder `out_dir`; resumable after a cancel.

    `photos`: reviewed photos with partial labels, trained with the partial-label loss next to the captions
    and renders. `init_from`: a model folder whose head the training starts from (warm start).
    """
    out_dir = Path(out_dir)
    placement = resolve(device, precision)
    model_cfg = model_cfg.for_labelset(dataset.labels.training_defaults)
    train_cfg = train_cfg.for_variant(model_cfg.variant, dataset.labels.training_defaults)
    torch.manual_seed(train_cfg.seed)
    backbone = backbone or load_backbone(backbone_cfg, device=placement.device, precision=placement.precision)
    train, heldout = dataset.split(train_cfg.heldout_fraction, train_cfg.seed)
    if model_cfg.spec.template_sentences:
        train = with_template_sentences(train)
    log.info("training on %d captions / %d images, held out %d / %d", len(train.captions),
             len(train.image_paths), len(heldout.captions), len(heldout.image_paths))
    model = T2IPAL(backbone, dataset.labels.prompt_names, model_cfg, seed=train_cfg.seed)
    if init_from is not None:
        warm_start(model, init_from)
    # the model's backbone: zero-shot (TaI-DPT) pools its global feature with the positional embedding
    cache = FeatureCache(cache_dir, model.backbone, fp16=train_cfg.fp16_features)
    data = build_fit_data(model.backbone, train, heldout, cache, model_cfg.branches, train_cfg,
                          progress=progress, cancel=cancel)
    if photos is not None:
        add_reviewed_photos(data, photos, cache, train_cfg, progress=progress, cancel=cancel)
    ckpt = checkpoint_dir_for(out_dir)
    result = fit(model, data, train_cfg, checkpoint_dir=ckpt if model_cfg.learned else None,
                 progress=progress, cancel=cancel)
    if result.per_class_ap:
        result.extra["per_label_ap"] = dict(zip(dataset.labels.names, result.per_class_ap, strict=True))
    summary = {
        "variant": model_cfg.variant,
        "best_epoch": result.best_epoch,
        "heldout_map": result.heldout_map,
        "heldout_branch": result.heldout_branch,
        "per_label_ap": result.extra.get("per_label_ap", {}),
        "history": result.history,
        "train": train_cfg.to_dict(),
        "sizes": {"captions": len(train.captions), "images": len(train.image_paths),
                  "heldout_captions": len(heldout.captions), "heldout_images": len(heldout.image_paths),
                  "reviewed_photos": len(photos) if photos is not None else 0},
        "warm_start": str(init_from) if init_from is not None else None,
    }
    calibration = result.calibration.to_dict() if result.calibration is not None else None
    save_pretrained(model, out_dir, dataset.labels, thresholds=result.thresholds or None, summary=summary,
                    calibration=calibration)
    shutil.rmtree(ckpt, ignore_errors=True)
    result.model_dir = str(out_dir)
    return result
