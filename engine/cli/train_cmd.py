"""`t2ipal train`: captions (+ synthetic images) -> a T2I-PAL model folder."""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine.cli.common import (
    add_backbone_args,
    add_device_args,
    apply_overrides,
    backbone_overrides,
    load_json_sections,
)
from engine.cli.project_args import project_from_args
from engine.clip.config import VARIANTS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "train",
        help="train T2I-PAL prompts and adapter on captions and synthetic images",
        description="Train T2I-PAL on a frozen CLIP. Inputs are CSV files: captions.csv with columns "
        "caption,labels and images.csv with columns path,labels (labels joined by ';'; an optional group "
        "column ties an image to the caption it was rendered from). Resumes after a cancel.",
    )
    p.add_argument("--project", "-p", help="project folder: trains on its label set, captions and synthetic images "
                   "and makes the result the project's model")
    p.add_argument("--labels", help="bundled label set, label-set file, labels.txt or 'a,b,c' (with CSV inputs, "
                   "or to store in a --project that has none)")
    p.add_argument("--with-decisions", action="store_true", help="with --project: retrain the project's model on "
                   "its captions, renders and the photos you reviewed (confirmed / rejected / added tags), starting "
                   "from the current model; then export it and re-tag the project's folders")
    p.add_argument("--captions", help="captions.csv (caption,labels[,group])")
    p.add_argument("--images", help="images.csv (path,labels[,group]) of synthetic images")
    p.add_argument("--out", help="model folder to write (default with --project: PROJECT/models/current)")
    p.add_argument("--config", help="JSON with optional sections backbone, model, train")
    p.add_argument("--variant", choices=list(VARIANTS), help="the method (default t2ipal); each brings its own "
                   "defaults, e.g. taidpt: one shared context, lr 1e-4 at batch 512 (docs/training.md)")
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
    from engine import api
    from engine.cli.progress_bar import cli_job
    from engine.clip.config import BackboneConfig, ModelConfig
    from engine.errors import InputError
    from engine.training.config import TrainConfig

    sections = load_json_sections(args.config)
    backbone_cfg = apply_overrides(BackboneConfig.from_dict(sections.get("backbone", {})), backbone_overrides(args))
    model_section = {**sections.get("model", {}), **({"variant": args.variant} if args.variant else {})}
    model_cfg = ModelConfig.from_dict(model_section).replace(n_ctx=args.n_ctx)  # the variant's defaults apply
    train_cfg = TrainConfig.from_dict(sections.get("train", {})).replace(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, lambda_img=args.lambda_img, seed=args.seed
    )
    configs = dict(backbone=backbone_cfg, model=model_cfg, train=train_cfg, device=args.device,
                   precision=args.precision)
    if args.project:
        if args.out or args.cache or args.captions or args.images:
            raise InputError("with --project, training reads the project's captions and synthetic images and writes "
                             "its model; --out, --cache, --captions and --images are for training without a project")
        project = project_from_args(args)
        if args.with_decisions:
            return _retrain(args, project)
        with cli_job(args.no_progress) as (progress, cancel):
            result = api.train(project, **configs, progress=progress, cancel=cancel)
    else:
        if args.with_decisions:
            raise InputError("--with-decisions retrains a project's model: give --project DIR")
        if not args.labels or not args.out or not (args.captions or args.images):
            raise InputError("give --project DIR, or --labels, --out and --captions and/or --images")
        labels = api.resolve_labels(args.labels)
        with cli_job(args.no_progress) as (progress, cancel):
            result = api.train_from_files(labels, args.out, captions_csv=args.captions, images_csv=args.images,
                                          cache=args.cache, **configs, progress=progress, cancel=cancel)
    held = f"{result.heldout_map:.2f}" if result.heldout_map is not None else "n/a"
    print(f"model written to {result.model_dir}")
    print(f"best epoch {result.best_epoch}, held-out mAP ({result.heldout_branch}) {held}, {result.seconds:.1f} s")
    print(json.dumps({"history": result.history}, indent=None)[:2000])
    if args.project:
        print(f"next: t2ipal export --project {args.project}")
    return 0


def _retrain(args: argparse.Namespace, project: Any) -> int:
    from engine import api
    from engine.cli.progress_bar import cli_job

    with cli_job(args.no_progress) as (progress, cancel):
        out = api.retrain_with_decisions(project, epochs=args.epochs, device=args.device, progress=progress,
                                         cancel=cancel)
    print(f"retrained on {out.photos} reviewed photos ({out.decisions} decisions) in {out.train.seconds:.1f} s; "
          f"exported and re-tagged {out.tagged} photos in {len(out.folders)} folders; every decision kept")
    return 0
