"""Dense features of the backbone agree with open_clip where they coincide; errors name what to fix."""

from __future__ import annotations

import pytest
import torch

from engine.clip.backbone import load_backbone
from engine.clip.config import BackboneConfig
from engine.clip.random_init import save_random_clip
from engine.errors import ConfigError, ModelNotFound


def test_resnet_global_with_pos_embed_equals_encode_image(tiny_clip_file):
    bb = load_backbone(BackboneConfig(model_name="tiny-test", pretrained=str(tiny_clip_file), use_pos_embed=True))
    x = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    g, local = bb.image_features(x)
    ref = bb.model.encode_image(x, normalize=True)
    torch.testing.assert_close(g, ref, atol=1e-5, rtol=1e-5)
    assert local.shape == (3, bb.grid[0] * bb.grid[1], bb.embed_dim)
    torch.testing.assert_close(local.norm(dim=-1), torch.ones(3, local.shape[1]), atol=1e-5, rtol=0)


def test_resnet_local_features_are_value_and_output_projection(tiny_backbone):
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    _, local = tiny_backbone.image_features(x)
    ap = tiny_backbone.model.visual.attnpool
    fmap = tiny_backbone.feature_map(x)
    manual = ap.c_proj(ap.v_proj(fmap.flatten(2).transpose(1, 2)))
    torch.testing.assert_close(local, torch.nn.functional.normalize(manual, dim=-1), atol=1e-5, rtol=1e-5)


def test_resnet_accepts_other_input_sizes(tiny_clip_file):
    for use_pos in (False, True):
        cfg = BackboneConfig(model_name="tiny-test", pretrained=str(tiny_clip_file), image_size=128,
                             use_pos_embed=use_pos)
        bb = load_backbone(cfg)
        assert bb.grid == (4, 4)
        g, local = bb.image_features(torch.randn(2, 3, 128, 128))
        assert g.shape == (2, bb.embed_dim) and local.shape == (2, 16, bb.embed_dim)
        assert bb.preprocess_spec.size == 128


def test_vit_pooled_and_patch_tokens(tmp_path):
    path = save_random_clip("tiny-vit-test", tmp_path / "vit.safetensors", seed=3)
    bb = load_backbone(BackboneConfig(model_name="tiny-vit-test", pretrained=str(path)))
    x = torch.randn(2, 3, 64, 64)
    g, local = bb.image_features(x)
    torch.testing.assert_close(g, bb.model.encode_image(x, normalize=True), atol=1e-5, rtol=1e-5)
    assert bb.kind == "vit" and local.shape == (2, 16, bb.embed_dim) and bb.grid == (4, 4)


def test_text_eot_feature_equals_encode_text_and_mask_marks_padding(tiny_backbone):
    texts = ["a photo of a dog.", "two cats sleeping on a red sofa in the sun"]
    tokens = tiny_backbone.tokenize(texts)
    g, local, valid = tiny_backbone.text_features(tokens)
    torch.testing.assert_close(g, tiny_backbone.model.encode_text(tokens, normalize=True), atol=1e-5, rtol=1e-5)
    eot = tokens.argmax(-1)
    assert local.shape[1] == int(eot.max()) + 1  # truncated to the longest real caption
    assert valid[0].sum() == eot[0] + 1 and valid[1].all()


def test_spliced_prompt_without_context_equals_plain_text(tiny_backbone):
    tokens = tiny_backbone.tokenize(["dog."])
    eot = tokens.argmax(-1)
    emb = tiny_backbone.model.token_embedding(tokens[:, : int(eot.max()) + 1])
    out = tiny_backbone.encode_embedded(emb, eot)
    torch.testing.assert_close(out, tiny_backbone.text_features(tokens)[0], atol=1e-5, rtol=1e-5)


def test_fingerprint_depends_on_weights(tiny_clip_file, tmp_path):
    other = save_random_clip("tiny-test", tmp_path / "other.safetensors", seed=9)
    a = load_backbone(BackboneConfig(model_name="tiny-test", pretrained=str(tiny_clip_file)))
    b = load_backbone(BackboneConfig(model_name="tiny-test", pretrained=str(tiny_clip_file)))
    c = load_backbone(BackboneConfig(model_name="tiny-test", pretrained=str(other)))
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_missing_weights_offline_say_what_to_download(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound) as info:
        load_backbone(BackboneConfig(model_name="RN50", pretrained="openai", cache_dir="/nonexistent-cache"))
    text = str(info.value)
    assert "RN50" in text and "t2ipal fetch clip" in text and "timm/" in text


def test_missing_checkpoint_file_and_unknown_model():
    with pytest.raises(ModelNotFound, match="does not exist"):
        load_backbone(BackboneConfig(model_name="tiny-test", pretrained="/no/such/file.safetensors"))
    with pytest.raises(ConfigError) as info:
        load_backbone(BackboneConfig(model_name="no-such-model", pretrained=None))
    assert info.value.field == "model_name"


def test_bad_config_names_the_field():
    with pytest.raises(ConfigError) as info:
        BackboneConfig(image_size=5)
    assert info.value.field == "image_size"
    with pytest.raises(ConfigError) as info:
        BackboneConfig.from_dict({"model": "RN50"})
    assert info.value.field == "model"


def test_pickle_checkpoint_is_refused_without_suggesting_unsafe_loading(tiny_clip_file, tmp_path):
    from safetensors.torch import load_file

    from engine.errors import ArtifactError

    pickled = tmp_path / "clip.pt"
    torch.save(load_file(str(tiny_clip_file)), pickled)
    with pytest.raises(ArtifactError) as info:
        load_backbone(BackboneConfig(model_name="tiny-test", pretrained=str(pickled)))
    text = str(info.value)
    assert "safetensors" in text and "weights_only" not in text and "pickle" in text


def test_corrupt_safetensors_header_is_a_clear_error(tmp_path):
    from engine.errors import ArtifactError

    bad = tmp_path / "clip.safetensors"
    bad.write_bytes((1 << 20).to_bytes(8, "little") + b"{not json")
    with pytest.raises(ArtifactError, match="not a valid safetensors file"):
        load_backbone(BackboneConfig(model_name="tiny-test", pretrained=str(bad)))
