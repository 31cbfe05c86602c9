"""`synthesize_on_ray`: caption shards rendered by one pipeline per Ray actor into the shared cache; the driver
alone writes the manifest."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.cluster.config import RayConfig
from engine.cluster.connect import import_ray, quiet_progress, ray_session
from engine.errors import Cancelled
from engine.hashing import sha256_bytes
from engine.progress import CancelToken, ProgressCallback, ProgressReporter
from engine.synthesis.backend import RenderRequest, SynthesisBackend
from engine.synthesis.cache import Manifest, atomic_write_bytes, check_writable, encode_png, sweep_temp_files
from engine.synthesis.runner import SynthesisConfig, SynthesisResult, _Job, _reconcile, _record, plan
from engine.synthesis.seeds import params_hash

if TYPE_CHECKING:
    from engine.project import Project  # annotation only

log = logging.getLogger(__name__)


def job_row(job: _Job) -> dict[str, Any]:
    item = job.item
    return {"text": item.text, "labels": json.dumps(list(item.labels)), "key": item.key, "index": job.index,
            "seed": job.seed, "path": job.path}


class ShardRenderer:
    """One backend (one pipeline, loaded on first use) per actor; writes each image atomically into the cache."""

    def __init__(self, backend: SynthesisBackend, root: str) -> None:
        self.backend, self.root = backend, Path(root)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        requests = [
            RenderRequest(str(text), int(index), int(seed), tuple(json.loads(str(labels))), str(key))
            for text, index, seed, labels, key in zip(
                batch["text"], batch["index"], batch["seed"], batch["labels"], batch["key"], strict=True)
        ]
        images = self.backend.render(requests)
        if len(images) != len(requests):
            raise RuntimeError(f"backend {self.backend.name!r} returned {len(images)} images for {len(requests)}")
        digests, widths, heights = [], [], []
        for rel, img in zip(batch["path"], images, strict=True):
            data = encode_png(img)
            atomic_write_bytes(self.root / str(rel), data)
            digests.append(sha256_bytes(data))
            widths.append(img.size[0])
            heights.append(img.size[1])
        return {"key": batch["key"], "index": batch["index"], "sha256": np.array(digests, object),
                "width": np.array(widths, np.int64), "height": np.array(heights, np.int64)}


def _render_all(ray: Any, todo: list[_Job], backend: SynthesisBackend, root: Path, cfg: SynthesisConfig,
                ray_cfg: RayConfig, manifest: Manifest, meta: tuple[str, str], reporter: ProgressReporter,
                result: SynthesisResult, cancel: CancelToken | None, renderer: type) -> None:
    phash, model = meta
    quiet_progress(ray)
    by_slot = {j.slot: j for j in todo}
    pool = (ray.data.ActorPoolStrategy(size=ray_cfg.actors) if ray_cfg.actors
            else ray.data.ActorPoolStrategy(min_size=1, max_size=None))
    ds = ray.data.from_items([job_row(j) for j in todo]).map_batches(
        renderer, fn_constructor_args=(backend, str(root)), batch_size=ray_cfg.rows_per_call(cfg.batch_size),
        batch_format="numpy", compute=pool, num_cpus=ray_cfg.cpus_per_actor, num_gpus=ray_cfg.gpus_per_actor or None,
    )
    for batch in ds.iter_batches(batch_size=ray_cfg.write_every, batch_format="numpy", prefetch_batches=1):
        records = [
            _record(by_slot[(str(k), int(i))], phash, model, str(d), (int(w), int(h)))
            for k, i, d, w, h in zip(batch["key"], batch["index"], batch["sha256"], batch["width"], batch["height"],
                                     strict=True)
        ]
        manifest.add(records)
        result.made += len(records)
        reporter.advance(len(records))
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"synthesis on Ray cancelled after {result.made} images; run it again to resume")


def synthesize_on_ray(
    items: Iterable[Any],
    backend: SynthesisBackend,
    project: Project,
    cfg: SynthesisConfig | None = None,
    ray_cfg: RayConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    renderer: type = ShardRenderer,
) -> SynthesisResult:
    """Render like `engine.synthesis.synthesize` (same plan, seeds, files and manifest rows), on Ray actors.

    `project.synthetic_dir` must be reachable at the same path from every worker (a shared folder). A crash of
    the driver or a worker leaves complete files only; run again and files without a manifest row are adopted.
    """
    cfg, ray_cfg = cfg or SynthesisConfig(), ray_cfg or RayConfig()
    import_ray()
    start = time.monotonic()
    params = dict(backend.params_key())
    phash = params_hash({"backend": backend.name, **params})
    model = str(params.get("model", backend.name))
    root = project.synthetic_dir
    jobs = plan(items, cfg, phash)
    check_writable(root / phash[:16])
    sweep_temp_files(root / phash[:16])
    with project.db() as db:
        manifest = Manifest(db, root)
        manifest.register_params(phash, backend.name, model, params)
        done, adopted = _reconcile(manifest, jobs, phash, model, cfg.on_existing == "verify")
        todo = [j for j in jobs if j.slot not in done]
        result = SynthesisResult(phash, root / phash[:16], len(jobs), 0, len(jobs) - len(todo) - adopted, adopted, 0.0)
        log.info("synthesis %s on Ray: %d planned, %d cached, %d to make", phash[:16], len(jobs), len(done), len(todo))
        reporter = ProgressReporter(progress, "synthesis", total=len(todo))
        if todo:
            with ray_session(ray_cfg.address) as ray:
                _render_all(ray, todo, backend, root, cfg, ray_cfg, manifest, (phash, model), reporter, result,
                            cancel, renderer)
        result.seconds = time.monotonic() - start
        by_slot = {(r.caption_key, r.index): r for r in manifest.records(phash)}
        result.records = [by_slot[j.slot] for j in jobs if j.slot in by_slot]
    return result
