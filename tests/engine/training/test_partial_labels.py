"""Partial labels: the loss uses known pairs only; reviewed photos from decisions; warm start loads the head."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.datasets.reviewed import ReviewedPhotos
from engine.training.losses import partial_ranking_loss, ranking_loss


def _case() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    scores = torch.tensor([[2.0, 0.5, -1.0, 0.8], [0.1, 1.5, 0.7, -0.2]])
    labels = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    known = torch.tensor([[True, True, False, False], [True, True, True, False]])
    return scores, labels, known


def test_an_unknown_labels_score_leaves_the_loss_unchanged() -> None:
    scores, labels, known = _case()
    base = partial_ranking_loss(scores, labels, known)
    moved = scores.clone()
    moved[0, 3] = 9.0  # unknown on photo 0: above its known positive
    moved[1, 3] = 5.0
    assert float(partial_ranking_loss(moved, labels, known)) == pytest.approx(float(base))
    moved[0, 1] = 9.0  # a known negative above the positive: the loss must rise
    assert float(partial_ranking_loss(moved, labels, known)) > float(base) + 1.0


def test_known_pairs_only_and_weak_negatives() -> None:
    scores, labels, known = _case()
    # photo 0: pair (0, 1): max(0, 1 - 2 + 0.5) = 0; photo 1: pairs (1, 0) 0, (1, 2) max(0, 1 - 1.5 + 0.7) = 0.2
    assert float(partial_ranking_loss(scores, labels, known)) == pytest.approx(0.1)
    # fully known: the same as the ranking loss
    all_known = torch.ones_like(known)
    assert float(partial_ranking_loss(scores, labels, all_known)) == pytest.approx(float(ranking_loss(scores, labels)))
    # weak negatives: photo 0's unknown label 3 (0.8) against the positive 2.0 -> 0; label 2 -> 0
    # photo 1's unknown 3: max(0, 1 - 1.5 - 0.2) = 0 -> unchanged here; move it up to make it count
    moved = scores.clone()
    moved[1, 3] = 1.4
    weak = partial_ranking_loss(moved, labels, known, unknown_weight=0.5)
    assert float(weak) == pytest.approx(0.1 + 0.5 * (1 - 1.5 + 1.4) / 2)


def test_reviewed_photos_from_decisions() -> None:
    decisions = [("/a.jpg", "cat", "confirmed"), ("/a.jpg", "dog", "rejected"), ("/b.jpg", "car", "manual"),
                 ("/b.jpg", "unicorn", "confirmed")]
    photos = ReviewedPhotos.from_decisions(["cat", "dog", "car"], decisions)
    assert photos.paths == ["/a.jpg", "/b.jpg"]
    assert photos.labels.tolist() == [[1, 0, 0], [0, 0, 1]]
    assert photos.known.tolist() == [[True, True, False], [False, False, True]]


def test_warm_start_loads_the_current_head(tiny_backbone, tmp_path) -> None:
    from engine.artifact import save_pretrained
    from engine.clip.config import ModelConfig
    from engine.clip.model import T2IPAL
    from engine.labels.labelset import LabelSet
    from engine.training.job import warm_start

    labels = LabelSet.from_dict({"name": "t", "labels": ["circle", "square"]})
    trained = T2IPAL(tiny_backbone, labels.prompt_names, ModelConfig(n_ctx=2), seed=1)
    with torch.no_grad():
        for p in trained.head_parameters():
            p.add_(torch.randn_like(p))
    save_pretrained(trained, tmp_path / "m", labels, thresholds=[0.5, 0.5])
    fresh = T2IPAL(tiny_backbone, labels.prompt_names, ModelConfig(n_ctx=2), seed=2)
    assert not all(torch.equal(a, b) for a, b in zip(fresh.head_parameters(), trained.head_parameters(), strict=True))
    warm_start(fresh, tmp_path / "m")
    for (name, a), b in zip(fresh.head_state_dict().items(), trained.head_state_dict().values(), strict=True):
        assert torch.allclose(a, b), name
    other = LabelSet.from_dict({"name": "t", "labels": ["circle", "star"]})
    from engine.errors import InputError

    with pytest.raises(InputError, match="other labels"):
        warm_start(T2IPAL(tiny_backbone, other.prompt_names, ModelConfig(n_ctx=2)), tmp_path / "m")


def test_photo_branch_trains_on_known_pairs(tiny_backbone) -> None:
    """A photo branch whose only known labels are positive/negative pairs moves the head; unknowns are ignored."""
    from engine.clip.config import ModelConfig
    from engine.clip.model import T2IPAL
    from engine.training.config import TrainConfig
    from engine.training.features import ImageFeatures
    from engine.training.trainer import BranchData, FitData, fit

    gen = torch.Generator().manual_seed(0)
    d, n = tiny_backbone.embed_dim, 8
    g = torch.nn.functional.normalize(torch.randn(n, d, generator=gen), dim=-1)
    local = torch.nn.functional.normalize(torch.randn(n, 4, d, generator=gen), dim=-1)
    labels = torch.from_numpy(np.tile([1.0, 0.0], (n, 1))).float()
    known = torch.ones(n, 2, dtype=torch.bool)
    model = T2IPAL(tiny_backbone, ["circle", "square"], ModelConfig(variant="t2i", n_ctx=2), seed=1)
    before = model.score(g, local).merged.detach()
    fit(model, FitData(photo=BranchData(ImageFeatures(g, local), labels, known)),
        TrainConfig(epochs=3, warmup_epochs=0, lr=0.05, batch_size=4, select_on="last"))
    after = model.score(g, local).merged.detach()
    assert float((after[:, 0] - after[:, 1]).mean()) > float((before[:, 0] - before[:, 1]).mean())
