"""Torch-free training config: the optimisation recipe (`TrainConfig`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from engine.clip.config import VARIANTS
from engine.config import ConfigBase, require_choice, require_int, require_positive, require_range
from engine.errors import ConfigError


@dataclass(frozen=True)
class TrainConfig(ConfigBase):
    """Optimisation settings (TaI-DPT's SGD recipe; lr checked on the demo world's held-out split)."""

    epochs: int = 20
    batch_size: int | None = None  # None: the variant's recipe (`for_variant`); T2I-PAL and most baselines: 64
    lr: float | None = None  # None: the variant's recipe; T2I-PAL and most baselines: 2e-3
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
    loss: str = "ranking"  # "ranking" (TaI-DPT's hinge over label pairs) or "bce" (measured: docs/training.md)
    photo_weight: float = 1.0  # loss weight of reviewed photos (partial labels) next to captions and renders
    unknown_weight: float = 0.0  # > 0: a reviewed photo's unknown labels count as weak negatives with this weight

    def __post_init__(self) -> None:
        require_int("epochs", self.epochs, minimum=1)
        if self.batch_size is not None:
            require_int("batch_size", self.batch_size, minimum=1)
        if self.lr is not None:
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
        require_choice("loss", self.loss, ("ranking", "bce"))
        require_positive("photo_weight", self.photo_weight)
        require_range("unknown_weight", self.unknown_weight, 0.0, 1.0)

    @property
    def step_lr(self) -> float:
        """The peak learning rate (the variant's when the config leaves it unset)."""
        return DEFAULT_LR if self.lr is None else self.lr

    @property
    def batch(self) -> int:
        """Samples per branch and step (the variant's when the config leaves it unset)."""
        return DEFAULT_BATCH_SIZE if self.batch_size is None else self.batch_size

    def for_variant(self, variant: str, labelset_defaults: dict[str, Any] | None = None) -> TrainConfig:
        """Fill what this config leaves unset (lr, batch size) from the variant's recipe, then the label set's.

        Order, lowest first: our defaults, the variant's `train_defaults` (e.g. TaI-DPT's lr and batch), the
        label set's `training_defaults` for that variant (e.g. TaI-DPT's NUS-WIDE lr), this config's own values.
        """
        recipe: dict[str, Any] = dict(VARIANTS[variant].train_defaults)
        recipe.update(variant_section(labelset_defaults, variant, "train"))
        unknown = sorted(set(recipe) - set(RECIPE_FIELDS))
        if unknown:
            raise ConfigError(unknown[0], f"a variant or label set may preset only {', '.join(RECIPE_FIELDS)}")
        filled = self.replace(**{k: v for k, v in recipe.items() if getattr(self, k) is None})
        return dataclasses.replace(filled, lr=filled.step_lr, batch_size=filled.batch)


RECIPE_FIELDS = ("lr", "batch_size")  # what a variant or a label set may preset
DEFAULT_LR = 2e-3  # checked on the demo world's held-out synthetic split (`t2ipal demo tune`)
DEFAULT_BATCH_SIZE = 64


def variant_section(defaults: dict[str, Any] | None, variant: str, section: str) -> dict[str, Any]:
    """A label set's `training_defaults[section]` merged with `training_defaults["variants"][variant][section]`.

    The label-set file (e.g. the bundled nuswide.json) holds values where the reference configs differ
    per dataset: ``{"model": {...}, "train": {...}, "variants": {"taidpt": {"train": {...}}}}``.
    """
    defaults = defaults or {}
    out = dict(defaults.get(section) or {})
    out.update(((defaults.get("variants") or {}).get(variant) or {}).get(section) or {})
    return out
