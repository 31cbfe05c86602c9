"""`t2ipal fetch clip MODEL TAG` / `t2ipal fetch sd MODEL_ID`: download weights once, on a connected machine."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine import hub
from engine.errors import ConfigError, EngineError, InputError, ModelNotFound

DEFAULT_SD = "stable-diffusion-v1-5/stable-diffusion-v1-5"
# Weight variants diffusers repos ship beside the default files; all but the chosen one are skipped.
KNOWN_VARIANTS = ("fp16", "bf16", "fp32", "non_ema", "ema_only")


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


@contextlib.contextmanager
def online() -> Iterator[None]:
    """Turn Hugging Face offline mode off for this process (env and, if loaded, the hub's constant); restore after."""
    before_env = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "0"
    constants = sys.modules.get("huggingface_hub.constants")
    before_const = getattr(constants, "HF_HUB_OFFLINE", None) if constants is not None else None
    if constants is not None:
        constants.HF_HUB_OFFLINE = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if before_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = before_env
        if constants is not None:
            constants.HF_HUB_OFFLINE = before_const  # type: ignore[attr-defined]
        elif "huggingface_hub.constants" in sys.modules:  # first imported while online: read the restored env
            loaded = sys.modules["huggingface_hub.constants"]
            loaded.HF_HUB_OFFLINE = hub.offline(before_env or "")  # type: ignore[attr-defined]


def _endpoint() -> str:
    return os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


def download_error(what: str, exc: BaseException) -> EngineError:
    """A download failure as a one-line, actionable error."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    cause = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    if type(exc).__name__ in ("RepositoryNotFoundError", "GatedRepoError"):
        return ModelNotFound(
            f"could not download {what}: the repository was not found at {_endpoint()} or needs a login "
            f"(accept its licence on the website, then `hf auth login`). Cause: {cause}"
        )
    return ModelNotFound(
        f"could not download {what}: this machine seems offline or cannot reach {_endpoint()}. Check the network "
        f"connection (and proxy), or HF_ENDPOINT if you use a mirror. Cause: {cause}"
    )


def _caused_by_io(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, OSError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else ([path] if path.is_file() else [])
    return len(files), sum(p.stat().st_size for p in files)


def fetch_clip(model: str, tag: str | None, cache_dir: str | None) -> str:
    """Download and load-check open_clip weights; returns the checkpoint file (or the cache folder)."""
    with online():
        from engine import torch_ready

        torch_ready()
        import open_clip

        from engine.clip.backbone import _register_configs

        _register_configs(None)
        if not model.startswith("hf-hub:"):
            if model not in open_clip.list_models():
                raise ConfigError("model", f"{model!r} is not a known open_clip model; see `open_clip.list_models()`")
            tags = open_clip.list_pretrained_tags_by_model(model)
            if not tag:
                raise InputError(f"give a pretrained TAG for {model}: one of {', '.join(tags) or '(none known)'}")
            if tag not in tags:
                raise InputError(f"{model} has no pretrained tag {tag!r}; known tags: {', '.join(tags) or '(none)'}")
        try:
            open_clip.create_model(model, pretrained=tag, cache_dir=cache_dir)
            cfg: Any = open_clip.get_pretrained_cfg(model, tag) if tag else None
            where = open_clip.download_pretrained(cfg, cache_dir=cache_dir) if cfg else ""  # a cache hit now
        except (OSError, ConnectionError) as exc:
            raise download_error(f"CLIP weights {model}/{tag}", exc) from exc
        except RuntimeError as exc:  # open_clip wraps hub errors: "Failed to download weights for tag ..."
            if not _caused_by_io(exc):
                raise
            raise download_error(f"CLIP weights {model}/{tag}", exc) from exc
    return str(where or cache_dir or hub.cache_dir())


def sd_patterns(variant: str | None) -> tuple[list[str], list[str]]:
    """(allow, ignore) patterns: configs, tokenizer files and the components' safetensors, no single-file ckpts."""
    allow = ["*.json", "*.txt", "*/*.model"]
    if variant:
        allow.append(f"*/*.{variant}.safetensors")
        ignore = [f"*.{v}.safetensors" for v in KNOWN_VARIANTS if v != variant]
    else:
        allow.append("*/*.safetensors")
        ignore = [f"*.{v}.safetensors" for v in KNOWN_VARIANTS]
    return allow, ignore


def fetch_sd(model_id: str, variant: str | None, revision: str | None, cache_dir: str | None) -> str:
    """Download a diffusers model snapshot; returns its folder."""
    allow, ignore = sd_patterns(variant)
    with online():
        import huggingface_hub

        try:
            path = huggingface_hub.snapshot_download(
                model_id, revision=revision, cache_dir=cache_dir, allow_patterns=allow, ignore_patterns=ignore
            )
        except (OSError, ConnectionError) as exc:
            raise download_error(f"text-to-image model {model_id}", exc) from exc
        except ValueError as exc:
            raise InputError(f"{model_id!r} is not a valid Hugging Face model id: {exc}") from exc
    return str(path)


def handler(args: argparse.Namespace) -> int:
    if args.what == "clip":
        path = fetch_clip(args.model, args.tag, args.cache_dir)
        label = f"CLIP {args.model}" + (f"/{args.tag}" if args.tag else "")
    else:
        path = fetch_sd(args.model_id, args.variant, args.revision, args.cache_dir)
        label = f"text-to-image model {args.model_id}" + (f" ({args.variant})" if args.variant else "")
    count, size = _folder_size(Path(path))
    print(f"{label}: {count} file(s), {size / 1e6:.0f} MB in {path}")
    print("Every other command reads it offline from there; to use it on another machine copy the Hugging Face "
          f"cache ({args.cache_dir or hub.cache_dir()}) over, or set HF_HUB_CACHE to its copy.", file=sys.stderr)
    return 0
