"""The TaI-DPT ranking loss (margin hinge over positive/negative class pairs, no pair normalisation)."""

from __future__ import annotations

import torch


def ranking_loss(scores: torch.Tensor, labels: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """mean_b sum_{i in pos, j in neg} max(0, margin - s_bi + s_bj)  (METHOD.md Eq. 7)."""
    pos = labels > 0.5
    pairs = pos[:, :, None] & ~pos[:, None, :]
    hinge = (margin - scores[:, :, None] + scores[:, None, :]).clamp_min(0.0)
    return (hinge * pairs).sum(dim=(1, 2)).mean()
