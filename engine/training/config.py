"""Torch-free training config: the optimisation recipe (`TrainConfig`)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import ConfigBase, require_choice, require_int, require_positive, require_range
from engine.errors import ConfigError


@dataclass(frozen=True)
class TrainConfig(ConfigBase):
    """Optimisation settings (TaI-DPT's SGD recipe; lr checked on the demo world's held-out split)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_epochs: int = 1  # constant warmup_lr for these epochs, then cosine from lr to 0
    warmup_lr: float = 1e-5
    lambda_img: float = 0.5  # L = lambda * L_img + (1 - lambda) * L_txt
    margin: float = 1.0
    heldout_fraction: float = 0.1  # of the *training* captions (with their images), never the test set
    seed: int = 1
    fp16_features: bool = False
    feature_batch_size: int = 32
    select_on: str = "heldout_map"  # "heldout_map" (best epoch) or "last"

    def __post_init__(self) -> None:
        require_int("epochs", self.epochs, minimum=1)
        require_int("batch_size", self.batch_size, minimum=1)
        require_positive("lr", self.lr)
        require_range("momentum", self.momentum, 0.0, 1.0)
        require_positive("weight_decay", self.weight_decay, allow_zero=True)
        require_int("warmup_epochs", self.warmup_epochs, minimum=0)
        if self.warmup_epochs >= self.epochs and self.epochs > 1:
            raise ConfigError("warmup_epochs", f"must be fewer than epochs ({self.epochs})")
        require_positive("warmup_lr", self.warmup_lr)
        require_range("lambda_img", self.lambda_img, 0.0, 1.0)
        require_positive("margin", self.margin)
        require_range("heldout_fraction", self.heldout_fraction, 0.0, 0.9)
        require_int("seed", self.seed)
        require_int("feature_batch_size", self.feature_batch_size, minimum=1)
        require_choice("select_on", self.select_on, ("heldout_map", "last"))
