"""`t2ipal synth`: render images from captions (label set + captions -> cached synthetic images)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.cli.common import add_backbone_args, backbone_overrides
from engine.cli.project_args import add_labels_arg, add_project_arg, project_from_args
from engine.cli.ray_args import add_ray_args, ray_config_from_args
from engine.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "synth",
        help="render synthetic images from captions (resumable; Ctrl-C stops cleanly)",
        description="Render K images per caption with a text-to-image model into PROJECT/synthetic/, recorded in "
        "the project database. Cached images are skipped, so run the same command again to resume; a changed "
        "setting makes new images beside the old ones. Models load from the Hugging Face cache or a local folder; "
        "fetch one first with `t2ipal fetch sd stable-diffusion-v1-5/stable-diffusion-v1-5`.",
    )
    add_project_arg(p, required=True)
    p.add_argument(
        "--captions",
        metavar="FILE",
        help="captions to add to the project first: .txt (one per line) or .jsonl ({text, labels}); "
        "default: the captions already stored in the project",
    )
    add_labels_arg(p)
    g = p.add_argument_group("renderer")
    g.add_argument("--backend", default="diffusers", help="synthesis backend (default diffusers)")
    g.add_argument("--preset", help="sd15, sd21, sdxl, sd-turbo or sdxl-turbo (model + steps + guidance)")
    g.add_argument("--model", help="Hugging Face model id or local diffusers folder (default: SD 1.5)")
    g.add_argument("--steps", type=int, help="denoising steps (default 30; Turbo 1-4)")
    g.add_argument("--guidance", dest="guidance_scale", type=float, help="CFG scale (default 7.5; Turbo 0)")
    g.add_argument("--negative", dest="negative_prompt", help="negative prompt")
    g.add_argument("--template", dest="prompt_template", help="prompt template with {caption}")
    g.add_argument("--width", type=int, help="image width (default: the model's native size)")
    g.add_argument("--height", type=int, help="image height (default: the model's native size)")
    g.add_argument("--scheduler", help="ddim, pndm, lms, euler, euler_a, heun, dpm++, dpm++_karras, unipc, lcm")
    g.add_argument("--variant", help="weight variant, e.g. fp16")
    g.add_argument("--attention-slicing", action="store_true", default=None, help="less GPU memory, slower")
    g.add_argument("--device", default=None, help="auto (CUDA when available), cpu, cuda or cuda:N")
    g.add_argument("--precision", default=None, help="auto (fp16 on CUDA, fp32 on CPU), fp32, fp16, bf16")
    r = p.add_argument_group("run")
    r.add_argument("--images-per-caption", "-k", type=int, help="images per caption (default 1)")
    r.add_argument("--batch-size", type=int, help="images per model call (default 4; halved on out-of-memory)")
    r.add_argument("--seed", type=int, help="run seed (default 0)")
    r.add_argument("--limit", type=int, help="only the first N captions")
    r.add_argument("--verify", action="store_true", help="re-hash cached images and remake changed ones")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    q = p.add_argument_group("quality filter (frozen CLIP)")
    q.add_argument(
        "--quality-filter",
        action="store_true",
        help="score each image against its labels and flag images whose labels do not show (training can drop them)",
    )
    q.add_argument("--min-margin", type=float, default=None, help="label margin below which an image is flagged")
    add_backbone_args(p)
    add_ray_args(p, what="PROJECT/synthetic/ must then be a folder every worker reaches at the same path")
    p.set_defaults(func=handler)


def _read_captions_file(path: Path) -> list[Any]:
    if not path.is_file():
        raise InputError(f"captions file {path} does not exist")
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if path.suffix.lower() != ".jsonl":
        return lines
    out: list[Any] = []
    for n, ln in enumerate(lines, 1):
        try:
            row = json.loads(ln)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: not valid JSON: {exc.msg}") from exc
        out.append(row if isinstance(row, dict) else {"text": str(row)})
    return out


def _store_captions(project: Any, path: Path) -> None:
    """Add the captions of `--captions FILE` to the project (kept there for training)."""
    from engine import api

    raw = _read_captions_file(path)
    added = api.add_captions(project, raw, source=f"file:{path.name}")
    skipped = len(raw) - added
    print(f"stored {added} captions of {path.name} in the project", file=sys.stderr)
    if skipped:
        print(f"{skipped} captions mention no label (or were stored already) and are skipped", file=sys.stderr)


RENDER_OPTIONS = ("preset", "model", "steps", "guidance_scale", "negative_prompt", "prompt_template", "width",
                  "height", "scheduler", "variant", "attention_slicing", "device", "precision")


def handler(args: argparse.Namespace) -> int:
    from engine import api
    from engine.cli.progress_bar import cli_job
    from engine.synthesis import SynthesisConfig

    project = project_from_args(args, create=True)
    if args.captions:
        _store_captions(project, Path(args.captions))
    api.load_labels(project)
    cfg = SynthesisConfig().replace(
        images_per_caption=args.images_per_caption,
        batch_size=args.batch_size,
        seed=args.seed,
        on_existing="verify" if args.verify else None,
    )
    options = {k: getattr(args, k) for k in RENDER_OPTIONS}
    with cli_job(disable_bar=args.no_progress) as (progress, cancel):
        if args.ray is not None:
            result = api.synthesize_on_ray(project, backend=args.backend, backend_options=options, config=cfg,
                                           ray_config=ray_config_from_args(args), limit=args.limit,
                                           progress=progress, cancel=cancel)
        else:
            result = api.synthesize(project, backend=args.backend, backend_options=options, config=cfg,
                                    limit=args.limit, progress=progress, cancel=cancel)
        print(
            f"{result.planned} images planned: {result.made} made, {result.skipped} cached, {result.adopted} "
            f"recovered; {result.images_per_second:.2f} images/s; in {result.folder}",
            file=sys.stderr,
        )
        if args.quality_filter:
            from engine.clip.config import BackboneConfig

            overrides = backbone_overrides(args)  # "pretrained": None means random init, so keep it
            given = {k: v for k, v in overrides.items() if v is not None or k == "pretrained"}
            backbone = BackboneConfig.from_dict(given)
            q = api.filter_synthetic(project, result, backbone, min_margin=args.min_margin,
                                     device=args.device or "auto", precision=args.precision or "auto",
                                     progress=progress, cancel=cancel)
            print(f"quality filter: {q.scored} scored, {q.flagged} flagged", file=sys.stderr)
    return 0
