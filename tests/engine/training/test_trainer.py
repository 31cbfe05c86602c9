"""Training on a small separable problem: the loss falls, held-out mAP rises, CLIP stays frozen, resume is exact."""

from __future__ import annotations

import hashlib

import pytest
import torch
import torch.nn.functional as F

from engine.clip.config import ModelConfig
from engine.clip.model import T2IPAL
from engine.errors import Cancelled, ConfigError
from engine.progress import CancelToken
from engine.training.config import TrainConfig
from engine.training.features import ImageFeatures, TextFeatures
from engine.training.losses import ranking_loss
from engine.training.trainer import BranchData, FitData, fit

NAMES = ["red", "green", "blue", "yellow"]


def _separable(n: int, d: int, hw: int, seed: int, text: bool = False) -> BranchData:
    """Each class owns a random direction; a sample's features sum its classes' directions plus noise."""
    gen = torch.Generator().manual_seed(seed)
    dirs = F.normalize(torch.randn(len(NAMES), d, generator=torch.Generator().manual_seed(99)), dim=-1)
    y = (torch.rand(n, len(NAMES), generator=gen) < 0.35).float()
    y[y.sum(1) == 0, 0] = 1
    g = F.normalize(y @ dirs + 0.3 * torch.randn(n, d, generator=gen), dim=-1)
    # local map: each present class lights up one position, the rest is noise
    local = 0.3 * torch.randn(n, hw, d, generator=gen)
    for i in range(n):
        for j, c in enumerate(torch.nonzero(y[i]).flatten().tolist()):
            local[i, j] += dirs[c]
    local = F.normalize(local, dim=-1)
    if text:
        valid = torch.ones(n, hw, dtype=torch.bool)
        valid[:, -1] = False
        return BranchData(TextFeatures(g, local, valid), y)
    return BranchData(ImageFeatures(g, local), y)


def _data(d: int) -> FitData:
    return FitData(image=_separable(96, d, 4, 1), text=_separable(96, d, 6, 2, text=True),
                   heldout_image=_separable(48, d, 4, 3))


def _checksum(module: torch.nn.Module) -> str:
    h = hashlib.sha1()
    for k, v in sorted(module.state_dict().items()):
        h.update(k.encode() + v.numpy().tobytes())
    return h.hexdigest()


CFG = TrainConfig(epochs=8, batch_size=32, lr=0.01, warmup_epochs=1, seed=3)


def test_ranking_loss_matches_the_definition():
    s = torch.tensor([[2.0, 0.5, 1.8], [0.0, 0.2, -1.0]])
    y = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    # sample 0: pairs (0,1): max(0, 1-2+0.5)=0; (2,1): max(0,1-1.8+0.5)=0 -> 0 ... sample 1: (1,0): 0.8, (1,2): 0
    assert ranking_loss(s, y).item() == pytest.approx((0.0 + 0.0 + 0.8 + 0.0) / 2)


def test_loss_falls_heldout_map_rises_and_clip_stays_frozen(tiny_backbone):
    before = _checksum(tiny_backbone.model)
    model = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=4), seed=3)
    data = _data(tiny_backbone.embed_dim)
    zero_epoch = fit(T2IPAL(tiny_backbone, NAMES, ModelConfig(variant="zeroshot")), data, CFG)
    result = fit(model, data, CFG)
    losses = [h["loss"] for h in result.history]
    assert losses[-1] < 0.75 * losses[0]
    assert result.heldout_map > zero_epoch.heldout_map + 10
    assert result.history[-1]["heldout_map"] > result.history[0]["heldout_map"] + 10
    assert _checksum(tiny_backbone.model) == before
    assert len(result.thresholds) == len(NAMES) and len(result.per_class_ap) == len(NAMES)
    assert abs(sum(result.per_class_ap) / len(NAMES) - result.heldout_map) < 1e-6


def test_cancel_then_resume_reaches_the_same_weights(tiny_backbone, tmp_path):
    data = _data(tiny_backbone.embed_dim)
    straight = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=4), seed=3)
    fit(straight, data, CFG, checkpoint_dir=tmp_path / "a")

    token = CancelToken()
    steps = {"n": 0}

    def cancel_after_some_steps(event):
        steps["n"] += 1
        if event.stage == "training" and event.done >= 10:
            token.set()

    first = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=4), seed=3)
    with pytest.raises(Cancelled):
        fit(first, data, CFG, checkpoint_dir=tmp_path / "b", progress=cancel_after_some_steps, cancel=token)
    resumed = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=4), seed=3)
    result = fit(resumed, data, CFG, checkpoint_dir=tmp_path / "b")
    assert result.resumed_from is not None and result.resumed_from >= 1
    for key, value in straight.head_state_dict().items():
        torch.testing.assert_close(resumed.head_state_dict()[key], value, atol=1e-6, rtol=1e-5)


def test_training_is_deterministic_under_a_seed(tiny_backbone):
    data = _data(tiny_backbone.embed_dim)
    runs = []
    for _ in range(2):
        m = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=4), seed=5)
        fit(m, data, TrainConfig(epochs=2, batch_size=32, lr=0.05, seed=5))
        runs.append(m.head_state_dict())
    for key in runs[0]:
        assert torch.equal(runs[0][key], runs[1][key])


def test_variant_without_its_data_is_refused(tiny_backbone):
    data = FitData(text=_separable(16, tiny_backbone.embed_dim, 6, 2, text=True))
    with pytest.raises(ConfigError, match="t2i"):
        fit(T2IPAL(tiny_backbone, NAMES, ModelConfig(variant="t2i", n_ctx=2)), data, CFG)


def test_bad_train_configs_name_the_field():
    for kwargs, field in [({"epochs": 0}, "epochs"), ({"lr": -1.0}, "lr"), ({"lambda_img": 1.5}, "lambda_img"),
                          ({"warmup_epochs": 6, "epochs": 6}, "warmup_epochs"), ({"batch_size": 2.5}, "batch_size")]:
        with pytest.raises(ConfigError) as info:
            TrainConfig(**kwargs)
        assert info.value.field == field
