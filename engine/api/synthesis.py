"""Synthetic images from the project's captions: render (resumable), list, and delete bad ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import require_training
from engine.api.projects import load_labels
from engine.errors import InputError
from engine.progress import CancelToken, ProgressCallback
from engine.project import Project


def _caption_items(project: Project, limit: int | None) -> list[dict[str, Any]]:
    from engine.captions.store import CaptionStore

    labels = load_labels(project)
    with project.db() as db:
        captions = [c for c in CaptionStore(db).iter_captions(labels.name) if c.labels]
    if not captions:
        raise InputError(
            f"no caption of project {project.root} mentions a label yet; import some (`t2ipal captions import "
            "FILE`), generate them (`t2ipal captions generate`) or write them in the Captions panel"
        )
    items = [{"text": c.text, "labels": list(c.labels), "id": c.id} for c in captions]
    return items[:limit] if limit is not None else items


def synthesize(
    project: Project,
    *,
    backend: str = "diffusers",
    backend_options: dict[str, Any] | None = None,
    config: Any = None,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Render images for the project's captions into its cache (cached images are skipped, so it resumes).

    `backend_options` go to the backend (diffusers: model, steps, guidance_scale, ...; None values are dropped);
    `config` is an `engine.synthesis.SynthesisConfig` (images per caption, seed, batch size).
    """
    from engine.synthesis import SynthesisConfig, create_backend
    from engine.synthesis import synthesize as run_synthesis

    items = _caption_items(project, limit)
    options = {k: v for k, v in (backend_options or {}).items() if v is not None}
    renderer = create_backend(backend, **options)
    with project.db() as db:
        return run_synthesis(items, renderer, project, config or SynthesisConfig(), db=db,
                             progress=progress, cancel=cancel)


def synthesize_on_ray(
    project: Project,
    *,
    backend: str = "diffusers",
    backend_options: dict[str, Any] | None = None,
    config: Any = None,
    ray_config: Any = None,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """`synthesize` on a Ray cluster: one pipeline per actor writes into the project's cache, which every worker
    must reach at the same path; the manifest is written here only. `ray_config` is a `RayConfig`."""
    from engine.cluster.connect import import_ray
    from engine.cluster.ray_synth import synthesize_on_ray as run_on_ray
    from engine.synthesis import SynthesisConfig, create_backend

    import_ray()
    items = _caption_items(project, limit)
    options = {k: v for k, v in (backend_options or {}).items() if v is not None}
    renderer = create_backend(backend, **options)  # built here, loaded on each actor at its first render
    return run_on_ray(items, renderer, project, config or SynthesisConfig(), ray_config,
                      progress=progress, cancel=cancel)


def filter_synthetic(
    project: Project,
    result: Any,
    backbone: Any,
    *,
    min_margin: float | None = None,
    device: str = "auto",
    precision: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Score a synthesis run's images with a frozen CLIP and flag those whose labels do not show."""
    require_training("Filtering synthetic images")
    from engine.clip.backbone import load_backbone
    from engine.device import resolve
    from engine.synthesis import Manifest
    from engine.synthesis.quality import QualityConfig
    from engine.synthesis.quality import filter_synthetic as run_filter

    place = resolve(device, precision)
    clip = load_backbone(backbone, device=place.device, precision=place.precision)
    names = list(load_labels(project).names)
    with project.db() as db:
        manifest = Manifest(db, project.synthetic_dir)
        return run_filter(manifest, clip, names, QualityConfig().replace(min_margin=min_margin),
                          params_hash=result.params_hash, progress=progress, cancel=cancel)


def synthetic_images(project: Project) -> list[Any]:
    """Every synthetic image the project's manifest records (ImageRecord: path, caption, labels, ...)."""
    from engine.synthesis import Manifest

    with project.db() as db:
        return Manifest(db, project.synthetic_dir).records()


def synthetic_path(project: Project, record: Any) -> Path:
    return project.synthetic_dir / record.path


def delete_synthetic(project: Project, records: list[Any]) -> int:
    """Delete bad synthetic images: their files and manifest rows (a later run renders replacements)."""
    from engine.synthesis import Manifest

    with project.db() as db:
        manifest = Manifest(db, project.synthetic_dir)
        for r in records:
            synthetic_path(project, r).unlink(missing_ok=True)
            manifest.remove(r.params_hash, [(r.caption_key, r.index)])
    return len(records)
