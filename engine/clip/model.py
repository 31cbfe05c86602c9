"""The T2I-PAL model: class prompts + shared prototype adapter over a frozen CLIP, and its baselines."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.clip.backbone import ClipBackbone
from engine.clip.config import ModelConfig
from engine.clip.head import Scores, instant_scores, score_branch
from engine.clip.prompts import PromptLearner
from engine.errors import ConfigError


class T2IPAL(nn.Module):
    """Prompts (global + local) and prototypes W shared by the image and the text branch (METHOD.md §3)."""

    zs_embeddings: torch.Tensor

    def __init__(
        self,
        backbone: ClipBackbone,
        classnames: list[str],
        cfg: ModelConfig | None = None,
        *,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.cfg = cfg = cfg or ModelConfig()
        if not classnames:
            raise ConfigError("classnames", "need at least one class")
        self.classnames = list(classnames)
        if cfg.spec.global_pos_embed:
            backbone = backbone.with_pos_embed()
        self.backbone = backbone
        generator = torch.Generator().manual_seed(seed)
        template_emb = backbone.encode_texts([cfg.template.format(c) for c in classnames]).float()
        self.prompts: PromptLearner | None = None
        if cfg.learned:
            self.prompts = PromptLearner(
                backbone, classnames, n_ctx=cfg.n_ctx, class_specific=bool(cfg.class_specific),
                init_std=cfg.ctx_init_std, generator=generator,
            ).to(backbone.device)
        else:
            self.register_buffer("zs_embeddings", template_emb.clone())
        self.prototypes: nn.Parameter | None = None
        if cfg.adapter != "none":
            init = template_emb if cfg.adapter_init == "text" else torch.randn(
                template_emb.shape, generator=generator
            ) * 0.02
            self.prototypes = nn.Parameter(init.clone().to(backbone.device))
        self.log_alpha = nn.Parameter(torch.tensor(math.log(max(cfg.alpha, 1e-8))), requires_grad=cfg.learn_alpha)
        self.log_tau_scale = nn.Parameter(torch.zeros(()), requires_grad=cfg.learn_tau)

    def train(self, mode: bool = True) -> T2IPAL:
        """Train mode for the head only: the frozen CLIP (and its BatchNorm statistics) always stays in eval."""
        super().train(mode)
        self.backbone.eval()
        return self

    # ---- parameters ---------------------------------------------------------------------------------
    def head_parameters(self) -> list[nn.Parameter]:
        """Everything that trains (CLIP never does)."""
        return [p for n, p in self.named_parameters() if not n.startswith("backbone.") and p.requires_grad]

    def head_state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.state_dict().items() if not k.startswith("backbone.")}

    def load_head_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        expected = set(self.head_state_dict())
        missing, unexpected = expected - set(state), set(state) - expected
        if missing or unexpected:
            raise KeyError(f"head state mismatch: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
        full = dict(self.state_dict())
        full.update(state)
        self.load_state_dict(full, strict=True)

    @property
    def alpha(self) -> torch.Tensor:
        return self.log_alpha.exp()

    def inv_tau(self, branch: str) -> torch.Tensor:
        base = self.cfg.image_inv_tau if branch == "image" else self.cfg.inv_tau_text
        return base * self.log_tau_scale.exp()

    # ---- scoring ------------------------------------------------------------------------------------
    def class_embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(G, Lc), each (C, D) and normalised; a pass through the text tower when prompts are learned."""
        if self.prompts is None:
            emb = self.zs_embeddings
            return emb, emb
        return self.prompts(self.backbone)

    def score(
        self,
        g: torch.Tensor,
        local: torch.Tensor,
        *,
        branch: str = "image",
        valid: torch.Tensor | None = None,
        embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> Scores:
        """Score precomputed, normalised features of one branch ("image" or "text")."""
        class_global, class_local = embeddings if embeddings is not None else self.class_embeddings()
        if self.cfg.spec.scoring == "instant":
            return instant_scores(g.float(), local.float(), class_global, self.cfg.instant_scale)
        return score_branch(
            g.float(), local.float(), class_global, class_local, self.prototypes,
            kappa=self.cfg.logit_scale, inv_tau=self.inv_tau(branch), alpha=self.alpha, beta=self.cfg.beta,
            rho=self.cfg.merge_rho, adapter=self.cfg.adapter, valid=valid,
        )

    def forward(self, images: torch.Tensor) -> Scores:
        """Images (B, 3, S, S), already preprocessed -> image-branch scores."""
        with torch.no_grad():
            g, local = self.backbone.image_features(images)
        return self.score(g, local, branch="image")

    def constants(self) -> dict[str, torch.Tensor]:
        """Everything inference needs without the text tower: G, Lc, W (normalised) and the scalars."""
        with torch.no_grad():
            class_global, class_local = self.class_embeddings()
            out = {
                "class_global": class_global.detach().float().cpu().clone(),
                "class_local": class_local.detach().float().cpu().clone(),
                "alpha": self.alpha.detach().float().cpu().reshape(()),
                "inv_tau": self.inv_tau("image").detach().float().cpu().reshape(()),
            }
            if self.prototypes is not None:
                out["prototypes"] = F.normalize(self.prototypes.detach().float(), dim=-1).cpu()
        return out
