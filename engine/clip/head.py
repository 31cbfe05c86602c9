"""The T2I-PAL scoring head as pure tensor functions (METHOD.md §3, §5), shared by training and ONNX."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Scores:
    """Logits of one branch: global s_g, local s_l (prompt + adapter), merged, and the heatmap (B, N, C)."""

    global_logits: torch.Tensor
    local_logits: torch.Tensor
    merged: torch.Tensor
    heatmap: torch.Tensor


def spatial_aggregate(
    local: torch.Tensor,
    class_local: torch.Tensor,
    inv_tau: torch.Tensor | float,
    valid: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eq. 2-3: S = x^l Lc^T, H = softmax_N(S / tau + mask); returns (sum_N H*S, H, S)."""
    sim = local @ class_local.t()  # (B, N, C)
    logits = sim * inv_tau
    if valid is not None:
        logits = logits.masked_fill(~valid[:, :, None], -1e4)
    heat = torch.softmax(logits, dim=1)
    return (heat * sim).sum(dim=1), heat, sim


def attended_features(heat: torch.Tensor, local: torch.Tensor) -> torch.Tensor:
    """Eq. 4: a_{b,c} = sum_j H[b,j,c] x^l_{b,j}, L2-normalised -> (B, C, D)."""
    return F.normalize(torch.einsum("bnc,bnd->bcd", heat, local), dim=-1)


def prototype_affinity(features: torch.Tensor, prototypes: torch.Tensor, beta: torch.Tensor | float) -> torch.Tensor:
    """Eq. 5: phi = exp(-beta (1 - <a, w>)) with unit-norm prototype rows.

    `features` is (B, C, D) (one attended feature per class) or (B, D) (the global-adapter ablation).
    """
    w = F.normalize(prototypes, dim=-1)
    cos = (features * w[None]).sum(-1) if features.dim() == 3 else features @ w.t()
    return torch.exp(-beta * (1.0 - cos))


def score_branch(
    g: torch.Tensor,
    local: torch.Tensor,
    class_global: torch.Tensor,
    class_local: torch.Tensor,
    prototypes: torch.Tensor | None,
    *,
    kappa: float,
    inv_tau: torch.Tensor | float,
    alpha: torch.Tensor | float,
    beta: torch.Tensor | float,
    rho: float,
    adapter: str = "local",
    valid: torch.Tensor | None = None,
) -> Scores:
    """One branch (image or text) of T2I-PAL: s_g, s_l = s_p + alpha*phi (Eq. 6), merged rho*s_g + (1-rho)*s_l."""
    s_g = kappa * (g @ class_global.t())
    pooled, heat, _ = spatial_aggregate(local, class_local, inv_tau, valid)
    s_l = kappa * pooled
    if prototypes is not None and adapter == "local":
        s_l = s_l + alpha * prototype_affinity(attended_features(heat, local), prototypes, beta)
    elif prototypes is not None and adapter == "global":
        s_g = s_g + alpha * prototype_affinity(g, prototypes, beta)
    return Scores(s_g, s_l, rho * s_g + (1.0 - rho) * s_l, heat)


def instant_scores(
    g: torch.Tensor, local: torch.Tensor, class_emb: torch.Tensor, scale: torch.Tensor | float
) -> Scores:
    """The training-free tagger (TagCLIP-style, docs/training.md): coarse patch classification, then a
    class-wise re-identification of each class's region.

    1. Coarse: every position j is classified among the C classes, ``P = softmax_C(scale * x^l_j . t_c)``;
       the class's coarse score is its best patch, ``max_j P[j, c]``.
    2. Local to global: the class's region ``R[:, c] = P[:, c] / sum_j P[j, c]`` pools the local features
       into one region feature ``a_c`` (L2-normalised), which is classified again among all classes;
       its probability of being c is the re-identification score.
    The score is the mean of the two, in [0, 1]; the heatmap is R. `g` is unused (kept for one signature):
    the global feature sees every object at once, which is what multi-label tagging must avoid.
    """
    del g
    sim = local @ class_emb.t()  # (B, N, C)
    patch = torch.softmax(scale * sim, dim=-1)
    coarse = patch.max(dim=1).values
    region = patch / patch.sum(dim=1, keepdim=True).clamp_min(1e-12)
    feats = attended_features(region, local)  # (B, C, D)
    reid = torch.softmax(scale * feats @ class_emb.t(), dim=-1).diagonal(dim1=1, dim2=2)  # (B, C)
    merged = 0.5 * (coarse + reid)
    return Scores(coarse, reid, merged, region)
