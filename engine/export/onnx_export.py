"""`export_onnx`: a trained tagger -> one ONNX file (scores + heatmaps, metadata inside), parity-checked."""

from __future__ import annotations

import logging
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine import __version__, torch_ready
from engine.errors import ExportError, StorageError
from engine.evaluation.calibration import Calibration
from engine.export.checksum import checksum_path, stage_checksum
from engine.export.metadata import INPUT_NAME, OUTPUT_HEATMAPS, OUTPUT_SCORES, ModelMetadata
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 1e-4


@dataclass
class ExportResult:
    """The written file, its metadata and the measured torch-vs-onnxruntime parity."""

    path: Path
    metadata: ModelMetadata
    max_abs_diff_scores: float
    max_abs_diff_heatmaps: float
    opset: int
    size_bytes: int
    seconds: float
    quantized: Any = None  # an int8 copy written next to it (engine.export.quantize.QuantizeResult), if asked


def metadata_from_artifact(artifact: Any) -> ModelMetadata:
    """ModelMetadata from an engine.artifact.ModelArtifact."""
    grid = artifact.config.get("grid")
    return ModelMetadata(
        labels=tuple(artifact.labels),
        thresholds=tuple(artifact.thresholds),
        preprocess=artifact.preprocess_spec,
        model_checksum=artifact.checksum,
        hierarchy={k: v for k, v in artifact.parents.items() if k in set(artifact.labels)},
        backbone=dict(artifact.config.get("backbone") or {}),
        created=_now(),
        app_version=__version__,
        heatmap_grid=(int(grid[0]), int(grid[1])) if grid else None,
        calibration=Calibration.from_dict(artifact.config.get("calibration"), len(artifact.labels),
                                          source=str(artifact.folder)),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _resolve(
    source: Any, metadata: ModelMetadata | None, device: str, precision: str, trust_unverified: bool = False
) -> tuple[Any, ModelMetadata]:
    from torch import nn

    if isinstance(source, nn.Module):
        if metadata is None:
            raise ExportError("exporting a bare nn.Module needs `metadata=` (labels, thresholds, preprocessing)")
        return source, metadata
    from engine.artifact import ModelArtifact

    artifact = source if isinstance(source, ModelArtifact) else ModelArtifact.from_pretrained(
        source, trust_unverified=trust_unverified)
    meta = metadata or metadata_from_artifact(artifact)
    return artifact.tagger_module(device=device, precision=precision), meta


def export_onnx(
    source: str | Path | Any,
    out_path: str | Path,
    *,
    metadata: ModelMetadata | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    opset: int = 17,
    tolerance: float = DEFAULT_TOLERANCE,
    check_batch: int = 3,
    seed: int = 0,
    trust_unverified: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Export a model folder (or ModelArtifact, or any nn.Module images -> (scores, heatmaps)).

    The graph has input `images` (B,3,S,S) with a dynamic batch axis and outputs `scores` (B,C) and
    `heatmaps` (B,C,h,w); class constants are folded in. The file is written only if onnxruntime
    reproduces torch within `tolerance` (max |Δ|) on a batch of a size other than the traced one;
    otherwise `ExportError`. The write is atomic.
    """
    torch_ready()
    import torch

    started = time.perf_counter()
    reporter = ProgressReporter(progress, "export", 3)
    out_path = Path(out_path)
    module, meta = _resolve(source, metadata, device, precision, trust_unverified)
    module = module.eval()
    size = meta.preprocess.size
    param = next(iter(module.parameters()), None)
    if param is None:
        param = next(iter(module.buffers()), None)
    dev = param.device if param is not None else torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    example = torch.randn(2, 3, size, size, generator=gen).to(dev)
    with torch.no_grad():
        out = module(example)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise ExportError("the module must return (scores (B,C), heatmaps (B,C,h,w))")
    scores, heat = out
    if scores.shape != (2, len(meta.labels)) or heat.dim() != 4 or heat.shape[:2] != scores.shape:
        raise ExportError(
            f"module outputs scores {tuple(scores.shape)} and heatmaps {tuple(heat.shape)}; "
            f"expected (B, {len(meta.labels)}) and (B, {len(meta.labels)}, h, w) for {len(meta.labels)} labels"
        )
    meta = _with_grid(meta, (int(heat.shape[2]), int(heat.shape[3])))
    check_cancel(cancel)

    try:
        d_scores, d_heat = _write_checked(module, meta, example, out_path, opset=opset, tolerance=tolerance,
                                          check_batch=check_batch, seed=seed, device=dev, reporter=reporter,
                                          cancel=cancel)
    except OSError as exc:
        raise StorageError(
            f"cannot write {out_path.name} in {out_path.parent} ({(exc.strerror or str(exc)).lower()}); "
            "free some space or choose a folder you can write; any previous model there is unchanged"
        ) from exc
    reporter.advance(message="written")
    result = ExportResult(out_path, meta, d_scores, d_heat, opset, out_path.stat().st_size,
                          time.perf_counter() - started)
    log.info("exported %s (%.1f MB, parity %.2e) in %.1f s", out_path, result.size_bytes / 1e6,
             max(d_scores, d_heat), result.seconds)
    return result


def _write_checked(module: Any, meta: ModelMetadata, example: Any, out_path: Path, *, opset: int, tolerance: float,
                   check_batch: int, seed: int, device: Any, reporter: ProgressReporter,
                   cancel: CancelToken | None) -> tuple[float, float]:
    """Trace to a temporary file, check it, then replace `out_path` and its checksum sidecar together."""
    import onnx
    import torch

    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}-", suffix=".tmp", dir=out_path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    side: Path | None = None
    try:
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")  # legacy-exporter deprecation and tracer warnings (STACK.md P8)
                torch.onnx.export(
                    module, (example,), str(tmp), dynamo=False, opset_version=opset,
                    input_names=[INPUT_NAME], output_names=[OUTPUT_SCORES, OUTPUT_HEATMAPS],
                    dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_SCORES: {0: "batch"}, OUTPUT_HEATMAPS: {0: "batch"}},
                    do_constant_folding=True,
                )
        except Exception as exc:
            raise ExportError(f"torch.onnx.export failed: {type(exc).__name__}: {exc}") from exc
        reporter.advance(message="traced")
        model = onnx.load(str(tmp))
        onnx.helper.set_model_props(model, meta.to_props())
        model.doc_string = f"T2I-PAL tagger: {len(meta.labels)} labels, exported by t2ipal {__version__}"
        try:
            onnx.checker.check_model(model)
        except onnx.checker.ValidationError as exc:
            raise ExportError(f"the exported graph is not valid ONNX: {exc}") from exc
        onnx.save(model, str(tmp))
        check_cancel(cancel)
        d_scores, d_heat = check_parity(module, tmp, size=meta.preprocess.size, batch=check_batch, seed=seed + 1,
                                        device=device)
        reporter.advance(message=f"parity max |Δ| {max(d_scores, d_heat):.2e}")
        if not (d_scores <= tolerance and d_heat <= tolerance):
            raise ExportError(
                f"onnxruntime differs from torch by {d_scores:.3g} (scores) / {d_heat:.3g} (heatmaps), "
                f"more than the allowed {tolerance:g}; the model was not written"
            )
        _, side = stage_checksum(tmp, out_path)  # `t2ipal tag --model` refuses a file that no longer matches it
        os.replace(tmp, out_path)
        os.replace(side, checksum_path(out_path))
    finally:
        for leftover in (tmp, side):
            if leftover is not None and leftover.exists():
                leftover.unlink()
    return d_scores, d_heat


def _with_grid(meta: ModelMetadata, grid: tuple[int, int]) -> ModelMetadata:
    import dataclasses

    return dataclasses.replace(meta, heatmap_grid=grid)


def check_parity(
    module: nn.Module, onnx_path: str | Path, *, size: int, batch: int = 3, seed: int = 1, device: Any = "cpu"
) -> tuple[float, float]:
    """Max |torch − onnxruntime| for scores and heatmaps on a seeded random batch."""
    import onnxruntime as ort
    import torch

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, size, size, generator=gen)
    with torch.no_grad():
        t_scores, t_heat = module(x.to(device))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    o_scores, o_heat = session.run([OUTPUT_SCORES, OUTPUT_HEATMAPS], {INPUT_NAME: x.numpy()})
    d_scores = float(np.abs(t_scores.float().cpu().numpy() - o_scores).max())
    d_heat = float(np.abs(t_heat.float().cpu().numpy() - o_heat).max())
    return d_scores, d_heat
