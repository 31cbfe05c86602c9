"""The one-click plan: synthesis → training → export → (tagging) as project API calls, run as one background job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from engine import api
from engine.api import weights
from engine.clip.config import BackboneConfig, ModelConfig
from engine.errors import EngineError
from engine.progress import CancelToken, ProgressCallback, ProgressEvent
from engine.project import Project
from engine.synthesis import SynthesisConfig
from engine.training.config import TrainConfig

Stage = Callable[..., Any]  # fn(progress=, cancel=) -> result


@dataclass(frozen=True)
class SynthesisSettings:
    """What the Synthesis panel shows: the backend, its options (model, steps, CFG) and the run's config."""

    backend: str = "diffusers"
    options: dict[str, Any] = field(default_factory=dict)
    config: SynthesisConfig = field(default_factory=SynthesisConfig)

    def run(self, project: Project) -> Stage:
        return partial(api.synthesize, project, backend=self.backend, backend_options=self.options,
                       config=self.config)


@dataclass(frozen=True)
class TrainingSettings:
    """What the Training panel shows: the engine's configs and the device."""

    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    device: str = "auto"

    def run(self, project: Project) -> Stage:
        return partial(api.train, project, backbone=self.backbone, model=self.model, train=self.train,
                       device=self.device)


def tag_stage(project: Project, folders: list[str], ray_address: str | None = None) -> Stage:
    """Tag `folders` with the project's exported model (the engine keeps every score; Browse moves thresholds).

    With `ray_address` ("" for a local Ray, "auto", "ray://head:10001") the folders are tagged on a Ray cluster.
    """
    if ray_address is None:
        return partial(api.tag, project, list(folders))
    from engine.cluster.config import RayConfig

    return partial(api.tag_on_ray, project, list(folders), None, RayConfig(address=ray_address or None))


@dataclass
class Plan:
    stages: list[tuple[str, Stage]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # what each stage will do, in words (shown before starting)

    def describe(self) -> str:
        return "\n".join(f"{i}. {step}" for i, step in enumerate(self.steps, start=1))


def _label_names(project: Project) -> list[str]:
    """The project's labels; none when it has no label set yet (the synthesis stage then says so itself)."""
    try:
        return list(api.load_labels(project).names)
    except EngineError:
        return []


def _is_stock(synth: SynthesisSettings | None, train: TrainingSettings | None) -> tuple[bool, bool]:
    """Whether the synthesis / training settings are the untouched defaults (no model chosen by the person)."""
    from engine.synthesis.diffusers_backend import DiffusersConfig

    stock_synth = synth is None or (synth.backend == SynthesisSettings().backend
                                    and synth.options.get("model") in (None, "", DiffusersConfig.model))
    stock_train = train is None or train.backbone == BackboneConfig()
    return stock_synth, stock_train


def settings_for(project: Project, synth: SynthesisSettings | None,
                 train: TrainingSettings | None) -> tuple[SynthesisSettings, TrainingSettings]:
    """The settings "Run all steps" uses: the panels' own, except that the demo world's labels get the demo
    renderer and the demo CLIP wherever the person kept the stock text-to-image model and CLIP (those would
    need gigabytes of weights the demo world does not need)."""
    synth_out, train_out = synth or SynthesisSettings(), train or TrainingSettings()
    names = _label_names(project)
    if not weights.demo_labels_only(names):
        return synth_out, train_out
    stock_synth, stock_train = _is_stock(synth, train)
    if stock_synth:
        synth_out = SynthesisSettings("demo", {}, synth_out.config)
    if stock_train:
        train_out = replace(train_out, backbone=weights.demo_clip_config())
    return synth_out, train_out


def _synthesis_step(project: Project, synth: SynthesisSettings) -> str:
    captions = api.count_captions(project) if _label_names(project) else 0
    per = synth.config.images_per_caption
    model = "the demo renderer" if synth.backend == "demo" else \
        f"{synth.backend} ({synth.options.get('model') or 'its default model'})"
    return (f"Synthesis: up to {captions * per:,} images ({captions:,} captions × {per}) with {model}; "
            "images already rendered are kept")


def plan_for(project: Project, synth: SynthesisSettings | None, train: TrainingSettings | None,
             folders: list[str], *, tag: bool) -> Plan:
    """The stages of "Run all steps" with the panels' current settings (tagging only when folders are listed)."""
    synth, train = settings_for(project, synth, train)
    plan = Plan([
        ("synthesis", synth.run(project)),
        ("training", train.run(project)),
        ("export", partial(api.export, project)),
    ], [
        _synthesis_step(project, synth),
        f"Training: {train.train.epochs} epochs on CLIP {train.backbone.model_name}",
        "Export: the trained model as one ONNX file",
    ])
    if tag and folders:
        plan.stages.append(("tagging", tag_stage(project, folders)))
        plan.steps.append(f"Tagging: {len(folders)} folder{'s' if len(folders) != 1 else ''} "
                          "(new and changed photos only)")
    return plan


def run_all(plan: Plan, *, progress: ProgressCallback, cancel: CancelToken) -> dict[str, Any]:
    """Run the stages in order; each stage's progress is reported as `pipeline:<stage>`."""
    results: dict[str, Any] = {}
    for i, (stage, fn) in enumerate(plan.stages):
        cancel.raise_if_set()

        def _sub(event: ProgressEvent, stage: str = stage) -> None:
            progress(ProgressEvent(f"pipeline:{stage}", event.done, event.total, event.message or event.stage,
                                   event.metrics, event.rate, event.eta_s))

        progress(ProgressEvent(f"pipeline:{stage}", 0, None, f"step {i + 1} of {len(plan.stages)}"))
        results[stage] = fn(progress=_sub, cancel=cancel)
    return results
