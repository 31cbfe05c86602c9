"""T2I-PAL Tagger engine: pure Python (no Qt) pipeline from label sets to tagged photo folders."""

from __future__ import annotations

import importlib.util
import logging
import os

# Busy-waiting OpenMP threads collapse on a shared 2-core machine (STACK.md P2); must precede torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Never wait on a hub we cannot reach; real downloads are explicit (see README, "Weights").
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# onnxruntime >= 1.29 sends usage events from Linux too unless this is set (read when its library loads).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())


TRAIN_EXTRA = "train"
_TRAIN_MODULES = ("torch", "open_clip", "onnx")


def require_training(what: str = "this") -> None:
    """Raise `DependencyMissing` naming the [train] extra when torch & co. are absent (a tagger-only install)."""
    missing = [name for name in _TRAIN_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        from engine.errors import DependencyMissing

        raise DependencyMissing(
            f"{what} needs PyTorch and open_clip ({', '.join(missing)} not installed): this is a tagger-only "
            f'install; install the training extra with: pip install "t2ipal-tagger[{TRAIN_EXTRA}]"'
        )


def torch_ready() -> None:
    """Import torch and make torchvision importable; call before open_clip/diffusers/timm."""
    require_training("This step")
    from engine._tvcompat import ensure_torchvision

    ensure_torchvision()
