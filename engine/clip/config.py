"""Torch-free CLIP configs: which backbone to load (`BackboneConfig`) and the head's settings (`ModelConfig`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from engine.config import ConfigBase, require_choice, require_int, require_positive, require_range
from engine.errors import ConfigError

DEFAULT_BACKBONE = "RN50"  # the open_clip model trained on by default (the paper's backbone)
DEFAULT_PRETRAINED = "openai"  # its weights tag
DEFAULT_INV_TAU_IMAGE = 40.0  # TaI-DPT's image-branch spatial inverse temperature on VOC and COCO
CLIP_LOGIT_SCALE = 100.0  # CLIP's own logit scale (exp(4.6052)); TaI-DPT's zero-shot pools local scores with it

@dataclass(frozen=True)
class Variant:
    """One row of the method table: what trains, how it scores, and its own defaults (torch-free).

    `rho` overrides the global/local merge (1 = global branch only, 0 = local only, None = the config's rho).
    `scoring` is "t2ipal" (the T2I-PAL head, also used by every baseline) or "instant" (training-free,
    TagCLIP-style local-to-global tagger, see docs/training.md). `global_pos_embed`: pool the global feature
    with the positional embedding (ResNets; ViTs always have it). `template_sentences`: add TaI-DPT's
    per-class template sentences to the training captions. `class_specific`: the context type when the
    model config leaves it unset. `train_defaults`: TrainConfig fields this variant's recipe changes.
    """

    title: str
    branches: tuple[str, ...] = ()
    adapter: str = "none"
    rho: float | None = None
    scoring: str = "t2ipal"
    global_pos_embed: bool = False
    template_sentences: bool = False
    class_specific: bool = True
    train_defaults: tuple[tuple[str, Any], ...] = ()
    inv_tau_image: float | None = None  # the local pooling's inverse temperature when the model config leaves it unset

    @property
    def learned(self) -> bool:
        return bool(self.branches)


# TaI-DPT's released recipe (scripts/main.sh, configs/trainers/Caption_distill_double/rn50_*.yaml; METHOD.md §4):
# one shared context of 16 tokens, SGD lr 1e-4 at batch 512 for 20 epochs (NUS-WIDE: lr 1e-3, see the bundled
# nuswide label set).
TAIDPT_TRAIN = (("lr", 1e-4), ("batch_size", 512))  # its 20 epochs and 16 context tokens are our defaults too

# The one list of methods (CLI choices, GUI combo box, demo rows). Paper references: T2I-PAL Tables VII, VIII.
VARIANTS: dict[str, Variant] = {
    # TaI-DPT's zsclip.py (ZeroshotCLIP_dense): the local score is pooled by a spatial softmax of CLIP's own
    # logits (logit scale 100), local features without the positional embedding; averaged with the global score
    "zeroshot": Variant("zero-shot CLIP (TaI-DPT's definition: global + local)", rho=0.5, global_pos_embed=True,
                        inv_tau_image=CLIP_LOGIT_SCALE),
    "zeroshot_global": Variant("zero-shot CLIP (global feature only)", rho=1.0),
    "instant": Variant("training-free local tagger (TagCLIP-style)", scoring="instant"),
    "taidpt": Variant("TaI-DPT (captions, shared context, its recipe)", ("text",), template_sentences=True,
                      class_specific=False, train_defaults=TAIDPT_TRAIN),
    "taidpt_csc": Variant("TaI-DPT, class-specific context (our recipe)", ("text",)),
    "t2i": Variant("T2I (synthetic images only, adapter)", ("image",), "local"),
    "t2i_noadapter": Variant("T2I without adapter", ("image",)),
    "t2ipal_global_only": Variant("T2I-PAL global branch only", ("image", "text"), rho=1.0),
    "t2ipal_local_only": Variant("T2I-PAL local branch only", ("image", "text"), "local", rho=0.0),
    "t2ipal_noadapter": Variant("T2I-PAL without adapter", ("image", "text")),
    "t2ipal_global_adapter": Variant("T2I-PAL, adapter on global", ("image", "text"), "global"),
    "t2ipal": Variant("T2I-PAL", ("image", "text"), "local"),
}


def training_free_variants() -> list[str]:
    """The variants that score without training (what `t2ipal eval --zeroshot` and the instant model run)."""
    return [name for name, spec in VARIANTS.items() if not spec.learned]


@dataclass(frozen=True)
class BackboneConfig(ConfigBase):
    """Which CLIP to load and how its image features are pooled."""

    model_name: str = DEFAULT_BACKBONE  # an open_clip name, a JSON in engine/model_configs, "local-dir:..", "hf-hub:.."
    pretrained: str | None = DEFAULT_PRETRAINED  # a tag, a checkpoint file, or None for random init (tests)
    image_size: int | None = None  # None: the model's native size; ResNets accept any size without pos-embed
    use_pos_embed: bool = False  # TaI-DPT pools the global feature without the positional embedding
    tokenizer: str | None = None  # None/"open_clip": the model's own; or a registered name ("demo-words")
    model_config_dir: str | None = None  # an extra folder of open_clip model JSONs to register
    cache_dir: str | None = None  # where downloaded weights live (default: the Hugging Face cache)

    def __post_init__(self) -> None:
        if not isinstance(self.model_name, str) or not self.model_name.strip():
            raise ConfigError("model_name", "must name an open_clip model, e.g. RN50, RN101 or ViT-B-16")
        if self.image_size is not None:
            require_int("image_size", self.image_size, minimum=32)


@dataclass(frozen=True)
class ModelConfig(ConfigBase):
    """Head hyperparameters (defaults: TaI-DPT code values and METHOD.md §9)."""

    variant: str = "t2ipal"
    n_ctx: int = 16  # M, context tokens per prompt
    class_specific: bool | None = None  # CSC context (T2I-PAL); False = one shared context; None: the variant's
    ctx_init_std: float = 0.02
    logit_scale: float = 4.0  # kappa; must stay small or the margin-1 hinge never moves the prompts
    inv_tau_image: float | None = None  # spatial-softmax inverse temperature, image branch; None: the label
    # set's (bundled nuswide: 4, TaI-DPT's NUS-WIDE config), else 40 (TaI-DPT's VOC / COCO)
    inv_tau_text: float = 50.0  # same, text branch
    alpha: float = 1.0  # adapter residual ratio
    beta: float = 5.5  # adapter sharpness
    rho: float = 0.5  # global/local merge at inference
    learn_alpha: bool = False  # paper Eq. 9
    learn_tau: bool = False  # paper Eq. 8: learnable pooling temperature
    adapter_init: str = "text"  # "text": rows from "a photo of a {c}." embeddings; "random": N(0, 0.02^2)
    template: str = "a photo of a {}."  # zero-shot prompts and adapter initialisation
    instant_scale: float = 100.0  # CLIP's own logit scale: the instant tagger's per-patch softmax over classes

    def __post_init__(self) -> None:
        require_choice("variant", self.variant, VARIANTS)
        if self.class_specific is None:
            object.__setattr__(self, "class_specific", VARIANTS[self.variant].class_specific)
        require_int("n_ctx", self.n_ctx, minimum=1)
        require_positive("ctx_init_std", self.ctx_init_std)
        require_positive("logit_scale", self.logit_scale)
        if self.inv_tau_image is not None:
            require_positive("inv_tau_image", self.inv_tau_image)
        require_positive("inv_tau_text", self.inv_tau_text)
        require_positive("alpha", self.alpha, allow_zero=True)
        require_positive("beta", self.beta, allow_zero=True)
        require_range("rho", self.rho, 0.0, 1.0)
        require_positive("instant_scale", self.instant_scale)
        require_choice("adapter_init", self.adapter_init, ("text", "random"))
        if "{}" not in self.template:
            raise ConfigError("template", "must contain {} where the class name goes")

    @classmethod
    def for_variant(cls, variant: str, **fields: Any) -> ModelConfig:
        """The config of `variant` with its own defaults (e.g. TaI-DPT's shared context); `fields` override."""
        return cls(variant=variant, **fields)

    def for_labelset(self, labelset_defaults: dict[str, Any] | None) -> ModelConfig:
        """Fill the fields this config leaves unset (None) from a label set's `training_defaults`.

        The sections are ``training_defaults["model"]`` then ``training_defaults["variants"][variant]["model"]``.
        """
        defaults = labelset_defaults or {}
        section = dict(defaults.get("model") or {})
        section.update(((defaults.get("variants") or {}).get(self.variant) or {}).get("model") or {})
        unknown = sorted(set(section) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ConfigError(unknown[0], "unknown model field in the label set's training_defaults")
        return self.replace(**{k: v for k, v in section.items() if getattr(self, k) is None})

    @property
    def image_inv_tau(self) -> float:
        if self.inv_tau_image is not None:
            return self.inv_tau_image
        return DEFAULT_INV_TAU_IMAGE if self.spec.inv_tau_image is None else self.spec.inv_tau_image

    @property
    def spec(self) -> Variant:
        return VARIANTS[self.variant]

    @property
    def branches(self) -> tuple[str, ...]:
        return self.spec.branches

    @property
    def adapter(self) -> str:
        return self.spec.adapter

    @property
    def learned(self) -> bool:
        return self.spec.learned

    @property
    def merge_rho(self) -> float:
        """The global/local merge used at inference: the variant's (branch-only rows) or the config's rho."""
        return self.rho if self.spec.rho is None else self.spec.rho
