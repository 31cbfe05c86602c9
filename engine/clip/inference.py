"""TaggerModule: images -> (scores, heatmaps) with all class constants frozen in; what ONNX export traces."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.clip.backbone import ClipBackbone
from engine.clip.config import ModelConfig
from engine.clip.head import instant_scores, score_branch


class TaggerModule(nn.Module):
    """Frozen inference graph: CLIP image tower + T2I-PAL head; no text tower at run time."""

    class_global: torch.Tensor
    class_local: torch.Tensor
    alpha: torch.Tensor
    inv_tau: torch.Tensor
    prototypes: torch.Tensor | None

    def __init__(
        self,
        backbone: ClipBackbone,
        constants: dict[str, torch.Tensor],
        *,
        kappa: float,
        beta: float,
        rho: float,
        adapter: str,
        scoring: str = "t2ipal",
        instant_scale: float = 100.0,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        dev = backbone.device
        self.register_buffer("class_global", constants["class_global"].float().to(dev))
        self.register_buffer("class_local", constants["class_local"].float().to(dev))
        self.register_buffer("alpha", constants["alpha"].float().reshape(()).to(dev))
        self.register_buffer("inv_tau", constants["inv_tau"].float().reshape(()).to(dev))
        has_prototypes = "prototypes" in constants and adapter != "none"
        self.register_buffer(
            "prototypes", constants["prototypes"].float().to(dev) if has_prototypes else None
        )
        self.kappa, self.beta, self.rho, self.adapter = kappa, beta, rho, adapter if has_prototypes else "none"
        self.scoring, self.instant_scale = scoring, instant_scale
        self.grid = backbone.grid

    @property
    def num_classes(self) -> int:
        return int(self.class_global.shape[0])

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g, local = self.backbone.image_features(images)
        if self.scoring == "instant":
            scores = instant_scores(g, local, self.class_global, self.instant_scale)
        else:
            scores = score_branch(
                g, local, self.class_global, self.class_local, self.prototypes,
                kappa=self.kappa, inv_tau=self.inv_tau, alpha=self.alpha, beta=self.beta, rho=self.rho,
                adapter=self.adapter,
            )
        h, w = self.grid
        heat = scores.heatmap.transpose(1, 2).reshape(images.shape[0], self.num_classes, h, w)
        return scores.merged, heat


def tagger_from_model(model: nn.Module) -> TaggerModule:
    """Freeze a trained T2IPAL into a TaggerModule (class embeddings computed once)."""
    from engine.clip.model import T2IPAL

    if not isinstance(model, T2IPAL):
        raise TypeError("expected a T2IPAL model")
    return TaggerModule(model.backbone, model.constants(), **tagger_settings(model.cfg)).eval()


def tagger_settings(cfg: ModelConfig) -> dict[str, Any]:
    """The scalar settings of a TaggerModule for a model config (merge, adapter, scoring of its variant)."""
    return {"kappa": cfg.logit_scale, "beta": cfg.beta, "rho": cfg.merge_rho, "adapter": cfg.adapter,
            "scoring": cfg.spec.scoring, "instant_scale": cfg.instant_scale}
