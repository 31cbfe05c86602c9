"""Shared test setup: offline hubs, offscreen Qt, one torch thread, seeded tiny models."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_clip_file(tmp_path_factory: pytest.TempPathFactory):
    """A seeded random tiny ResNet CLIP saved as safetensors (the way real checkpoints are loaded)."""
    from engine.clip.random_init import save_random_clip

    return save_random_clip("tiny-test", tmp_path_factory.mktemp("clip") / "tiny-test.safetensors", seed=0)


@pytest.fixture(scope="session")
def tiny_backbone_cfg(tiny_clip_file):
    from engine.clip.backbone import BackboneConfig

    return BackboneConfig(model_name="tiny-test", pretrained=str(tiny_clip_file))


@pytest.fixture(scope="session")
def tiny_backbone(tiny_backbone_cfg):
    from engine.clip.backbone import load_backbone

    return load_backbone(tiny_backbone_cfg)
