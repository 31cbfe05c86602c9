"""Engine job compositions the GUI runs through workers.py (each runs in a pool thread, opens its own DB)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.project import Project


@dataclass
class SynthesisOptions:
    backend: str = "diffusers"
    model: str = ""
    steps: int = 30
    guidance_scale: float = 7.5
    images_per_caption: int = 1
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. width/height for tiny models


@dataclass
class TrainingOptions:
    clip_model: str = "RN50"
    pretrained: str | None = "openai"
    variant: str = "t2ipal"
    epochs: int = 10
    device: str = "auto"
    extra_backbone: dict[str, Any] = field(default_factory=dict)
    extra_train: dict[str, Any] = field(default_factory=dict)


def run_synthesis(project: Project, opts: SynthesisOptions, *, progress=None, cancel=None):  # noqa: ANN001, ANN201
    from engine.captions.store import CaptionStore
    from engine.errors import InputError
    from engine.synthesis import SynthesisConfig, create_backend, synthesize
    from engine.training.project_data import load_project_labelset

    labelset = load_project_labelset(project)
    db = project.open_db()
    try:
        items = [{"text": c.text, "labels": list(c.labels), "id": c.id}
                 for c in CaptionStore(db).iter_captions(labelset.name) if c.labels]
        if not items:
            raise InputError("no captions mention any label yet; add captions in the Captions panel")
        if opts.backend == "diffusers":
            options = {"model": opts.model or None, "steps": opts.steps, "guidance_scale": opts.guidance_scale,
                       **opts.extra}
        else:  # model / steps / CFG are diffusers settings; other backends (e.g. "demo") take only their own
            options = dict(opts.extra)
        backend = create_backend(opts.backend, **{k: v for k, v in options.items() if v is not None})
        cfg = SynthesisConfig(images_per_caption=opts.images_per_caption)
        return synthesize(items, backend, project, cfg, db=db, progress=progress, cancel=cancel)
    finally:
        db.conn.close()


def synthetic_records(project: Project) -> list[Any]:
    from engine.synthesis import Manifest

    db = project.open_db()
    try:
        return Manifest(db, project.synthetic_dir).records()
    finally:
        db.conn.close()


def run_training(project: Project, opts: TrainingOptions, *, progress=None, cancel=None):  # noqa: ANN001, ANN201
    from engine.clip.backbone import BackboneConfig
    from engine.clip.model import ModelConfig
    from engine.training.job import train_model
    from engine.training.project_data import training_set_from_project
    from engine.training.trainer import TrainConfig

    dataset = training_set_from_project(project)
    backbone_cfg = BackboneConfig(model_name=opts.clip_model, pretrained=opts.pretrained or None, **opts.extra_backbone)
    train_cfg = TrainConfig(epochs=opts.epochs, **opts.extra_train)
    model_cfg = ModelConfig(variant=opts.variant)
    return train_model(dataset, project.model_dir, backbone_cfg=backbone_cfg, model_cfg=model_cfg,
                       train_cfg=train_cfg, cache_dir=project.feature_cache_dir, device=opts.device,
                       progress=progress, cancel=cancel)


def run_export(project: Project, *, progress=None, cancel=None):  # noqa: ANN001, ANN201
    from engine.export.onnx_export import export_onnx

    out = project.onnx_path
    out.parent.mkdir(parents=True, exist_ok=True)
    return export_onnx(project.model_dir, out, progress=progress, cancel=cancel)


def run_tagging(project: Project, folders: list[str], *, progress=None, cancel=None):  # noqa: ANN001, ANN201
    from engine.tagging.runner import TagConfig, tag_folders

    return tag_folders(folders, project.onnx_path, project.db_path, TagConfig(store_all_scores=True),
                       progress=progress, cancel=cancel)


def delete_synthetic(project: Project, records: list[Any]) -> int:
    """Delete bad synthetic images: their files and manifest rows (a later run renders replacements)."""
    from engine.synthesis import Manifest

    db = project.open_db()
    try:
        manifest = Manifest(db, project.synthetic_dir)
        for r in records:
            Path(project.synthetic_dir / r.path).unlink(missing_ok=True)
            manifest.remove(r.params_hash, [(r.caption_key, r.index)])
    finally:
        db.conn.close()
    return len(records)
