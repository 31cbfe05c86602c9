"""Seeded random-init CLIP checkpoints for tests and benchmarks (no download; weights are meaningless)."""

from __future__ import annotations

from pathlib import Path

from engine import torch_ready


def save_random_clip(model_name: str, path: str | Path, *, seed: int = 0, image_size: int | None = None) -> Path:
    """Build `model_name` with random weights under `seed` and save them as safetensors at `path`."""
    torch_ready()
    import open_clip
    import torch
    from safetensors.torch import save_file

    from engine.clip.backbone import _register_configs

    _register_configs(None)
    torch.manual_seed(seed)
    kwargs = {"force_image_size": image_size} if image_size else {}
    model = open_clip.create_model(model_name, pretrained=None, **kwargs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path
