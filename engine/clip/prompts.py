"""Learned class prompts: [SOS, V_1..V_M, name tokens, ".", EOS] with context spliced into token embeddings."""

from __future__ import annotations

import torch
from torch import nn

from engine.clip.backbone import ClipBackbone
from engine.errors import ConfigError


class PromptLearner(nn.Module):
    """Global and local context vectors (class-specific or shared), encoded by the frozen text tower.

    Only the context is trainable; the token embeddings of the class names are fixed buffers, and the
    sequence is truncated to its real length (the text tower is causal, so this changes nothing but speed).
    """

    prefix: torch.Tensor
    suffix: torch.Tensor
    eot: torch.Tensor

    def __init__(
        self,
        backbone: ClipBackbone,
        classnames: list[str],
        *,
        n_ctx: int = 16,
        class_specific: bool = True,
        init_std: float = 0.02,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        tokens = backbone.tokenize([f"{name}." for name in classnames])
        eot = tokens.argmax(dim=-1)
        length = int(eot.max().item()) + 1 + n_ctx
        if length > backbone.context_length:
            raise ConfigError(
                "n_ctx", f"{n_ctx} context tokens + the longest class name exceed the text context "
                f"({backbone.context_length}); shorten the names or use fewer context tokens"
            )
        with torch.no_grad():
            emb = backbone.model.token_embedding(tokens).float()
        self.register_buffer("prefix", emb[:, :1].clone(), persistent=False)
        self.register_buffer("suffix", emb[:, 1 : length - n_ctx].clone(), persistent=False)
        self.register_buffer("eot", eot + n_ctx, persistent=False)
        rows = len(classnames) if class_specific else 1
        width = backbone.token_width
        self.n_ctx = n_ctx
        self.ctx_global = nn.Parameter(torch.randn(rows, n_ctx, width, generator=generator) * init_std)
        self.ctx_local = nn.Parameter(torch.randn(rows, n_ctx, width, generator=generator) * init_std)

    def embeddings(self, ctx: torch.Tensor) -> torch.Tensor:
        n_cls = self.prefix.shape[0]
        ctx = ctx.expand(n_cls, -1, -1) if ctx.shape[0] == 1 else ctx
        return torch.cat([self.prefix, ctx, self.suffix], dim=1)

    def forward(self, backbone: ClipBackbone) -> tuple[torch.Tensor, torch.Tensor]:
        """(G, Lc): normalised global and local class embeddings (C, D), one text-tower pass for both."""
        n_cls = self.prefix.shape[0]
        both = torch.cat([self.embeddings(self.ctx_global), self.embeddings(self.ctx_local)], 0)
        feats = backbone.encode_embedded(both.to(backbone.dtype), torch.cat([self.eot, self.eot]))
        return feats[:n_cls], feats[n_cls:]
