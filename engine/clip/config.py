"""Torch-free CLIP configs: which backbone to load (`BackboneConfig`) and the head's settings (`ModelConfig`)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import ConfigBase, require_choice, require_int, require_positive, require_range
from engine.errors import ConfigError

DEFAULT_BACKBONE = "RN50"  # the open_clip model trained on by default (the paper's backbone)
DEFAULT_PRETRAINED = "openai"  # its weights tag

# variant -> (branches trained, adapter); see METHOD.md §9 and the paper's ablations.
VARIANTS: dict[str, tuple[tuple[str, ...], str]] = {
    "zeroshot": ((), "none"),  # frozen CLIP, "a photo of a {c}." prompts, global feature only
    "taidpt": (("text",), "none"),  # TaI-DPT: captions only, no adapter
    "t2i": (("image",), "none"),  # synthetic images only, no adapter
    "t2ipal_noadapter": (("image", "text"), "none"),
    "t2ipal": (("image", "text"), "local"),  # the full method
    "t2ipal_global_adapter": (("image", "text"), "global"),  # ablation "Glo.Adp"
}


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
    class_specific: bool = True  # CSC context (T2I-PAL); False = one shared context (TaI-DPT release)
    ctx_init_std: float = 0.02
    logit_scale: float = 4.0  # kappa; must stay small or the margin-1 hinge never moves the prompts
    inv_tau_image: float = 40.0  # spatial-softmax inverse temperature, image branch
    inv_tau_text: float = 50.0  # same, text branch
    alpha: float = 1.0  # adapter residual ratio
    beta: float = 5.5  # adapter sharpness
    rho: float = 0.5  # global/local merge at inference
    learn_alpha: bool = False  # paper Eq. 9
    learn_tau: bool = False  # paper Eq. 8: learnable pooling temperature
    adapter_init: str = "text"  # "text": rows from "a photo of a {c}." embeddings; "random": N(0, 0.02^2)
    template: str = "a photo of a {}."  # zero-shot prompts and adapter initialisation

    def __post_init__(self) -> None:
        require_choice("variant", self.variant, VARIANTS)
        require_int("n_ctx", self.n_ctx, minimum=1)
        require_positive("ctx_init_std", self.ctx_init_std)
        require_positive("logit_scale", self.logit_scale)
        require_positive("inv_tau_image", self.inv_tau_image)
        require_positive("inv_tau_text", self.inv_tau_text)
        require_positive("alpha", self.alpha, allow_zero=True)
        require_positive("beta", self.beta, allow_zero=True)
        require_range("rho", self.rho, 0.0, 1.0)
        require_choice("adapter_init", self.adapter_init, ("text", "random"))
        if "{}" not in self.template:
            raise ConfigError("template", "must contain {} where the class name goes")

    @property
    def branches(self) -> tuple[str, ...]:
        return VARIANTS[self.variant][0]

    @property
    def adapter(self) -> str:
        return VARIANTS[self.variant][1]

    @property
    def learned(self) -> bool:
        return bool(self.branches)
