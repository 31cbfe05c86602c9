"""Frozen open_clip backbone with dense image features (global + per-position) and token-level text features."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

from engine import hub, torch_ready
from engine.errors import ArtifactError, ConfigError, ModelNotFound
from engine.hashing import content_digest, sha1_hex
from engine.imaging import OPENAI_MEAN, OPENAI_STD, PreprocessSpec

torch_ready()

import open_clip  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from engine.clip.config import BackboneConfig  # noqa: E402
from engine.clip.tokenizers import Tokenizer, get_tokenizer  # noqa: E402

log = logging.getLogger(__name__)

MODEL_CONFIG_DIR = Path(__file__).resolve().parent.parent / "model_configs"
_registered_dirs: set[str] = set()


def _register_configs(extra: str | None) -> None:
    for folder in (str(MODEL_CONFIG_DIR), extra):
        if folder and folder not in _registered_dirs:
            if not Path(folder).is_dir():
                raise ConfigError("model_config_dir", f"{folder} is not a folder of open_clip model JSON files")
            open_clip.add_model_config(folder)
            _registered_dirs.add(folder)


def _fetch_hint(model_name: str, pretrained: str | None) -> str:
    repo = ""
    if pretrained and not os.path.exists(pretrained):
        try:
            cfg = open_clip.get_pretrained_cfg(model_name, pretrained)
            repo = cfg.get("hf_hub", "") if cfg else ""
        except Exception:  # noqa: BLE001 - only used to enrich the message
            repo = ""
    cache = hub.cache_dir()
    where = f" (Hugging Face repo {repo.rstrip('/')})" if repo else ""
    return (
        f"CLIP weights {model_name}/{pretrained}{where} are not available offline. Fetch them once on a "
        f"connected machine with `HF_HUB_OFFLINE=0 t2ipal fetch clip {model_name} {pretrained}` (they go to "
        f"{cache}), or download the checkpoint file yourself and pass its path as `pretrained`."
    )


def check_safetensors_file(path: str | Path) -> None:
    """Refuse a local checkpoint that is not a readable safetensors file (pickles are never loaded: they run code)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            fh.keys()
        return
    except Exception as exc:  # safetensors raises its own error type (and OSError)
        reason = str(exc)
    with open(path, "rb") as raw:
        head = raw.read(4)
    if head.startswith(b"PK") or head[:1] == b"\x80":
        raise ArtifactError(
            f"{path} is a PyTorch pickle checkpoint (.pt/.bin); T2I-PAL Tagger loads only safetensors files, "
            "because loading a pickle can run code hidden in it. Download the model's .safetensors file instead"
        )
    raise ArtifactError(f"{path} is not a valid safetensors file ({reason}); download it again")


def _create_open_clip(cfg: BackboneConfig, device: str, precision: str) -> Any:
    _register_configs(cfg.model_config_dir)
    kwargs: dict[str, Any] = {"precision": precision, "device": device, "cache_dir": cfg.cache_dir}
    if cfg.image_size is not None:
        kwargs["force_image_size"] = cfg.image_size
    pretrained = cfg.pretrained
    if pretrained and (pretrained.endswith((".safetensors", ".bin", ".pt", ".pth")) or os.sep in pretrained):
        if not Path(pretrained).is_file():
            raise ModelNotFound(f"CLIP checkpoint file {pretrained} does not exist; check the path")
        check_safetensors_file(pretrained)
    try:
        try:
            return open_clip.create_model(cfg.model_name, pretrained=pretrained, **kwargs)
        except RuntimeError as exc:
            if "attnpool.positional_embedding" not in str(exc) or "force_image_size" not in kwargs:
                raise
            # ResNet weights carry a pos-embed of their native size (STACK.md P3): build at native size;
            # the pool runs at any size (pos-embed off, or interpolated in ClipBackbone._pos_embed).
            del kwargs["force_image_size"]
            return open_clip.create_model(cfg.model_name, pretrained=pretrained, **kwargs)
    except RuntimeError as exc:
        text = str(exc)
        if "not found" in text and "config" in text.lower():
            raise ConfigError("model_name", f"{cfg.model_name!r} is not a known open_clip model: {text}") from exc
        if "download" in text.lower() or "hub" in text.lower() or "offline" in text.lower():
            raise ModelNotFound(_fetch_hint(cfg.model_name, pretrained)) from exc
        raise
    except (OSError, ValueError) as exc:
        if "offline" in str(exc).lower() or "connect" in str(exc).lower() or isinstance(exc, FileNotFoundError):
            raise ModelNotFound(_fetch_hint(cfg.model_name, pretrained)) from exc
        raise


def _preprocess_spec(model: Any, image_size: int) -> PreprocessSpec:
    pcfg = getattr(model.visual, "preprocess_cfg", None) or {}
    mode = pcfg.get("resize_mode", "shortest")
    return PreprocessSpec(
        size=image_size,
        mean=tuple(pcfg.get("mean", OPENAI_MEAN)),  # type: ignore[arg-type]
        std=tuple(pcfg.get("std", OPENAI_STD)),  # type: ignore[arg-type]
        resize_mode="squash" if mode == "squash" else "shortest",
        interpolation="bilinear" if pcfg.get("interpolation") == "bilinear" else "bicubic",
    )


def _weights_fingerprint(module: nn.Module) -> str:
    digest = content_digest()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class ClipBackbone(nn.Module):
    """A frozen CLIP exposing the features T2I-PAL needs; every output is L2-normalised."""

    def __init__(self, model: Any, tokenizer: Tokenizer, cfg: BackboneConfig) -> None:
        super().__init__()
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tokenizer = tokenizer
        self.cfg = cfg
        visual = model.visual
        self.kind = "resnet" if hasattr(visual, "attnpool") else "vit"
        if self.kind == "resnet":
            size = visual.image_size
        else:
            size = visual.image_size[0] if isinstance(visual.image_size, tuple) else visual.image_size
        self.image_size = int(cfg.image_size or (size if isinstance(size, int) else size[0]))
        self.preprocess_spec = _preprocess_spec(model, self.image_size)
        self.embed_dim = int(model.text_projection.shape[1] if model.text_projection is not None else 0) or int(
            model.transformer.width
        )
        self.token_width = int(model.token_embedding.weight.shape[1])
        self.context_length = int(model.context_length)
        self._fingerprint: str | None = None
        with torch.no_grad():
            probe = torch.zeros(1, 3, self.image_size, self.image_size, dtype=self.dtype, device=self.device)
            self.grid = self._grid_of(probe)

    def with_pos_embed(self) -> ClipBackbone:
        """The same frozen weights with the global feature pooled with the positional embedding (ResNets).

        Zero-shot CLIP as TaI-DPT defines it needs this; the local features do not change. Returns self when
        nothing would change (ViTs always add their positional embedding; the flag is already on).
        """
        if self.kind != "resnet" or self.cfg.use_pos_embed:
            return self
        return ClipBackbone(self.model, self.tokenizer, self.cfg.replace(use_pos_embed=True))

    # ---- identity -------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.model.token_embedding.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.token_embedding.weight.dtype

    @property
    def fingerprint(self) -> str:
        """Content key of the weights and feature definition (changes when either changes)."""
        if self._fingerprint is None:
            extra = f"{self.cfg.model_name}|{self.image_size}|{self.cfg.use_pos_embed}|{self.kind}"
            self._fingerprint = sha1_hex(extra + _weights_fingerprint(self.model), 20)
        return self._fingerprint

    def _grid_of(self, probe: torch.Tensor) -> tuple[int, int]:
        if self.kind == "resnet":
            fmap = self.feature_map(probe)
            return int(fmap.shape[2]), int(fmap.shape[3])
        _, local = self.image_features(probe)
        side = int(round(math.sqrt(local.shape[1])))
        return side, local.shape[1] // side

    # ---- image side ---------------------------------------------------------------------------------
    def feature_map(self, images: torch.Tensor) -> torch.Tensor:
        """ResNet layer-4 map (B, C_v, h, w), before the attention pool."""
        v = self.model.visual
        x = v.stem(images.to(self.dtype))
        return v.layer4(v.layer3(v.layer2(v.layer1(x))))  # type: ignore[no-any-return]

    def _pos_embed(self, h: int, w: int) -> torch.Tensor:
        pos = self.model.visual.attnpool.positional_embedding  # (1 + S*S, C_v)
        side = int(round(math.sqrt(pos.shape[0] - 1)))
        if (side, side) == (h, w):
            return pos  # type: ignore[no-any-return]
        grid = pos[1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid.float(), size=(h, w), mode="bicubic", align_corners=False).to(pos.dtype)
        return torch.cat([pos[:1], grid.permute(0, 2, 3, 1).reshape(h * w, -1)], 0)

    def pool_dense(self, fmap: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention-pool global feature and per-position local features, as plain matmuls (ONNX-friendly)."""
        ap = self.model.visual.attnpool
        b, c, h, w = fmap.shape
        x = fmap.flatten(2).transpose(1, 2)  # (B, HW, C_v)
        tokens = torch.cat([x.mean(dim=1, keepdim=True), x], dim=1)  # (B, 1+HW, C_v)
        if self.cfg.use_pos_embed:
            tokens = tokens + self._pos_embed(h, w).to(tokens.dtype)[None]
        v = ap.v_proj(tokens)
        # local features: value + output projection per position, never with the positional embedding (TaI-DPT)
        local = ap.c_proj(ap.v_proj(x) if self.cfg.use_pos_embed else v[:, 1:])
        heads, hd = ap.num_heads, c // ap.num_heads
        q = ap.q_proj(tokens[:, :1]).reshape(b, 1, heads, hd).transpose(1, 2)
        k = ap.k_proj(tokens).reshape(b, -1, heads, hd).transpose(1, 2)
        vh = v.reshape(b, -1, heads, hd).transpose(1, 2)
        attn = torch.softmax((q * hd**-0.5) @ k.transpose(-1, -2), dim=-1)  # (B, heads, 1, 1+HW)
        pooled = (attn @ vh).transpose(1, 2).reshape(b, c)
        return ap.c_proj(pooled), local

    def image_features_raw(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Unnormalised (global (B, D), local (B, HW, D))."""
        if self.kind == "resnet":
            return self.pool_dense(self.feature_map(images))
        v = self.model.visual
        v.output_tokens = True  # open_clip returns (pooled, tokens) only with this flag
        try:
            pooled, tokens = v(images.to(self.dtype))
        finally:
            v.output_tokens = False
        local = tokens @ v.proj if v.proj is not None else tokens
        return pooled, local

    def image_features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g, local = self.image_features_raw(images)
        return F.normalize(g.float(), dim=-1), F.normalize(local.float(), dim=-1)

    # ---- text side ----------------------------------------------------------------------------------
    def tokenize(self, texts: list[str]) -> torch.Tensor:
        return self.tokenizer(list(texts)).to(self.device)

    def _transformer(self, embeds: torch.Tensor) -> torch.Tensor:
        """Token embeddings (B, L, d) -> projected per-token features (B, L, D), causal, truncated to L."""
        m = self.model
        length = embeds.shape[1]
        x = embeds + m.positional_embedding[:length].to(embeds.dtype)
        mask = m.attn_mask[:length, :length] if m.attn_mask is not None else None
        x = m.ln_final(m.transformer(x, attn_mask=mask))
        proj = m.text_projection
        if proj is None:
            return x  # type: ignore[no-any-return]
        return proj(x) if isinstance(proj, nn.Linear) else x @ proj  # type: ignore[no-any-return]

    def text_features(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Caption tokens (B, L) -> EOT feature (B, D), token features (B, L', D), valid mask (B, L').

        The sequence is truncated to the longest real caption (the tower is causal, so this is exact).
        """
        tokens = tokens.to(self.device)
        eot = tokens.argmax(dim=-1)
        length = int(eot.max().item()) + 1
        tokens = tokens[:, :length]
        feats = self._transformer(self.model.token_embedding(tokens))
        g = feats[torch.arange(tokens.shape[0], device=tokens.device), eot]
        return F.normalize(g.float(), dim=-1), F.normalize(feats.float(), dim=-1), tokens != 0

    def encode_embedded(self, embeds: torch.Tensor, eot: torch.Tensor) -> torch.Tensor:
        """Prompt embeddings (C, L, d) with EOT positions (C,) -> normalised EOT features (C, D)."""
        feats = self._transformer(embeds)
        return F.normalize(feats[torch.arange(embeds.shape[0], device=embeds.device), eot].float(), dim=-1)

    def encode_texts(self, texts: list[str], batch_size: int = 256) -> torch.Tensor:
        """Plain sentences -> normalised EOT features (B, D), as CLIP's encode_text."""
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                out.append(self.text_features(self.tokenize(texts[start : start + batch_size]))[0])
        return torch.cat(out) if out else torch.zeros(0, self.embed_dim)


def load_backbone(cfg: BackboneConfig, *, device: str = "cpu", precision: str = "fp32") -> ClipBackbone:
    """Create the open_clip model for `cfg` on an explicit device/precision and wrap it, frozen."""
    model = _create_open_clip(cfg, device, precision)
    if not hasattr(model, "token_embedding"):
        raise ConfigError(
            "model_name", f"{cfg.model_name} uses a custom text tower; only CLIP-style built-in text towers work"
        )
    tokenizer = get_tokenizer(cfg.tokenizer, cfg.model_name, int(model.context_length))
    backbone = ClipBackbone(model, tokenizer, cfg)
    log.info("loaded CLIP %s (%s) on %s, grid %s", cfg.model_name, cfg.pretrained, device, backbone.grid)
    return backbone
