"""The one-click sequence (synthesis → training → export → tagging), run as one background job."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.progress import ProgressEvent
from t2ipal_gui import jobs
from t2ipal_gui.engine_parts import describe_missing, missing


@dataclass
class Plan:
    stages: list[tuple[str, Any]] = field(default_factory=list)  # (stage, fn(progress=, cancel=) -> result)


def plan_from_project(ctx: Any, *, tag: bool) -> Plan:
    """Read the panels' current settings from the window (through the context) into a plan."""
    absent = missing("captions", "synthesis", "training", "export", *(("tagging",) if tag else ()))
    if absent:
        from engine.errors import DependencyMissing

        raise DependencyMissing(describe_missing(absent))
    project = ctx.project
    synth = getattr(ctx, "synthesis_options", None) or jobs.SynthesisOptions()
    train = getattr(ctx, "training_options", None) or jobs.TrainingOptions()
    folders = list(getattr(ctx, "tag_folders", []) or [])
    plan = Plan([
        ("synthesis", lambda progress, cancel: jobs.run_synthesis(project, synth, progress=progress, cancel=cancel)),
        ("training", lambda progress, cancel: jobs.run_training(project, train, progress=progress, cancel=cancel)),
        ("export", lambda progress, cancel: jobs.run_export(project, progress=progress, cancel=cancel)),
    ])
    if tag and folders:
        plan.stages.append(
            ("tagging", lambda progress, cancel: jobs.run_tagging(project, folders, progress=progress, cancel=cancel))
        )
    return plan


def run_all(plan: Plan, *, progress=None, cancel=None) -> dict[str, Any]:  # noqa: ANN001
    results: dict[str, Any] = {}
    for i, (stage, fn) in enumerate(plan.stages):
        cancel.raise_if_set()

        def _sub(event: ProgressEvent, stage: str = stage) -> None:
            progress(ProgressEvent(f"pipeline:{stage}", event.done, event.total, event.message or event.stage,
                                   event.metrics, event.rate, event.eta_s))

        progress(ProgressEvent(f"pipeline:{stage}", 0, None, f"step {i + 1} of {len(plan.stages)}"))
        results[stage] = fn(progress=_sub, cancel=cancel)
    return results
