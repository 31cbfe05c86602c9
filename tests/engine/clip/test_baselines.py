"""Each baseline pinned to its definition on tiny tensors: zero-shot (both), TaI-DPT, T2I, branch-only rows, instant."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.clip.config import VARIANTS, ModelConfig, training_free_variants
from engine.clip.head import instant_scores
from engine.clip.inference import tagger_from_model
from engine.clip.model import T2IPAL
from engine.labels.labelset import LabelSet
from engine.training.config import TrainConfig
from engine.training.variants import with_template_sentences

NAMES = ["red", "green", "blue"]


def _images(backbone, n=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, backbone.image_size, backbone.image_size, generator=gen)


@pytest.fixture(scope="module")
def tiny_vit_backbone(tmp_path_factory):
    from engine.clip.backbone import BackboneConfig, load_backbone
    from engine.clip.random_init import save_random_clip

    weights = save_random_clip("tiny-vit-test", tmp_path_factory.mktemp("vit") / "vit.safetensors", seed=0)
    return load_backbone(BackboneConfig(model_name="tiny-vit-test", pretrained=str(weights)))


@pytest.mark.parametrize("which", ["resnet", "vit"])
def test_zeroshot_is_the_mean_of_global_with_pos_embed_and_pooled_local(which, tiny_backbone, tiny_vit_backbone):
    backbone = tiny_backbone if which == "resnet" else tiny_vit_backbone
    assert backbone.kind == which
    images = _images(backbone)
    model = T2IPAL(backbone, NAMES, ModelConfig(variant="zeroshot")).eval()
    with torch.no_grad():
        got = model(images).merged
        emb = backbone.encode_texts([f"a photo of a {n}." for n in NAMES])
        g_pos, _ = backbone.with_pos_embed().image_features(images)
        g_plain, local = backbone.image_features(images)
        # by hand: kappa * global score, and kappa * sum over positions of softmax(100 * sim) * sim: TaI-DPT's
        # zsclip.py pools the local score with CLIP's own logit scale (100), not the trained branches' 40
        s_global = 4.0 * g_pos @ emb.t()
        sim = torch.einsum("bnd,cd->bnc", local, emb)
        s_local = 4.0 * (torch.softmax(100.0 * sim, dim=1) * sim).sum(dim=1)
        torch.testing.assert_close(got, (s_global + s_local) / 2, atol=1e-5, rtol=1e-5)
        # the previous definition stays as zeroshot_global: the global feature alone, without the pos-embed
        plain = T2IPAL(backbone, NAMES, ModelConfig(variant="zeroshot_global")).eval()
        torch.testing.assert_close(plain(images).merged, 4.0 * g_plain @ emb.t(), atol=1e-5, rtol=1e-5)
        # and the frozen tagger (what ONNX export traces) scores exactly as the model
        scores, _ = tagger_from_model(model)(images)
        torch.testing.assert_close(scores, got, atol=1e-5, rtol=1e-5)
    if which == "resnet":  # the positional embedding really changes the global feature of a ResNet
        assert model.backbone.cfg.use_pos_embed and not backbone.cfg.use_pos_embed
        assert not torch.allclose(g_pos, g_plain, atol=1e-4)
    else:  # a ViT always adds its positional embedding: nothing to switch
        assert model.backbone is backbone


def test_taidpt_has_one_shared_context_its_recipe_and_its_template_sentences(tiny_backbone):
    cfg = ModelConfig(variant="taidpt")
    assert cfg.class_specific is False and cfg.n_ctx == 16
    model = T2IPAL(tiny_backbone, NAMES, cfg)
    assert model.prompts is not None and model.prompts.ctx_global.shape[0] == 1  # one context for every class
    assert model.prompts.ctx_local.shape[0] == 1 and model.prototypes is None
    csc = T2IPAL(tiny_backbone, NAMES, ModelConfig(variant="taidpt_csc"))
    assert csc.prompts is not None and csc.prompts.ctx_global.shape[0] == len(NAMES)
    recipe = TrainConfig().for_variant("taidpt")
    assert (recipe.lr, recipe.batch_size, recipe.epochs) == (1e-4, 512, 20)
    assert (TrainConfig().for_variant("t2ipal").lr, TrainConfig().for_variant("t2ipal").batch_size) == (2e-3, 64)
    assert TrainConfig(lr=0.05).for_variant("taidpt").lr == 0.05  # an explicit value always wins
    assert VARIANTS["taidpt"].template_sentences and not VARIANTS["taidpt_csc"].template_sentences


def test_template_sentences_are_89_one_hot_captions_per_class():
    from engine.datasets.training_set import TrainingSet

    labels = LabelSet.from_names(NAMES)
    base = TrainingSet(labels, ["a red thing"], np.array([[1, 0, 0]], np.uint8))
    out = with_template_sentences(base)
    assert len(out.captions) == 1 + 3 * 89
    assert out.captions.count("a photo of a blue.") == 10  # 9 copies + the ImageNet template "a photo of a {}."
    assert "a sculpture of a green." in out.captions
    assert (out.caption_labels[1:].sum(axis=1) == 1).all()
    assert out.caption_labels[1:].sum(axis=0).tolist() == [89, 89, 89]
    assert out.caption_labels[out.captions.index("a tattoo of the green.")].tolist() == [0, 1, 0]


def test_t2i_keeps_the_adapter_and_the_ablations_score_one_branch(tiny_backbone):
    assert ModelConfig(variant="t2i").branches == ("image",) and ModelConfig(variant="t2i").adapter == "local"
    assert ModelConfig(variant="t2i_noadapter").adapter == "none"
    assert T2IPAL(tiny_backbone, NAMES, ModelConfig(variant="t2i")).prototypes is not None
    images = _images(tiny_backbone)
    with torch.no_grad():
        glob = T2IPAL(tiny_backbone, NAMES, ModelConfig(variant="t2ipal_global_only"))(images)
        torch.testing.assert_close(glob.merged, glob.global_logits)
        loc = T2IPAL(tiny_backbone, NAMES, ModelConfig(variant="t2ipal_local_only"))(images)
        torch.testing.assert_close(loc.merged, loc.local_logits)
        full = T2IPAL(tiny_backbone, NAMES, ModelConfig(variant="t2ipal"))(images)
        torch.testing.assert_close(full.merged, 0.5 * (full.global_logits + full.local_logits))
    assert set(training_free_variants()) == {"zeroshot", "zeroshot_global", "instant"}


def test_instant_scores_by_hand():
    # two positions, two classes, 2-d features: position 0 is class 0, position 1 is halfway
    local = torch.tensor([[[1.0, 0.0], [0.6, 0.8]]])
    classes = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    out = instant_scores(torch.zeros(1, 2), local, classes, scale=2.0)
    p0 = torch.softmax(torch.tensor([2.0, 0.0]), 0)
    p1 = torch.softmax(torch.tensor([1.2, 1.6]), 0)
    coarse = torch.stack([torch.maximum(p0[0], p1[0]), torch.maximum(p0[1], p1[1])])
    torch.testing.assert_close(out.global_logits[0], coarse)
    region = torch.stack([p0, p1]) / (p0 + p1)  # (N, C), each class's weights over positions sum to 1
    torch.testing.assert_close(out.heatmap[0], region)
    a = torch.nn.functional.normalize(region.t() @ local[0], dim=-1)  # (C, D) region features
    reid = torch.softmax(2.0 * a @ classes.t(), dim=-1).diagonal()
    torch.testing.assert_close(out.local_logits[0], reid)
    torch.testing.assert_close(out.merged[0], (coarse + reid) / 2)
    assert float(out.merged.min()) >= 0.0 and float(out.merged.max()) <= 1.0


def test_instant_model_has_nothing_to_train_and_freezes_to_the_same_tagger(tiny_backbone):
    model = T2IPAL(tiny_backbone, NAMES, ModelConfig(variant="instant")).eval()
    assert model.head_parameters() == [] or all(not p.requires_grad for p in model.head_parameters())
    images = _images(tiny_backbone)
    with torch.no_grad():
        expected = model(images).merged
        scores, heat = tagger_from_model(model)(images)
    torch.testing.assert_close(scores, expected)
    assert heat.shape == (3, 3, *tiny_backbone.grid)
    assert torch.allclose(heat.flatten(2).sum(-1), torch.ones(3, 3), atol=1e-5)  # each class's region sums to 1
