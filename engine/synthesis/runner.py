"""`synthesize`: render K images per caption through a backend into the project cache, resumably."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils
from PIL import Image

from engine.config import ConfigBase, require_choice, require_int
from engine.errors import EngineError
from engine.hashing import sha256_bytes, sha256_file
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel
from engine.synthesis.backend import RenderRequest, SynthesisBackend
from engine.synthesis.cache import (
    ImageRecord,
    Manifest,
    atomic_write_bytes,
    check_writable,
    encode_png,
    relative_path,
    sweep_temp_files,
)
from engine.synthesis.items import CaptionItem, as_caption_items
from engine.synthesis.seeds import image_seed, params_hash

if TYPE_CHECKING:
    from engine.project import Project  # annotation only: a project sits above synthesis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SynthesisConfig(ConfigBase):
    """What to render; the backend's own settings (model, steps, size...) live in the backend."""

    images_per_caption: int = 1  # K images per caption (the paper's default is about 6)
    seed: int = 0  # run seed; image seed = f(caption text, index, run seed)
    batch_size: int = 4  # requests per backend call; the diffusers backend halves it on CUDA OOM
    on_existing: str = "check"  # "check": file must exist; "verify": re-hash every cached file too

    def __post_init__(self) -> None:
        require_int("images_per_caption", self.images_per_caption, minimum=1)
        require_int("seed", self.seed, minimum=0)
        require_int("batch_size", self.batch_size, minimum=1)
        require_choice("on_existing", self.on_existing, ("check", "verify"))


@dataclass
class SynthesisResult:
    """What a run did; `records` lists every image of this run's plan (old and new), in plan order."""

    params_hash: str
    folder: Path
    planned: int
    made: int
    skipped: int
    adopted: int
    seconds: float
    records: list[ImageRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def images_per_second(self) -> float:
        return self.made / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Job:
    item: CaptionItem
    index: int
    seed: int
    path: str

    @property
    def slot(self) -> tuple[str, int]:
        return (self.item.key, self.index)


def plan(items: Iterable[Any], cfg: SynthesisConfig, phash: str) -> list[_Job]:
    """One job per (unique caption text, index) in input order; duplicates of a text share images."""
    jobs: list[_Job] = []
    seen: set[str] = set()
    for item in as_caption_items(items):
        if item.key in seen:
            continue
        seen.add(item.key)
        for k in range(cfg.images_per_caption):
            seed = image_seed(item.key, k, cfg.seed)
            jobs.append(_Job(item, k, seed, relative_path(phash, item.key, k)))
    return jobs


def _record(job: _Job, phash: str, model: str, digest: str, size: tuple[int, int]) -> ImageRecord:
    return ImageRecord(
        params_hash=phash,
        caption_key=job.item.key,
        index=job.index,
        caption=job.item.text,
        labels=job.item.labels,
        seed=job.seed,
        model=model,
        path=job.path,
        sha256=digest,
        width=size[0],
        height=size[1],
        caption_id=job.item.id,
    )


def _reconcile(manifest: Manifest, jobs: list[_Job], phash: str, model: str, verify: bool) -> tuple[set, int]:
    """Slots already done; drops rows whose file vanished, adopts complete files that lost their row."""
    root = manifest.root
    rows = {(r.caption_key, r.index): r for r in manifest.records(phash)}
    done: set[tuple[str, int]] = set()
    stale: list[tuple[str, int]] = []
    adopt: list[ImageRecord] = []
    for job in jobs:
        rec = rows.get(job.slot)
        path = root / job.path
        if rec is not None:
            ok = (root / rec.path).is_file() and (not verify or sha256_file(root / rec.path) == rec.sha256)
            if ok:
                done.add(job.slot)
                continue
            stale.append(job.slot)
        if path.is_file():  # renamed into place, then killed before the manifest commit
            try:
                with Image.open(path) as img:
                    img.load()
                    size = img.size
            except OSError:
                path.unlink(missing_ok=True)
                continue
            adopt.append(_record(job, phash, model, sha256_file(path), size))
            done.add(job.slot)
    if stale:
        log.warning("%d cached image(s) were missing or changed on disk; they will be made again", len(stale))
        manifest.remove(phash, stale)
    manifest.add(adopt)
    return done, len(adopt)


def synthesize(
    items: Iterable[Any],
    backend: SynthesisBackend,
    project: Project,
    cfg: SynthesisConfig | None = None,
    *,
    db: sqlite_utils.Database | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> SynthesisResult:
    """Render `cfg.images_per_caption` images for each caption item into `project.synthetic_dir`.

    Steps: 1. hash the backend's parameters (the cache folder); 2. check the folder is writable and
    sweep partial files of killed runs; 3. reconcile the manifest with the folder; 4. render what is
    missing in batches, writing each file atomically and committing its manifest rows per batch.
    A cancel (`Cancelled`), a crash or a kill leaves only complete files; run again to resume.
    """
    cfg = cfg or SynthesisConfig()
    start = time.monotonic()
    params = dict(backend.params_key())
    phash = params_hash({"backend": backend.name, **params})
    model = str(params.get("model", backend.name))
    root = project.synthetic_dir
    folder = root / phash[:16]
    jobs = plan(items, cfg, phash)

    check_writable(folder)
    sweep_temp_files(folder)
    db = db if db is not None else project.open_db()
    manifest = Manifest(db, root)
    manifest.register_params(phash, backend.name, model, params)
    done, adopted = _reconcile(manifest, jobs, phash, model, cfg.on_existing == "verify")
    todo = [j for j in jobs if j.slot not in done]
    result = SynthesisResult(phash, folder, len(jobs), 0, len(jobs) - len(todo) - adopted, adopted, 0.0)
    log.info("synthesis %s: %d planned, %d cached, %d to make", phash[:16], len(jobs), len(done), len(todo))

    estimate = getattr(backend, "estimate_seconds_per_image", None)
    if todo and callable(estimate):
        per_image = estimate()
        if per_image is not None and per_image * len(todo) > 3600:
            msg = (
                f"{len(todo)} images at about {per_image:.0f} s each will take about "
                f"{per_image * len(todo) / 3600:.1f} h on this device; a GPU or a Turbo model is much faster"
            )
            log.warning(msg)
            result.warnings.append(msg)

    reporter = ProgressReporter(progress, "synthesis", total=len(todo))
    reporter.report("starting", force=True)
    for b in range(0, len(todo), cfg.batch_size):
        check_cancel(cancel)
        batch = todo[b : b + cfg.batch_size]
        requests = [RenderRequest(j.item.text, j.index, j.seed, j.item.labels, j.item.key) for j in batch]
        images = backend.render(requests, cancel=cancel)
        if len(images) != len(batch):
            raise EngineError(f"backend {backend.name!r} returned {len(images)} images for {len(batch)} requests")
        new: list[ImageRecord] = []
        try:
            for job, img in zip(batch, images, strict=True):
                data = encode_png(img)
                atomic_write_bytes(root / job.path, data)
                new.append(_record(job, phash, model, sha256_bytes(data), img.size))
                reporter.advance(1)
        finally:  # a disk-full error mid-batch still registers the files that were completed
            manifest.add(new)
            result.made += len(new)
    result.seconds = time.monotonic() - start
    by_slot = {(r.caption_key, r.index): r for r in manifest.records(phash)}
    result.records = [by_slot[j.slot] for j in jobs if j.slot in by_slot]
    return result
