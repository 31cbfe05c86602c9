"""`t2ipal train`: captions (+ synthetic images) -> a T2I-PAL model folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.cli.common import (
    add_backbone_args,
    add_device_args,
    apply_overrides,
    backbone_overrides,
    load_json_sections,
    resolve_labels,
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "train",
        help="train T2I-PAL prompts and adapter on captions and synthetic images",
        description="Train T2I-PAL on a frozen CLIP. Inputs are CSV files: captions.csv with columns "
        "caption,labels and images.csv with columns path,labels (labels joined by ';'; an optional group "
        "column ties an image to the caption it was rendered from). Resumes after a cancel.",
    )
    p.add_argument("--project", help="project folder: its label set, stored captions and synthetic images")
    p.add_argument("--labels", help="bundled label set, label-set file, labels.txt or 'a,b,c' (with CSV inputs)")
    p.add_argument("--captions", help="captions.csv (caption,labels[,group])")
    p.add_argument("--images", help="images.csv (path,labels[,group]) of synthetic images")
    p.add_argument("--out", help="model folder to write (default with --project: PROJECT/models/current)")
    p.add_argument("--config", help="JSON with optional sections backbone, model, train")
    p.add_argument("--variant", help="t2ipal (default), t2ipal_noadapter, t2i, taidpt, zeroshot, ...")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--lambda-img", type=float, help="weight of the image branch loss (0..1)")
    p.add_argument("--n-ctx", type=int, help="context tokens per prompt")
    p.add_argument("--seed", type=int)
    p.add_argument("--cache", help="feature cache folder (default: next to the model folder)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_backbone_args(p)
    add_device_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli.progress_bar import cli_job
    from engine.clip.backbone import BackboneConfig
    from engine.clip.model import ModelConfig
    from engine.datasets.csv_sets import from_csv
    from engine.errors import InputError
    from engine.training.job import train_model
    from engine.training.trainer import TrainConfig

    sections = load_json_sections(args.config)
    backbone_cfg = apply_overrides(BackboneConfig.from_dict(sections.get("backbone", {})), backbone_overrides(args))
    model_cfg = ModelConfig.from_dict(sections.get("model", {})).replace(variant=args.variant, n_ctx=args.n_ctx)
    train_cfg = TrainConfig.from_dict(sections.get("train", {})).replace(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, lambda_img=args.lambda_img, seed=args.seed
    )
    if args.project:
        from engine.project import project_at
        from engine.training.project_data import training_set_from_project

        project = project_at(args.project)
        dataset = training_set_from_project(project)
        out = Path(args.out) if args.out else project.model_dir
        cache = Path(args.cache) if args.cache else project.feature_cache_dir
    else:
        if not args.labels or not args.out or not (args.captions or args.images):
            raise InputError("give --project DIR, or --labels, --out and --captions and/or --images")
        dataset = from_csv(resolve_labels(args.labels), args.captions, args.images)
        out = Path(args.out)
        cache = Path(args.cache) if args.cache else out.parent / ".feature-cache"
    with cli_job(args.no_progress) as (progress, cancel):
        result = train_model(
            dataset, out, backbone_cfg=backbone_cfg, model_cfg=model_cfg, train_cfg=train_cfg, cache_dir=cache,
            device=args.device, precision=args.precision, progress=progress, cancel=cancel,
        )
    held = f"{result.heldout_map:.2f}" if result.heldout_map is not None else "n/a"
    print(f"model written to {out}")
    print(f"best epoch {result.best_epoch}, held-out mAP ({result.heldout_branch}) {held}, {result.seconds:.1f} s")
    print(json.dumps({"history": result.history}, indent=None)[:2000])
    return 0
