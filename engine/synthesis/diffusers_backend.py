"""Text-to-image over diffusers (SD 1.x/2.x, SDXL, Turbo): explicit device/dtype, per-image seeds, cancel, OOM."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import hub
from engine.config import ConfigBase, require_choice, require_int, require_positive
from engine.device import Placement, resolve
from engine.errors import ConfigError, EngineError, ModelNotFound
from engine.progress import CancelToken, check_cancel

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

# name -> (diffusers scheduler class, extra config)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "ddim": ("DDIMScheduler", {}),
    "pndm": ("PNDMScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "dpm++": ("DPMSolverMultistepScheduler", {}),
    "dpm++_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "lcm": ("LCMScheduler", {}),
}

# Ready-made settings for the common models (see docs/synthesis.md for sizes and licences).
PRESETS: dict[str, dict[str, Any]] = {
    "sd15": {"model": "stable-diffusion-v1-5/stable-diffusion-v1-5", "steps": 30, "guidance_scale": 7.5},
    "sd21": {"model": "stabilityai/stable-diffusion-2-1-base", "steps": 30, "guidance_scale": 7.5},
    "sdxl": {"model": "stabilityai/stable-diffusion-xl-base-1.0", "steps": 30, "guidance_scale": 7.0},
    "sd-turbo": {"model": "stabilityai/sd-turbo", "steps": 1, "guidance_scale": 0.0},
    "sdxl-turbo": {"model": "stabilityai/sdxl-turbo", "steps": 1, "guidance_scale": 0.0},
}


@dataclass(frozen=True)
class DiffusersConfig(ConfigBase):
    """Settings of the diffusers backend; everything but device/cache_dir/attention_slicing changes pixels."""

    model: str = "stable-diffusion-v1-5/stable-diffusion-v1-5"  # hub id or a local save_pretrained folder
    revision: str | None = None  # hub branch/tag/commit
    variant: str | None = None  # e.g. "fp16" weight files, where the repo has them
    steps: int = 30  # denoising steps (Turbo models: 1-4)
    guidance_scale: float = 7.5  # classifier-free guidance; <= 1 disables it (Turbo: 0)
    negative_prompt: str = ""
    prompt_template: str = "{caption}"  # e.g. "a photo of {caption}"
    height: int | None = None  # None: the model's native size (512 for SD 1.x, 1024 for SDXL)
    width: int | None = None
    scheduler: str | None = None  # None: the model's own; else one of SCHEDULERS
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    precision: str = "auto"  # auto = fp16 on CUDA, fp32 on CPU
    cache_dir: str | None = None  # Hugging Face cache; None = HF_HOME/HF_HUB_CACHE default
    attention_slicing: bool = False  # less GPU memory, a little slower

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigError("model", "give a Hugging Face model id or a local model folder")
        require_int("steps", self.steps, minimum=1)
        require_positive("guidance_scale", self.guidance_scale, allow_zero=True)
        for name in ("height", "width"):
            value = getattr(self, name)
            if value is not None:
                require_int(name, value, minimum=8)
                if value % 8:
                    raise ConfigError(name, f"must be a multiple of 8, got {value}")
        if self.scheduler is not None:
            require_choice("scheduler", self.scheduler, tuple(SCHEDULERS))
        if "{caption}" not in self.prompt_template:
            raise ConfigError("prompt_template", "must contain {caption}")


def _is_local_path(model: str) -> bool:
    """A path (absolute, ./, ~, or more than one '/') rather than a hub id such as "org/name"."""
    return model.startswith((".", "/", "~")) or "\\" in model or model.count("/") > 1 or Path(model).is_dir()


def model_not_found(model: str, cache_dir: str | None, cause: BaseException | str) -> ModelNotFound:
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    off = " and downloads are off (HF_HUB_OFFLINE=1)" if hub.offline() else ""
    return ModelNotFound(
        f"text-to-image model {model!r} is not in the Hugging Face cache ({hub.cache_dir(cache_dir)}){off}. "
        f"Fetch it once on a connected machine with `t2ipal fetch sd {model}` (or "
        f"`HF_HUB_OFFLINE=0 hf download {model}`), or give a local folder written by "
        f"`save_pretrained` as the model. Cause: {first}"
    )


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


class DiffusersBackend:
    """`SynthesisBackend` over a diffusers text-to-image pipeline, loaded lazily on first use."""

    name = "diffusers"

    def __init__(self, cfg: DiffusersConfig | None = None, *, pipeline: Any = None) -> None:
        self.cfg = cfg or DiffusersConfig()
        self._pipe = pipeline
        if pipeline is not None and hasattr(pipeline, "set_progress_bar_config"):
            pipeline.set_progress_bar_config(disable=True)
        self._placement: Placement | None = None
        self.batch_limit: int | None = None  # set after a CUDA out-of-memory

    @classmethod
    def from_options(cls, **options: Any) -> DiffusersBackend:
        """`create_backend("diffusers", model=..., steps=...)`; a `preset=` name fills the defaults first."""
        preset = options.pop("preset", None)
        if preset and preset not in PRESETS:
            raise ConfigError("preset", f"{preset!r} is not one of {', '.join(PRESETS)}")
        base = dict(PRESETS[preset]) if preset else {}
        base.update({k: v for k, v in options.items() if v is not None})
        return cls(DiffusersConfig.from_dict(base))

    # --- identity -------------------------------------------------------------------------------
    @property
    def placement(self) -> Placement:
        if self._placement is None:
            import engine

            engine.require_training("Rendering with Stable Diffusion")
            self._placement = resolve(self.cfg.device, self.cfg.precision)
        return self._placement

    def model_id(self) -> str:
        model = self.cfg.model
        return str(Path(model).expanduser().resolve()) if _is_local_path(model) else model

    def params_key(self) -> dict[str, Any]:
        c = self.cfg
        return {
            "model": self.model_id(),
            "revision": c.revision,
            "variant": c.variant,
            "steps": c.steps,
            "guidance_scale": float(c.guidance_scale),
            "negative_prompt": c.negative_prompt,
            "prompt_template": c.prompt_template,
            "height": c.height,
            "width": c.width,
            "scheduler": c.scheduler,
            "precision": self.placement.precision,
        }

    # --- loading --------------------------------------------------------------------------------
    def load(self) -> Any:
        """Load (once) and place the pipeline; `ModelNotFound` with fetch instructions when absent."""
        if self._pipe is not None:
            return self._pipe
        import engine

        engine.torch_ready()
        from diffusers import AutoPipelineForText2Image

        c, place = self.cfg, self.placement
        kwargs: dict[str, Any] = {"dtype": place.dtype}
        if c.variant:
            kwargs["variant"] = c.variant
        if _is_local_path(c.model):
            folder = Path(c.model).expanduser()
            if not (folder / "model_index.json").is_file():
                raise ModelNotFound(
                    f"{folder} is not a diffusers model folder (no model_index.json); give a folder written by "
                    "`pipeline.save_pretrained(...)` or a Hugging Face model id such as "
                    f"{PRESETS['sd15']['model']}"
                )
            source, kwargs["local_files_only"] = str(folder), True
        else:
            source = c.model
            kwargs.update(revision=c.revision, cache_dir=c.cache_dir, local_files_only=hub.offline())
        log.info("loading text-to-image model %s on %s (%s)", source, place.device, place.precision)
        try:
            pipe = AutoPipelineForText2Image.from_pretrained(source, **kwargs)
        except OSError as exc:
            if _is_local_path(c.model):
                raise ModelNotFound(f"cannot load the model folder {source}: {exc}") from exc
            raise model_not_found(c.model, c.cache_dir, exc) from exc
        self._check_tokenizers(pipe)
        if c.scheduler is not None:
            import diffusers

            cls_name, extra = SCHEDULERS[c.scheduler]
            pipe.scheduler = getattr(diffusers, cls_name).from_config(pipe.scheduler.config, **extra)
        pipe = pipe.to(place.device)
        if c.attention_slicing:
            pipe.enable_attention_slicing()
        pipe.set_progress_bar_config(disable=True)
        self._pipe = pipe
        self._warn_if_slow()
        return pipe

    def _check_tokenizers(self, pipe: Any) -> None:
        # transformers 5 can return a 2-token tokenizer offline without an error (STACK.md P4).
        for attr in ("tokenizer", "tokenizer_2"):
            tok = getattr(pipe, attr, None)
            if tok is not None and len(tok) < 100:
                raise model_not_found(self.cfg.model, self.cfg.cache_dir, f"{attr} has only {len(tok)} tokens")

    def _warn_if_slow(self) -> None:
        params = self._denoiser_params()
        if self.placement.device == "cpu" and params > 300e6:
            log.warning(
                "model %s (%.0f M parameters) on CPU: about %.0f s per image (estimate); use a GPU or a Turbo model",
                self.cfg.model,
                params / 1e6,
                self.estimate_seconds_per_image(),
            )

    # --- estimates --------------------------------------------------------------------------------
    def _denoiser_params(self) -> int:
        net = getattr(self._pipe, "unet", None) or getattr(self._pipe, "transformer", None)
        return sum(p.numel() for p in net.parameters()) if net is not None else 0

    def resolution(self) -> tuple[int, int]:
        """(height, width) in pixels: the configured size or the model's native one."""
        pipe = self.load()
        native = int(pipe.unet.config.sample_size) * int(getattr(pipe, "vae_scale_factor", 8))
        return (self.cfg.height or native, self.cfg.width or native)

    def estimate_seconds_per_image(self) -> float:
        """A rough time per image from the denoiser size, latent area, steps, CFG and device."""
        import torch

        pipe = self.load()
        h, w = self.resolution()
        scale = int(getattr(pipe, "vae_scale_factor", 8))
        latent_px = (h // scale) * (w // scale)
        # SD 1.5's 860 M-parameter UNet costs about 0.8 TFLOP per evaluation at a 64x64 latent.
        flop_per_eval = 0.8e12 * (self._denoiser_params() / 860e6) * (latent_px / 4096)
        evals = self.cfg.steps * (2 if self.cfg.guidance_scale > 1 else 1) + 3  # + VAE decode
        if self.placement.device.startswith("cuda"):
            rate = 20e12 if self.placement.precision != "fp32" else 8e12
        else:
            rate = 25e9 * max(1, torch.get_num_threads())
        return flop_per_eval * evals / rate

    # --- rendering --------------------------------------------------------------------------------
    def render(self, requests: Sequence[Any], *, cancel: CancelToken | None = None) -> list[Image.Image]:
        """One image per request; on out-of-memory the batch is halved (and remembered) and retried."""
        pipe = self.load()
        out: list[Image.Image] = []
        i = 0
        while i < len(requests):
            n = min(self.batch_limit or len(requests), len(requests) - i)
            try:
                out.extend(self._call(pipe, requests[i : i + n], cancel))
            except Exception as exc:
                if not _is_oom(exc):
                    raise
                self._free_memory()
                if n == 1:
                    raise EngineError(
                        "out of memory at batch size 1; lower the resolution, turn on attention slicing, "
                        "use fp16 on the GPU, or a smaller model"
                    ) from exc
                self.batch_limit = max(1, n // 2)
                log.warning("out of memory at batch size %d; retrying with %d", n, self.batch_limit)
                continue
            i += n
        return out

    def _free_memory(self) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _call(self, pipe: Any, requests: Sequence[Any], cancel: CancelToken | None) -> list[Image.Image]:
        import torch

        check_cancel(cancel)
        c = self.cfg
        h, w = self.resolution()

        def on_step_end(_pipe: Any, _step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            check_cancel(cancel)  # raising here stops the pipeline before any image is decoded
            return kwargs

        call: dict[str, Any] = {
            "prompt": [c.prompt_template.format(caption=r.caption) for r in requests],
            "num_inference_steps": c.steps,
            "guidance_scale": float(c.guidance_scale),
            "height": h,
            "width": w,
            # CPU generators: the same noise on every device, one per image so batching does not matter.
            "generator": [torch.Generator("cpu").manual_seed(int(r.seed)) for r in requests],
            "callback_on_step_end": on_step_end,
            "output_type": "pil",
        }
        if c.negative_prompt:
            call["negative_prompt"] = [c.negative_prompt] * len(requests)
        with torch.inference_mode():
            images = pipe(**call).images
        return [img.convert("RGB") for img in images]
