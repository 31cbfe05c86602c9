"""The T2I-PAL head: shapes, the heatmap, the shared adapter, variants, and what trains."""

from __future__ import annotations

import pytest
import torch

from engine.clip.config import VARIANTS, ModelConfig
from engine.clip.head import prototype_affinity, spatial_aggregate
from engine.clip.inference import tagger_from_model
from engine.clip.model import T2IPAL
from engine.errors import ConfigError

NAMES = ["dog", "cat", "dining table"]


def test_heatmap_is_a_spatial_softmax_and_masks_padding():
    local = torch.nn.functional.normalize(torch.randn(2, 5, 8), dim=-1)
    lc = torch.nn.functional.normalize(torch.randn(3, 8), dim=-1)
    valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    pooled, heat, sim = spatial_aggregate(local, lc, 10.0, valid)
    torch.testing.assert_close(heat.sum(1), torch.ones(2, 3))
    assert heat[0, 3:].abs().max() < 1e-6
    torch.testing.assert_close(pooled, (heat * sim).sum(1))


def test_prototype_affinity_is_one_at_the_prototype():
    w = torch.nn.functional.normalize(torch.randn(3, 8), dim=-1)
    phi = prototype_affinity(w[None].expand(2, 3, 8), w * 5.0, 5.5)  # rows renormalised inside
    torch.testing.assert_close(phi, torch.ones(2, 3))
    assert prototype_affinity(-w[None], w, 1.0).max() < torch.exp(torch.tensor(-1.99))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_scores_and_freezes_to_the_same_tagger(tiny_backbone, variant):
    model = T2IPAL(tiny_backbone, NAMES, ModelConfig(variant=variant, n_ctx=4), seed=0)
    x = torch.randn(2, 3, 64, 64)
    scores = model(x)
    assert scores.merged.shape == (2, 3) and scores.heatmap.shape == (2, 4, 3)
    tagged, heat = tagger_from_model(model)(x)
    torch.testing.assert_close(tagged, scores.merged, atol=1e-5, rtol=1e-5)
    assert heat.shape == (2, 3, 2, 2)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert not any(n.startswith("backbone.") for n in trainable)
    expected = {"zeroshot": set(), "taidpt": {"prompts.ctx_global", "prompts.ctx_local"}}
    if variant in expected:
        assert trainable == expected[variant]
    if VARIANTS[variant].adapter != "none":
        assert "prototypes" in trainable


def test_the_adapter_is_shared_by_both_branches(tiny_backbone):
    model = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=2))
    g = torch.nn.functional.normalize(torch.randn(2, 32), dim=-1)
    local = torch.nn.functional.normalize(torch.randn(2, 4, 32), dim=-1)
    loss = model.score(g, local, branch="image").merged.sum() + model.score(g, local, branch="text").merged.sum()
    loss.backward()
    assert model.prototypes is not None and model.prototypes.grad is not None
    img_only = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=2))
    img_only.load_head_state_dict(model.head_state_dict())
    img_only.score(g, local, branch="image").merged.sum().backward()
    assert not torch.allclose(img_only.prototypes.grad, model.prototypes.grad)  # text branch adds to the same W


def test_learnable_alpha_and_temperature(tiny_backbone):
    model = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=2, learn_alpha=True, learn_tau=True))
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert {"log_alpha", "log_tau_scale"} <= names
    torch.testing.assert_close(model.alpha, torch.tensor(1.0))


def test_class_specific_context_shapes(tiny_backbone):
    csc = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=16))
    shared = T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=16, class_specific=False))
    assert csc.prompts.ctx_global.shape == (3, 16, tiny_backbone.token_width)
    assert shared.prompts.ctx_global.shape == (1, 16, tiny_backbone.token_width)
    assert abs(float(csc.prompts.ctx_global.detach().std()) - 0.02) < 0.004


def test_bad_model_configs_name_the_field(tiny_backbone):
    for kwargs, field in [({"variant": "magic"}, "variant"), ({"rho": 2.0}, "rho"), ({"n_ctx": 0}, "n_ctx"),
                          ({"template": "a photo"}, "template"), ({"beta": -1.0}, "beta")]:
        with pytest.raises(ConfigError) as info:
            ModelConfig(**kwargs)
        assert info.value.field == field
    with pytest.raises(ConfigError) as info:
        T2IPAL(tiny_backbone, ["dog"], ModelConfig(n_ctx=40))  # context 32 is too short
    assert info.value.field == "n_ctx"
