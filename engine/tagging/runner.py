"""`tag_folders`: scan, decode in a thread pool, score batches with onnxruntime, write to the TagStore."""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.config import ConfigBase, require_choice, require_int
from engine.errors import ArtifactError, Cancelled, InputError
from engine.export.checksum import checksum_path, read_checksum
from engine.progress import CancelToken, ProgressCallback, ProgressReporter
from engine.tagging.decode import DEFAULT_MAX_FILE_MB, DEFAULT_MAX_MEGAPIXELS, Decoded, DecodeError, decode_file
from engine.tagging.onnx_session import PROVIDER_CHOICES, TaggerSession
from engine.tagging.run_lock import tagging_lock
from engine.tagging.scan import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, ScanEntry, count_candidates, scan_folders
from engine.tagging.store import ImageResult, KnownImage, TagStore

log = logging.getLogger(__name__)

_LOOKUP_CHUNK = 256
RUN_TIMINGS = ("decode_cpu_s", "preprocess_cpu_s", "infer_s", "infer_cpu_s", "write_cpu_s", "write_s",
               "decode_wait_s", "process_cpu_s")


@dataclass(frozen=True)
class TagConfig(ConfigBase):
    """How a tagging run scans, decodes, scores and stores."""

    include: tuple[str, ...] = DEFAULT_INCLUDE  # fnmatch globs on the file name (or relative path with "/")
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE  # globs for files and folders to skip
    follow_symlinks: bool = True  # loops are detected either way
    batch_size: int = 32
    workers: int = 0  # decode threads; 0 = min(4, CPU count)
    provider: str = "auto"  # auto | cpu | cuda
    threads: int = 0  # onnxruntime intra-op threads; 0 = its default
    draft: bool = True  # let the JPEG decoder downscale large photos while decoding
    max_megapixels: int = DEFAULT_MAX_MEGAPIXELS  # larger images (by their header) are refused before decoding
    max_file_mb: int = DEFAULT_MAX_FILE_MB  # larger files are refused before they are read
    retry_errors: bool = False  # re-read unchanged files that failed before
    mark_missing: bool = True  # images under the folders that no longer exist get status 'missing'
    trust_unverified: bool = False  # run a model that has no recorded checksum (no `model.onnx.sha256`)

    def __post_init__(self) -> None:
        require_int("batch_size", self.batch_size, minimum=1)
        require_int("workers", self.workers, minimum=0)
        require_int("threads", self.threads, minimum=0)
        require_int("max_megapixels", self.max_megapixels, minimum=1)
        require_int("max_file_mb", self.max_file_mb, minimum=1)
        require_choice("provider", self.provider, PROVIDER_CHOICES)

    @property
    def max_pixels(self) -> int:
        return self.max_megapixels * 1_000_000

    @property
    def decode_workers(self) -> int:
        return self.workers or max(1, min(4, os.cpu_count() or 1))


@dataclass
class TagRunResult:
    """What one `tag_folders` call did."""

    run_id: int
    providers: list[str]
    candidates: int = 0
    tagged: int = 0
    errors: int = 0
    skipped: int = 0  # unchanged files not read again (done with this model, or failed before: see below)
    missing: int = 0
    still_unreadable: int = 0  # of `skipped`: unchanged files whose earlier read failed (not retried)
    elapsed_s: float = 0.0
    # seconds summed over the run: CPU time (`*_cpu_s`: decode/preprocess in the decode threads, writes and
    # the whole process) and wall time (`infer_s`, `decode_wait_s`, `write_s`); see `RUN_TIMINGS`
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def unreadable(self) -> int:
        """Files under the folders that cannot be tagged as of this run: read and failed now, plus unchanged
        files that failed in an earlier run and were not retried (`retry_errors` re-reads them)."""
        return self.errors + self.still_unreadable

    @property
    def images_per_s(self) -> float:
        return (self.tagged + self.errors) / self.elapsed_s if self.elapsed_s > 0 else 0.0


def _decode(entry: ScanEntry, cfg: TagConfig, spec) -> Decoded | str:
    if entry.error:
        return entry.error
    try:
        return decode_file(entry.path, spec, draft=cfg.draft, max_pixels=cfg.max_pixels,
                           max_file_bytes=cfg.max_file_mb * 2**20)
    except DecodeError as exc:
        return str(exc)
    except Exception as exc:  # one odd file must never stop the run
        log.exception("unexpected error decoding %s", entry.path)
        return f"unexpected error: {type(exc).__name__}: {exc}"


def is_unchanged(known: KnownImage | None, entry: ScanEntry, model_id: int, retry_errors: bool) -> bool:
    """The skip rule of every tagger: same size and mtime, and done with this model (or failed before, unless
    `retry_errors`)."""
    if known is None or known.size != entry.size or known.mtime_ns != entry.mtime_ns:
        return False
    return (known.status == "done" and known.model_id == model_id) or (known.status == "error" and not retry_errors)


def expected_checksum(model_path: str | Path, given: str | None, trust_unverified: bool) -> str | None:
    """The SHA-256 the model file must have: the caller's, else its export sidecar; None only when trusted."""
    expected = given or read_checksum(model_path)
    if expected is None and not trust_unverified:
        raise ArtifactError(
            f"{model_path} has no recorded checksum ({checksum_path(model_path).name} is missing), so it cannot be "
            "verified; export it again with `t2ipal export`, or pass --trust-unverified if you trust the file"
        )
    return expected


def _existing_roots(folders: Sequence[str | Path]) -> list[str]:
    """Absolute paths of the folders to tag; an empty list or a missing folder is an `InputError`."""
    roots = [os.path.abspath(os.fspath(f)) for f in folders]
    if not roots:
        raise InputError("no folders given to tag")
    for root in roots:
        if not os.path.exists(root):
            raise InputError(f"{root} does not exist")
    return roots


_Batch = list[tuple[ScanEntry, Decoded | str]]


class _TaggingRun:
    """One run's bookkeeping: which files still need tagging, scoring a decoded batch, writing its rows."""

    def __init__(
        self, roots: list[str], cfg: TagConfig, session: TaggerSession, store: TagStore, model_id: int, run_id: int,
        result: TagRunResult, progress: ProgressCallback | None, started: float,
    ) -> None:
        self.roots, self.cfg, self.session, self.store = roots, cfg, session, store
        self.model_id, self.run_id, self.result, self.started = model_id, run_id, result, started
        self.labels = list(session.metadata.labels)
        self.scan_kwargs = dict(include=cfg.include, exclude=cfg.exclude, follow_symlinks=cfg.follow_symlinks)
        result.candidates = count_candidates(roots, **self.scan_kwargs)
        self.reporter = ProgressReporter(progress, "tag", result.candidates)
        self.timings = dict.fromkeys(RUN_TIMINGS, 0.0)
        self.cpu_started = time.process_time()

    def metrics(self) -> dict[str, float]:
        done = self.result.tagged + self.result.errors
        return {"img/s": done / max(time.perf_counter() - self.started, 1e-9)}

    def entries_to_tag(self) -> Iterator[ScanEntry]:
        """Scanned files that are new or changed; unchanged ones are marked seen in chunks and skipped."""
        chunk: list[ScanEntry] = []
        for entry in scan_folders(self.roots, **self.scan_kwargs):  # type: ignore[arg-type]
            chunk.append(entry)
            if len(chunk) >= _LOOKUP_CHUNK:
                yield from self._skip_unchanged(chunk)
                chunk = []
        yield from self._skip_unchanged(chunk)

    def _skip_unchanged(self, chunk: list[ScanEntry]) -> Iterator[ScanEntry]:
        known = self.store.lookup([e.path for e in chunk])
        unchanged = []
        failed_before = 0
        for entry in chunk:
            k = known.get(entry.path)
            if is_unchanged(k, entry, self.model_id, self.cfg.retry_errors):
                unchanged.append(entry.path)
                failed_before += k.status == "error"  # type: ignore[union-attr]
            else:
                yield entry
        if unchanged:
            self.store.mark_seen(unchanged, self.run_id)
            self.result.skipped += len(unchanged)
            self.result.still_unreadable += failed_before
            self.reporter.advance(len(unchanged), metrics=self.metrics())

    def write(self, batch: _Batch) -> None:
        """Score the decoded images of `batch`, store every entry (tags or error) and count them."""
        ok = [i for i, (_, d) in enumerate(batch) if isinstance(d, Decoded)]
        scores = None
        if ok:
            decoded = [batch[i][1] for i in ok]
            for dec in decoded:
                self.timings["decode_cpu_s"] += dec.decode_cpu_s  # type: ignore[union-attr]
                self.timings["preprocess_cpu_s"] += dec.preprocess_cpu_s  # type: ignore[union-attr]
            t0, c0 = time.perf_counter(), time.process_time()
            scores = self.session.scores(np.stack([d.array for d in decoded]))  # type: ignore[union-attr]
            self.timings["infer_s"] += time.perf_counter() - t0
            # process CPU while the model ran: its threads plus any decode threads running beside it
            self.timings["infer_cpu_s"] += time.process_time() - c0
        rows: list[ImageResult] = []
        pos = {i: n for n, i in enumerate(ok)}
        for i, (entry, dec) in enumerate(batch):
            if isinstance(dec, Decoded):
                rows.append(self._tagged_row(entry, dec, scores[pos[i]]))  # type: ignore[index]
            else:
                rows.append(ImageResult(entry.path, entry.size, entry.mtime_ns, error=dec))
        t0, c0 = time.perf_counter(), time.thread_time()
        self.store.write_batch(rows, run_id=self.run_id, model_id=self.model_id)
        self.timings["write_s"] += time.perf_counter() - t0
        self.timings["write_cpu_s"] += time.thread_time() - c0
        self.result.tagged += len(ok)
        self.result.errors += len(batch) - len(ok)
        self.reporter.advance(len(batch), metrics=self.metrics())

    def _tagged_row(self, entry: ScanEntry, dec: Decoded, s: np.ndarray) -> ImageResult:
        # every label's raw score is stored: the tag store's threshold policy decides which are tags,
        # so changing a threshold or the calibration never needs tagging again
        tags = {label: float(value) for label, value in zip(self.labels, s, strict=True)}
        return ImageResult(entry.path, entry.size, entry.mtime_ns, dec.checksum, dec.width, dec.height, tags=tags)


def _decode_and_write(run: _TaggingRun, pool: ThreadPoolExecutor, cancel: CancelToken | None) -> None:
    """Keep the decode pool fed from the scan, write full batches in file order, stop after a batch on cancel."""
    cfg, spec = run.cfg, run.session.metadata.preprocess
    max_inflight = 2 * cfg.batch_size + cfg.decode_workers
    pending: deque[tuple[ScanEntry, Future]] = deque()
    source = run.entries_to_tag()

    def fill() -> None:
        while len(pending) < max_inflight:
            entry = next(source, None)
            if entry is None:
                return
            pending.append((entry, pool.submit(_decode, entry, cfg, spec)))

    fill()
    batch: _Batch = []
    while pending:
        entry, future = pending.popleft()
        t0 = time.perf_counter()
        batch.append((entry, future.result()))
        run.timings["decode_wait_s"] += time.perf_counter() - t0
        fill()
        if len(batch) >= cfg.batch_size or not pending:
            run.write(batch)
            batch = []
            if cancel is not None and cancel.is_set():
                raise Cancelled(
                    f"tagging cancelled after {run.result.tagged + run.result.errors} images; "
                    "run it again to resume where it stopped"
                )


def tag_folders(
    folders: Sequence[str | Path],
    model_path: str | Path,
    db_path: str | Path,
    cfg: TagConfig | None = None,
    *,
    onnx_sha256: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> TagRunResult:
    """Tag every new or changed image under `folders`; resumable after a cancel, crash or kill.

    The model file must match `onnx_sha256` (default: the checksum its export recorded beside it);
    one without any recorded checksum runs only with `cfg.trust_unverified`.
    """
    cfg = cfg or TagConfig()
    roots = _existing_roots(folders)
    expected = expected_checksum(model_path, onnx_sha256, cfg.trust_unverified)
    session = TaggerSession(model_path, provider=cfg.provider, threads=cfg.threads, sha256=expected)
    started = time.perf_counter()
    with tagging_lock(db_path, roots), TagStore.open(db_path) as store:
        model_id = store.register_model(session.metadata, Path(model_path).resolve())
        run_id = store.start_run(model_id, roots, session.providers)
        result = TagRunResult(run_id, session.providers)
        log.info("tagging run %d: %s with %s on %s", run_id, roots, Path(model_path).name, session.providers)
        run = _TaggingRun(roots, cfg, session, store, model_id, run_id, result, progress, started)
        status = "failed"
        pool = ThreadPoolExecutor(cfg.decode_workers, thread_name_prefix="decode")
        try:
            _decode_and_write(run, pool, cancel)
            if cfg.mark_missing:
                result.missing = store.mark_missing(roots, run_id)
            status = "done"
        except Cancelled:
            status = "cancelled"
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            result.elapsed_s = time.perf_counter() - started
            run.timings["process_cpu_s"] = time.process_time() - run.cpu_started
            result.timings = run.timings
            store.finish_run(run_id, status, skipped=result.skipped, missing=result.missing)
        run.reporter.report(f"{result.tagged} tagged, {result.errors} errors, {result.skipped} unchanged", force=True)
        log.info(
            "run %d done: %d tagged, %d errors, %d skipped, %d missing in %.1f s",
            run_id, result.tagged, result.errors, result.skipped, result.missing, result.elapsed_s,
        )
        return result
