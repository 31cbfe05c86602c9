"""Argument groups and small helpers shared by CLI commands (backbone options, label sets, devices)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InputError

if TYPE_CHECKING:
    pass


def add_device_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    parser.add_argument("--precision", default="auto", help="auto (fp16 on CUDA, fp32 on CPU), fp32, fp16, bf16")


def add_backbone_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("CLIP backbone")
    g.add_argument("--backbone", dest="model_name", default=None,
                   help="open_clip model name (RN50, RN101, ViT-B-16, ...), 'local-dir:PATH' or 'hf-hub:ORG/REPO'")
    g.add_argument("--pretrained", default=None,
                   help="weights: a tag such as 'openai', a checkpoint file, or 'none' for random init")
    g.add_argument("--image-size", type=int, default=None, help="input size (ResNets accept any size)")
    g.add_argument("--use-pos-embed", action="store_true", default=None,
                   help="pool the global feature with the positional embedding (default: off, as TaI-DPT)")
    g.add_argument("--tokenizer", default=None, help="tokenizer name (default: the model's own)")


def backbone_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Only the flags the user gave; `--pretrained none` becomes an explicit None (random init)."""
    given = {
        "model_name": args.model_name,
        "pretrained": args.pretrained,
        "image_size": args.image_size,
        "use_pos_embed": args.use_pos_embed,
        "tokenizer": args.tokenizer,
    }
    out = {k: v for k, v in given.items() if v is not None}
    if isinstance(out.get("pretrained"), str) and out["pretrained"].lower() == "none":
        out["pretrained"] = None
    return out


def apply_overrides(cfg: Any, overrides: dict[str, Any]) -> Any:
    """`dataclasses.replace` that keeps explicit None values (unlike ConfigBase.replace)."""
    import dataclasses

    return dataclasses.replace(cfg, **overrides)


def load_json_sections(path: str | None) -> dict[str, Any]:
    """A config file with optional sections "backbone", "model" and "train" (merge: defaults -> file -> flags)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"config file {path} does not exist") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    unknown = set(data) - {"backbone", "model", "train"}
    if unknown:
        raise InputError(f"{path}: unknown sections {sorted(unknown)}; use backbone, model and train")
    return dict(data)
