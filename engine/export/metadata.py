"""The metadata stored inside an exported ONNX model (`metadata_props`, one JSON value per key)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ArtifactError
from engine.evaluation.calibration import Calibration
from engine.imaging import PreprocessSpec
from engine.labels.hierarchy import ancestors

FORMAT_VERSION = 1
INPUT_NAME = "images"
OUTPUT_SCORES = "scores"
OUTPUT_HEATMAPS = "heatmaps"

# metadata_props key -> what it holds (each value is JSON text)
KEYS = {
    "t2ipal_format": "format version of this metadata (int)",
    "labels": "class names in output order (list[str])",
    "hierarchy": "parent of each label or null (dict[str, str | null])",
    "thresholds": "per-class score thresholds in output order (list[float])",
    "preprocess": "engine.imaging.PreprocessSpec as a dict (size, mean, std, resize_mode, interpolation)",
    "backbone": "backbone config (dict)",
    "model_checksum": "sha256 of the source model weights (str)",
    "created": "ISO 8601 UTC time of export (str)",
    "app_version": "T2I-PAL Tagger version that exported the model (str)",
    "heatmap_grid": "(h, w) of the heatmap output (list[int])",
    "calibration": "per-label Platt calibration and held-out operating points, or null (engine.evaluation.calibration)",
}
_REQUIRED = ("t2ipal_format", "labels", "thresholds", "preprocess", "model_checksum")


@dataclass(frozen=True)
class ModelMetadata:
    """Everything a tagger needs to use an exported model without the training code."""

    labels: tuple[str, ...]
    thresholds: tuple[float, ...]
    preprocess: PreprocessSpec
    model_checksum: str
    hierarchy: dict[str, str | None] = field(default_factory=dict)
    backbone: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    app_version: str = ""
    heatmap_grid: tuple[int, int] | None = None
    calibration: Calibration | None = None  # None: a model exported before calibrations existed
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if not self.labels:
            raise ArtifactError("model metadata has no labels")
        if len(set(self.labels)) != len(self.labels):
            raise ArtifactError("model metadata has duplicate labels")
        if len(self.thresholds) != len(self.labels):
            raise ArtifactError(
                f"model metadata has {len(self.thresholds)} thresholds for {len(self.labels)} labels"
            )
        unknown = sorted(set(self.hierarchy) - set(self.labels))
        if unknown:
            raise ArtifactError(f"model metadata hierarchy names unknown labels: {', '.join(unknown[:5])}")

    def ancestors(self, label: str) -> list[str]:
        """Parents of `label` from the root down (cycles are cut)."""
        return ancestors(self.hierarchy, label)

    def to_props(self) -> dict[str, str]:
        data: dict[str, Any] = {
            "t2ipal_format": self.format_version,
            "labels": list(self.labels),
            "hierarchy": dict(self.hierarchy),
            "thresholds": [float(t) for t in self.thresholds],
            "preprocess": self.preprocess.to_dict(),
            "backbone": self.backbone,
            "model_checksum": self.model_checksum,
            "created": self.created,
            "app_version": self.app_version,
            "heatmap_grid": list(self.heatmap_grid) if self.heatmap_grid else None,
            "calibration": self.calibration.to_dict() if self.calibration is not None else None,
        }
        return {key: json.dumps(value, sort_keys=True) for key, value in data.items()}

    @classmethod
    def from_props(cls, props: dict[str, str], *, source: str = "model") -> ModelMetadata:
        missing = [k for k in _REQUIRED if k not in props]
        if missing:
            raise ArtifactError(
                f"{source} is not a T2I-PAL tagger export: metadata lacks {', '.join(missing)}; "
                "export it with `t2ipal export MODEL_DIR -o model.onnx`"
            )
        try:
            data = {k: json.loads(v) for k, v in props.items() if k in KEYS}
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"{source}: metadata value is not JSON: {exc}") from exc
        version = data["t2ipal_format"]
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ArtifactError(
                f"{source}: metadata format {version!r} is newer than this app supports ({FORMAT_VERSION})"
            )
        try:
            grid = data.get("heatmap_grid")
            return cls(
                labels=tuple(str(x) for x in data["labels"]),
                thresholds=tuple(float(x) for x in data["thresholds"]),
                preprocess=PreprocessSpec.from_dict(data["preprocess"]),
                model_checksum=str(data["model_checksum"]),
                hierarchy=dict(data.get("hierarchy") or {}),
                backbone=dict(data.get("backbone") or {}),
                created=str(data.get("created") or ""),
                app_version=str(data.get("app_version") or ""),
                heatmap_grid=(int(grid[0]), int(grid[1])) if grid else None,
                calibration=Calibration.from_dict(data.get("calibration"), len(data["labels"]), source=source),
                format_version=version,
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise ArtifactError(f"{source}: invalid metadata: {exc}") from exc
