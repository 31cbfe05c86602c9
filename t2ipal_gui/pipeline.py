"""The one-click plan: synthesis → training → export → (tagging) as project API calls, run as one background job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from engine import api
from engine.clip.config import BackboneConfig, ModelConfig
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


def plan_for(project: Project, synth: SynthesisSettings | None, train: TrainingSettings | None,
             folders: list[str], *, tag: bool) -> Plan:
    """The stages of "Run all steps" with the panels' current settings (tagging only when folders are listed)."""
    plan = Plan([
        ("synthesis", (synth or SynthesisSettings()).run(project)),
        ("training", (train or TrainingSettings()).run(project)),
        ("export", partial(api.export, project)),
    ])
    if tag and folders:
        plan.stages.append(("tagging", tag_stage(project, folders)))
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
