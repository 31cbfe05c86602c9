"""Training losses: TaI-DPT's ranking loss, its partial-label form (known pairs only), and BCE."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _hinge(scores: torch.Tensor, margin: float) -> torch.Tensor:
    """(B, C, C): max(0, margin - s_i + s_j) for every ordered class pair (i, j)."""
    return (margin - scores[:, :, None] + scores[:, None, :]).clamp_min(0.0)


def ranking_loss(scores: torch.Tensor, labels: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """mean_b sum_{i in pos, j in neg} max(0, margin - s_bi + s_bj)  (METHOD.md Eq. 7)."""
    pos = labels > 0.5
    pairs = pos[:, :, None] & ~pos[:, None, :]
    return (_hinge(scores, margin) * pairs).sum(dim=(1, 2)).mean()


def partial_ranking_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    known: torch.Tensor,
    margin: float = 1.0,
    unknown_weight: float = 0.0,
) -> torch.Tensor:
    """The ranking loss over *known* pairs only: (known positive i, known negative j) of each image.

    `known` (B, C) is True where a person said yes or no. With `unknown_weight` > 0, pairs (known positive,
    unknown) count too, with that weight (unknown labels as weak negatives). An unknown label's score
    never changes the loss when `unknown_weight` is 0.
    """
    pos = (labels > 0.5) & known
    neg = (labels <= 0.5) & known
    weights = (pos[:, :, None] & neg[:, None, :]).float()
    if unknown_weight > 0.0:
        weights = weights + unknown_weight * (pos[:, :, None] & ~known[:, None, :]).float()
    return (_hinge(scores, margin) * weights).sum(dim=(1, 2)).mean()


def masked_bce(scores: torch.Tensor, labels: torch.Tensor, known: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy on the known labels (all labels when `known` is None), summed over classes."""
    loss = F.binary_cross_entropy_with_logits(scores, labels.float(), reduction="none")
    if known is not None:
        loss = loss * known.float()
    return loss.sum(dim=1).mean()
