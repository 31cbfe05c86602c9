"""Frozen CLIP features computed once and cached on disk under a content key, reused across runs."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.clip.backbone import ClipBackbone
from engine.errors import InputError
from engine.hashing import file_content_key, sha1_hex, text_key
from engine.imaging import preprocess_batch
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel

log = logging.getLogger(__name__)


@dataclass
class ImageFeatures:
    """Normalised global (N, D) and local (N, HW, D) image features."""

    g: torch.Tensor
    local: torch.Tensor


@dataclass
class TextFeatures:
    """Normalised EOT (N, D) and token features (N, L, D) with the valid-token mask (N, L)."""

    g: torch.Tensor
    local: torch.Tensor
    valid: torch.Tensor


def file_key(path: str | Path) -> str:
    """Feature-cache key of a training image: its content key."""
    try:
        return file_content_key(path)
    except OSError as exc:
        raise InputError(f"cannot read training image {path}: {exc}") from exc


def _atomic_save(tensors: dict[str, torch.Tensor], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        save_file({k: v.contiguous() for k, v in tensors.items()}, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class FeatureCache:
    """One safetensors file per image or caption under `root/<backbone fingerprint>/<kind>/`."""

    def __init__(self, root: str | Path, backbone: ClipBackbone, *, fp16: bool = False) -> None:
        self.backbone = backbone
        self.dtype = torch.float16 if fp16 else torch.float32
        spec = backbone.preprocess_spec
        spec_key = sha1_hex(repr(spec.to_dict()), 8)
        self.root = Path(root) / backbone.fingerprint
        self.image_dir = self.root / f"img-{spec_key}-{'fp16' if fp16 else 'fp32'}"
        self.text_dir = self.root / f"txt-{'fp16' if fp16 else 'fp32'}"

    def _path(self, folder: Path, key: str) -> Path:
        return folder / key[:2] / f"{key}.safetensors"

    def image_features(
        self,
        paths: Sequence[str | Path],
        *,
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> ImageFeatures:
        keys = [file_key(p) for p in paths]
        missing = sorted({k: p for k, p in zip(keys, paths, strict=True) if not self._path(self.image_dir, k).exists()}
                         .items())
        reporter = ProgressReporter(progress, "image features", len(missing))
        log.info("image features: %d cached, %d to compute", len(set(keys)) - len(missing), len(missing))
        for start in range(0, len(missing), batch_size):
            check_cancel(cancel)
            chunk = missing[start : start + batch_size]
            batch = torch.from_numpy(preprocess_batch([p for _, p in chunk], self.backbone.preprocess_spec))
            with torch.no_grad():
                g, local = self.backbone.image_features(batch.to(self.backbone.device))
            for i, (key, _) in enumerate(chunk):
                _atomic_save({"g": g[i].to("cpu", self.dtype), "l": local[i].to("cpu", self.dtype)},
                             self._path(self.image_dir, key))
            reporter.advance(len(chunk))
        loaded = [load_file(self._path(self.image_dir, k)) for k in keys]
        if not loaded:
            d = self.backbone.embed_dim
            return ImageFeatures(torch.zeros(0, d), torch.zeros(0, self.backbone.grid[0] * self.backbone.grid[1], d))
        return ImageFeatures(torch.stack([x["g"] for x in loaded]), torch.stack([x["l"] for x in loaded]))

    def text_features(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 256,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> TextFeatures:
        keys = [text_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if not self._path(self.text_dir, k).exists()}
                         .items())
        reporter = ProgressReporter(progress, "caption features", len(missing))
        for start in range(0, len(missing), batch_size):
            check_cancel(cancel)
            chunk = missing[start : start + batch_size]
            tokens = self.backbone.tokenize([t for _, t in chunk])
            with torch.no_grad():
                g, local, valid = self.backbone.text_features(tokens)
            for i, (key, _) in enumerate(chunk):
                n = int(valid[i].nonzero().max().item()) + 1  # up to the EOT token
                _atomic_save({"g": g[i].to("cpu", self.dtype), "l": local[i, :n].to("cpu", self.dtype)},
                             self._path(self.text_dir, key))
            reporter.advance(len(chunk))
        loaded = [load_file(self._path(self.text_dir, k)) for k in keys]
        d = self.backbone.embed_dim
        if not loaded:
            return TextFeatures(torch.zeros(0, d), torch.zeros(0, 1, d), torch.zeros(0, 1, dtype=torch.bool))
        length = max(x["l"].shape[0] for x in loaded)
        local = torch.zeros(len(loaded), length, d, dtype=self.dtype)
        valid = torch.zeros(len(loaded), length, dtype=torch.bool)
        for i, x in enumerate(loaded):
            n = x["l"].shape[0]
            local[i, :n] = x["l"]
            valid[i, :n] = True
        return TextFeatures(torch.stack([x["g"] for x in loaded]), local, valid)
