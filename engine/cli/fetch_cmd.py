"""`t2ipal fetch clip MODEL TAG` / `t2ipal fetch sd MODEL_ID`: download weights once, on a connected machine."""

from __future__ import annotations

import argparse
import sys

from engine import hub
from engine.api.weights import DEFAULT_SD, fetch_clip, fetch_sd
from engine.cli.progress_bar import cli_job


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "fetch",
        help="download CLIP or Stable Diffusion weights into the Hugging Face cache (needs the network)",
        description="Download model weights once on a connected machine; every other command then runs offline "
        "(downloads are off by default, HF_HUB_OFFLINE=1). Copy the cache folder that is printed to an offline "
        "machine, or point HF_HOME/HF_HUB_CACHE at it.",
    )
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    c = sub.add_parser("clip", help="CLIP weights for training and tagging (open_clip)",
                       description="Download open_clip weights, e.g. `t2ipal fetch clip RN50 openai`.")
    c.add_argument("model", metavar="MODEL",
                   help="open_clip model name (RN50, RN101, ViT-B-16, ...) or 'hf-hub:ORG/REPO'")
    c.add_argument("tag", metavar="TAG", nargs="?", help="pretrained tag, e.g. openai (not needed for hf-hub: names)")
    c.add_argument("--cache-dir", metavar="DIR", help="where the weights go (default: the Hugging Face cache)")
    c.set_defaults(func=handler)
    s = sub.add_parser("sd", help="a Stable Diffusion (diffusers) model for image synthesis",
                       description=f"Download a diffusers text-to-image model, e.g. `t2ipal fetch sd {DEFAULT_SD}`. "
                       "Only configs, tokenizer files and safetensors weights of the components are fetched.")
    s.add_argument("model_id", metavar="MODEL_ID", help=f"Hugging Face model id, e.g. {DEFAULT_SD}")
    s.add_argument("--variant", help="weight variant, e.g. fp16 (half the download; use the same --variant in synth)")
    s.add_argument("--revision", help="branch, tag or commit (default: main)")
    s.add_argument("--cache-dir", metavar="DIR", help="where the files go (default: the Hugging Face cache)")
    s.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    with cli_job() as (progress, cancel):
        if args.what == "clip":
            result = fetch_clip(args.model, args.tag, cache_dir=args.cache_dir, progress=progress, cancel=cancel)
        else:
            result = fetch_sd(args.model_id, variant=args.variant, revision=args.revision, cache_dir=args.cache_dir,
                              progress=progress, cancel=cancel)
    print(f"{result.what}: {result.files} file(s), {result.size_bytes / 1e6:.0f} MB in {result.path}")
    print("Every other command reads it offline from there; to use it on another machine copy the Hugging Face "
          f"cache ({args.cache_dir or hub.cache_dir()}) over, or set HF_HUB_CACHE to its copy.", file=sys.stderr)
    return 0
