"""`tag_on_ray`: scan on the driver, score on a Ray Data actor pool, upsert into the TagStore from the driver only."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.cluster.config import RayConfig
from engine.cluster.connect import import_ray, quiet_progress, ray_session
from engine.cluster.sources import Sources, scan_sources
from engine.cluster.tag_actor import TagScorer, entry_row
from engine.errors import Cancelled
from engine.progress import CancelToken, ProgressCallback, ProgressReporter
from engine.tagging.onnx_session import TaggerSession
from engine.tagging.run_lock import tagging_lock
from engine.tagging.runner import TagConfig, TagRunResult, expected_checksum, is_unchanged
from engine.tagging.scan import ScanEntry
from engine.tagging.store import ImageResult, TagStore

log = logging.getLogger(__name__)

_LOOKUP_CHUNK = 256


def needs_tagging(entries: list[ScanEntry], store: TagStore, model_id: int, retry_errors: bool) -> list[bool]:
    """Which of `entries` to tag, by the local tagger's skip rule (`engine.tagging.runner.is_unchanged`)."""
    known = store.lookup([e.path for e in entries])
    return [not is_unchanged(known.get(e.path), e, model_id, retry_errors) for e in entries]


def entries_to_tag(sources: Sources, cfg: TagConfig, store: TagStore, model_id: int, run_id: int,
                   reporter: ProgressReporter, result: TagRunResult) -> list[ScanEntry]:
    """Scan every source; unchanged files are marked seen (so missing-marking stays right) and counted."""
    todo: list[ScanEntry] = []
    chunk: list[ScanEntry] = []
    scanned = scan_sources(sources, cfg.include, cfg.exclude, cfg.follow_symlinks)
    while True:
        entry = next(scanned, None)
        if entry is not None:
            chunk.append(entry)
        if chunk and (entry is None or len(chunk) >= _LOOKUP_CHUNK):
            keep = needs_tagging(chunk, store, model_id, cfg.retry_errors)
            seen = [e.path for e, k in zip(chunk, keep, strict=True) if not k]
            todo.extend(e for e, k in zip(chunk, keep, strict=True) if k)
            if seen:
                store.mark_seen(seen, run_id)
                result.skipped += len(seen)
            result.candidates += len(chunk)
            chunk = []
        if entry is None:
            return todo


def results_of(batch: dict[str, np.ndarray], labels: Sequence[str]) -> list[ImageResult]:
    """Rows streamed back from the actors -> the TagStore's results (every label's raw score, as the local tagger)."""
    out = []
    for i, raw in enumerate(batch["path"]):
        path, size, mtime = os.fsdecode(raw), int(batch["size"][i]), int(batch["mtime_ns"][i])
        error = str(batch["error"][i])
        if error:
            out.append(ImageResult(path, size, mtime, error=error))
            continue
        s = np.asarray(batch["scores"][i], np.float32)
        tags = {label: float(value) for label, value in zip(labels, s, strict=True)}
        out.append(ImageResult(path, size, mtime, str(batch["checksum"][i]), int(batch["width"][i]),
                               int(batch["height"][i]), tags=tags))
    return out


def scored_batches(ray: Any, todo: list[ScanEntry], model: bytes, cfg: TagConfig, ray_cfg: RayConfig,
                   scorer: type) -> Iterator[dict[str, np.ndarray]]:
    """Stream scored rows back from an actor pool that loads the model (its verified bytes) once per actor."""
    quiet_progress(ray)
    model_ref = ray.put(model)  # shipped through the object store: workers need no copy of the file
    provider = "cuda" if ray_cfg.gpus_per_actor > 0 else cfg.provider
    threads = cfg.threads or ray_cfg.threads_per_actor
    pool = (ray.data.ActorPoolStrategy(size=ray_cfg.actors) if ray_cfg.actors
            else ray.data.ActorPoolStrategy(min_size=1, max_size=None))
    ds = ray.data.from_items([entry_row(e.path, e.size, e.mtime_ns, e.error) for e in todo])
    ds = ds.map_batches(
        scorer,
        fn_constructor_args=(model_ref, cfg, provider, threads),
        batch_size=ray_cfg.rows_per_call(cfg.batch_size),
        batch_format="numpy",
        compute=pool,
        num_cpus=ray_cfg.cpus_per_actor,
        num_gpus=ray_cfg.gpus_per_actor or None,
    )
    yield from ds.iter_batches(batch_size=ray_cfg.write_every, batch_format="numpy", prefetch_batches=1)


def _write_all(ray: Any, todo: list[ScanEntry], model: bytes, meta: Any, cfg: TagConfig, ray_cfg: RayConfig,
               store: TagStore, ids: tuple[int, int], reporter: ProgressReporter, result: TagRunResult,
               cancel: CancelToken | None, scorer: type) -> None:
    model_id, run_id = ids
    labels = list(meta.labels)
    providers: set[str] = set()
    for batch in scored_batches(ray, todo, model, cfg, ray_cfg, scorer):
        rows = results_of(batch, labels)
        store.write_batch(rows, run_id=run_id, model_id=model_id)
        result.tagged += sum(1 for r in rows if r.error is None)
        result.errors += sum(1 for r in rows if r.error is not None)
        providers.update(str(p) for p in batch["provider"])
        reporter.advance(len(rows))
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"tagging on Ray cancelled after {result.tagged + result.errors} images; "
                            "run it again to resume where it stopped")
    result.providers = sorted(providers)


def tag_on_ray(
    sources: Sequence[str | os.PathLike],
    model_path: str | Path,
    db_path: str | Path,
    cfg: TagConfig | None = None,
    ray_cfg: RayConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    scorer: type = TagScorer,
    onnx_sha256: str | None = None,
) -> TagRunResult:
    """Tag every new or changed image of `sources` (folders, files, URIs) on Ray; resumable like `tag_folders`.

    `scorer` is the Ray Data callable class that scores batches (tests pass one that dies mid-run). The model
    must match `onnx_sha256` (default: its export sidecar) unless `cfg.trust_unverified`, as for `tag_folders`;
    the verified bytes are what the actors load, and the database's tagging lock is held for the whole run.
    """
    cfg, ray_cfg = cfg or TagConfig(), ray_cfg or RayConfig()
    import_ray()  # a missing extra is reported before any file is read
    parsed = Sources.parse(sources)
    model = Path(model_path).resolve()
    session = TaggerSession(model, provider="cpu", threads=1,
                            sha256=expected_checksum(model, onnx_sha256, cfg.trust_unverified))
    meta, model_bytes = session.metadata, session.verified_bytes or model.read_bytes()
    started = time.perf_counter()
    with tagging_lock(db_path, parsed.roots), TagStore.open(db_path) as store:
        model_id = store.register_model(meta, model)
        run_id = store.start_run(model_id, parsed.roots, ["ray"])
        result = TagRunResult(run_id, ["ray"])
        reporter = ProgressReporter(progress, "tag")
        status = "failed"
        try:
            todo = entries_to_tag(parsed, cfg, store, model_id, run_id, reporter, result)
            reporter.total = result.candidates
            reporter.advance(result.skipped)
            log.info("tagging run %d on Ray: %d candidates, %d to tag", run_id, result.candidates, len(todo))
            if todo:
                with ray_session(ray_cfg.address) as ray:
                    _write_all(ray, todo, model_bytes, meta, cfg, ray_cfg, store, (model_id, run_id), reporter, result,
                               cancel, scorer)
            if cfg.mark_missing and parsed.local:
                result.missing = store.mark_missing(parsed.local, run_id)
            status = "done"
        except Cancelled:
            status = "cancelled"
            raise
        finally:
            result.elapsed_s = time.perf_counter() - started
            store.finish_run(run_id, status, skipped=result.skipped, missing=result.missing)
        reporter.report(f"{result.tagged} tagged, {result.errors} errors, {result.skipped} unchanged", force=True)
        return result
