"""`t2ipal eval`: mAP, CF1 and OF1 of a model folder (or zero-shot CLIP) on a labelled image set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.cli.common import add_backbone_args, add_device_args, backbone_overrides
from engine.clip.config import training_free_variants


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "eval",
        help="evaluate a model (or zero-shot CLIP) on a labelled image set",
        description="Scores every image and prints mAP, CP/CR/CF1 and OP/OR/OF1 at the model's calibrated "
        "thresholds and at top-k. Data: --dataset voc2007|coco2014|nuswide --root PATH (official layouts), "
        "or --images images.csv (path,labels).",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="model folder written by `t2ipal train`")
    src.add_argument("--zeroshot", action="store_true", help="a training-free model with 'a photo of a {}.' prompts "
                     "(see --variant)")
    p.add_argument("--variant", choices=training_free_variants(), default="zeroshot",
                   help="with --zeroshot: zeroshot (TaI-DPT's definition, global + local), zeroshot_global "
                   "(global feature only) or instant (training-free local tagger)")
    p.add_argument("--dataset", choices=["voc2007", "coco2014", "nuswide"])
    p.add_argument("--root", help="dataset folder (official layout)")
    p.add_argument("--images", help="images.csv with columns path,labels")
    p.add_argument("--labels", help="label set for --images with --zeroshot (default: the model's)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--limit", type=int, help="evaluate only the first N images (smoke runs)")
    p.add_argument("--topk", type=int, default=3)
    p.add_argument("--json", help="also write the report as JSON here")
    p.add_argument("--no-progress", action="store_true")
    add_backbone_args(p)
    add_device_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine import api
    from engine.cli.progress_bar import cli_job

    with cli_job(args.no_progress) as (progress, cancel):
        report = api.evaluate(
            model_dir=args.model, dataset=args.dataset, root=args.root, images_csv=args.images,
            labels=api.resolve_labels(args.labels) if args.labels else None,
            backbone_overrides=backbone_overrides(args), variant=args.variant, limit=args.limit,
            batch_size=args.batch_size,
            topk=args.topk, device=args.device, precision=args.precision, progress=progress, cancel=cancel,
        )
    print(report.format_table())
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    return 0
