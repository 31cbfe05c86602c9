"""Resolve "auto"/"cpu"/"cuda" devices and "auto"/fp32/fp16/bf16 precision explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import ConfigError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")


@dataclass(frozen=True)
class Placement:
    """A resolved device string ("cpu", "cuda", "cuda:1") and precision name."""

    device: str
    precision: str

    @property
    def dtype(self) -> torch.dtype:
        import torch

        return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[self.precision]


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(device: str = "auto") -> str:
    """Map "auto" to "cuda" when a GPU is usable, else "cpu"; validate explicit names."""
    base = device.split(":", 1)[0]
    if base not in DEVICES:
        raise ConfigError("device", f"{device!r} is not one of {', '.join(DEVICES)} (or cuda:N)")
    if base == "auto":
        return "cuda" if cuda_available() else "cpu"
    if base == "cuda" and not cuda_available():
        raise ConfigError("device", "CUDA was requested but torch sees no GPU; use 'auto' or 'cpu'")
    return device


def resolve_precision(precision: str, device: str) -> str:
    """fp16 on CUDA and fp32 on CPU for "auto"; half precision on CPU is refused."""
    if precision not in PRECISIONS:
        raise ConfigError("precision", f"{precision!r} is not one of {', '.join(PRECISIONS)}")
    on_cuda = device.startswith("cuda")
    if precision == "auto":
        return "fp16" if on_cuda else "fp32"
    if precision == "fp16" and not on_cuda:
        raise ConfigError("precision", "fp16 needs a CUDA device; use fp32 (or auto) on CPU")
    return precision


def resolve(device: str = "auto", precision: str = "auto") -> Placement:
    dev = resolve_device(device)
    return Placement(dev, resolve_precision(precision, dev))
