"""Make PyPI torchvision import beside a CPU-only torch; does nothing where it loads normally."""

from __future__ import annotations

import sys
from typing import Any

_LIB: Any = None  # the op-schema library must stay referenced for the process lifetime


def ensure_torchvision() -> Any:
    """Import torchvision; if its CUDA-linked ops failed to load, define their schemas and retry."""
    global _LIB
    try:
        import torchvision

        return torchvision
    except RuntimeError as exc:
        if "torchvision::nms" not in str(exc):
            raise
    import torch

    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    if _LIB is None:
        _LIB = torch.library.Library("torchvision", "FRAGMENT")
        _LIB.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _LIB.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import torchvision

    return torchvision
