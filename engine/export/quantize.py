"""int8 copies of an exported tagger (onnxruntime static QDQ quantization, calibrated on the project's renders)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import DependencyMissing, ExportError, InputError
from engine.export.checksum import write_checksum
from engine.export.metadata import INPUT_NAME, OUTPUT_SCORES, ModelMetadata

log = logging.getLogger(__name__)

QUANTIZE_CHOICES = ("none", "int8")
MIN_CALIBRATION_IMAGES = 8
MAX_CALIBRATION_IMAGES = 128  # more barely moves the ranges and costs a forward pass each
CALIBRATION_BATCH = 8


@dataclass(frozen=True)
class QuantizeResult:
    """An int8 model file beside its fp32 source, and how far its scores moved on the calibration images."""

    path: Path
    source: Path
    calibration_images: int
    max_abs_diff_scores: float
    size_bytes: int


def _quantization():
    try:
        from onnxruntime import quantization
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise DependencyMissing(
            'int8 quantization needs onnxruntime and onnx: pip install "t2ipal-tagger[cpu,train]"'
        ) from exc
    return quantization


def _calibration_batches(images: Sequence[str | Path], spec) -> list[np.ndarray]:
    from engine.imaging import preprocess_batch

    paths = [str(p) for p in images][:MAX_CALIBRATION_IMAGES]
    return [preprocess_batch(paths[i:i + CALIBRATION_BATCH], spec) for i in range(0, len(paths), CALIBRATION_BATCH)]


class _Scorer:
    """A bare CPU onnxruntime session (the tagging layer's TaggerSession sits above this one)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.metadata = ModelMetadata.from_props(dict(self.session.get_modelmeta().custom_metadata_map),
                                                 source=str(path))

    def scores(self, batch: np.ndarray) -> np.ndarray:
        (out,) = self.session.run([OUTPUT_SCORES], {INPUT_NAME: batch})
        return out


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over preprocessed batches."""

    def __init__(self, batches: list[np.ndarray]) -> None:
        self._batches = batches
        self._iter: Iterator[np.ndarray] = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._iter, None)
        return None if batch is None else {INPUT_NAME: batch}

    def rewind(self) -> None:
        self._iter = iter(self._batches)


def require_calibration(images: Sequence[object]) -> None:
    """`InputError` unless there are enough calibration images (checked before anything is exported)."""
    if len(images) < MIN_CALIBRATION_IMAGES:
        raise InputError(
            f"int8 quantization calibrates on at least {MIN_CALIBRATION_IMAGES} images, got {len(images)}; "
            "render synthetic images first (`t2ipal synth`) or give --calibration DIR"
        )


def quantize_int8(source: str | Path, out: str | Path, calibration_images: Sequence[str | Path]) -> QuantizeResult:
    """Write `out`: `source` with int8 weights (per channel) and uint8 activations, calibrated on the images.

    The model's metadata (labels, thresholds, preprocessing) is carried over; `out.sha256` is written
    beside it, so the tagger verifies it like any export.
    """
    import onnx

    require_calibration(calibration_images)
    q = _quantization()
    source, out = Path(source), Path(out)
    fp32 = _Scorer(source)
    batches = _calibration_batches(calibration_images, fp32.metadata.preprocess)
    with tempfile.TemporaryDirectory(prefix="t2ipal-quant-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        staged = Path(tmp) / "int8.onnx"
        # shape inference and folding first: quantize_* needs Conv weights as initializers (STACK.md P12)
        q.shape_inference.quant_pre_process(str(source), str(pre), skip_symbolic_shape=True)
        q.quantize_static(str(pre), str(staged), _Reader(batches), quant_format=q.QuantFormat.QDQ,
                          per_channel=True, weight_type=q.QuantType.QInt8, activation_type=q.QuantType.QUInt8,
                          calibrate_method=q.CalibrationMethod.MinMax)
        model = onnx.load(str(staged))
        del model.metadata_props[:]
        model.metadata_props.extend(onnx.load(str(source), load_external_data=False).metadata_props)
        part = out.with_name(f".{out.name}.part")
        onnx.save(model, str(part))
        os.replace(part, out)
    write_checksum(out)
    int8 = _Scorer(out)
    diff = max(float(np.abs(int8.scores(b) - fp32.scores(b)).max()) for b in batches)
    if not np.isfinite(diff):
        raise ExportError(f"the int8 copy of {source} gives non-finite scores; keep the fp32 model")
    log.info("int8 model %s: max |Δscore| %.4f on %d calibration images", out, diff, sum(len(b) for b in batches))
    return QuantizeResult(out, source, sum(len(b) for b in batches), diff, out.stat().st_size)


def int8_path(fp32_path: str | Path) -> Path:
    """Where the int8 copy of `model.onnx` goes: `model.int8.onnx` beside it."""
    p = Path(fp32_path)
    return p.with_name(f"{p.stem}.int8{p.suffix}")
