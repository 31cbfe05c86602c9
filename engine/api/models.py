"""The project's model: train it, export it to ONNX, say what the project has, and explain a tag."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import require_training
from engine.api.projects import load_labels
from engine.errors import InputError
from engine.progress import CancelToken, ProgressCallback
from engine.project import ModelRecord, Project


@dataclass(frozen=True)
class ModelStatus:
    """What a front end shows about the project's model."""

    record: ModelRecord
    project_labels: tuple[str, ...] = ()
    summary: dict[str, Any] = field(default_factory=dict)  # the trained folder's summary (variant, held-out mAP)
    thresholds: dict[str, float] = field(default_factory=dict)
    backbone: str = ""  # the CLIP it was trained on (model_name), "" when the project has no trained folder

    @property
    def trained(self) -> bool:
        return self.record.trained

    @property
    def exported(self) -> bool:
        return self.record.exported and self.record.onnx_sha256 != ""

    @property
    def labels_match(self) -> bool:
        """False when the label set was edited after the model was trained (retrain to use the new labels)."""
        return not self.record.labels or tuple(self.record.labels) == self.project_labels

    def describe(self) -> str:
        if not self.trained:
            return "No model trained yet."
        variant = self.summary.get("variant", "model")
        held = self.summary.get("heldout_map")
        text = f"Trained {variant}" + (f", held-out mAP {held:.1f}" if isinstance(held, (int, float)) else "")
        text += "; exported for tagging." if self.exported else "; not exported yet."
        if not self.labels_match:
            text += " The label set changed since training: retrain to use the new labels."
        return text


def _adopt_canonical(project: Project, record: ModelRecord) -> ModelRecord:
    """Projects made before models were recorded: adopt their own canonical model folder / ONNX file.

    Only while no model folder is recorded: a training records its folder and clears the export, and the ONNX
    file left from the model before it must not be adopted as the export of the new one.
    """
    fields: dict[str, Any] = {}
    if record.model_dir is None and (project.model_dir / "config.json").is_file():
        fields["model_dir"] = project.model_dir
        labels = json.loads((project.model_dir / "labels.json").read_text(encoding="utf-8"))
        fields["labels"] = labels.get("names") or [lab["name"] for lab in labels.get("labels", [])]
    if record.onnx_path is None and record.model_dir is None and project.onnx_path.is_file():
        from engine.hashing import sha256_file

        fields["onnx_path"] = project.onnx_path
        fields["onnx_sha256"] = sha256_file(project.onnx_path)
    return project.record_model(**fields) if fields else record


def model_status(project: Project) -> ModelStatus:
    """The project's current model (never another project's), its summary and per-label thresholds."""
    record = _adopt_canonical(project, project.model_record())
    try:
        project_labels = tuple(load_labels(project).names)
    except InputError:
        project_labels = ()
    summary: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    backbone = ""
    if record.trained and record.model_dir is not None:
        config = json.loads((record.model_dir / "config.json").read_text(encoding="utf-8"))
        summary = dict(config.get("summary") or {})
        thresholds = dict(zip(record.labels, config.get("thresholds", []), strict=False))
        backbone = str((config.get("backbone") or {}).get("model_name", ""))
    return ModelStatus(record, project_labels, summary, thresholds, backbone)


def train(
    project: Project,
    *,
    backbone: Any = None,
    model: Any = None,
    train: Any = None,
    device: str = "auto",
    precision: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Train the project's model on its captions and synthetic images; it becomes the project's current model.

    `backbone`, `model` and `train` are `BackboneConfig`, `ModelConfig` and `TrainConfig` (defaults when None).
    The inputs are checked before torch is imported; a training that stops early resumes on the next call.
    """
    from engine.clip.config import BackboneConfig, ModelConfig
    from engine.clip.vocabulary import check_config_vocabulary
    from engine.training.config import TrainConfig
    from engine.training.project_data import training_set_from_project

    require_training("Training")
    labels = load_labels(project)
    backbone = backbone or BackboneConfig()
    check_config_vocabulary(backbone, labels.names)  # before any image or weight is read
    dataset = training_set_from_project(project, labels)
    from engine.training.job import train_model  # imports torch

    result = train_model(dataset, project.model_dir, backbone_cfg=backbone,
                         model_cfg=model or ModelConfig(), train_cfg=train or TrainConfig(),
                         cache_dir=project.feature_cache_dir, device=device, precision=precision,
                         progress=progress, cancel=cancel)
    project.record_model(model_dir=project.model_dir, labels=list(labels.names), onnx_path=None, onnx_sha256="")
    return result


def export(
    project: Project,
    *,
    device: str = "cpu",
    opset: int = 17,
    tolerance: float | None = None,
    quantize: str = "none",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Export the project's trained model to its ONNX file (parity-checked); the Tagging step then uses it.

    `quantize="int8"` also writes `exports/model.int8.onnx`, calibrated on the project's synthetic images,
    and makes it the model tagging uses; the result's `quantized` holds its `QuantizeResult`.
    """
    _check_quantize(quantize)
    status = model_status(project)
    if not status.trained or status.record.model_dir is None:
        raise InputError(f"project {project.root} has no trained model yet; train one first (`t2ipal train "
                         f"--project {project.root}` or the Training panel)")
    require_training("Exporting to ONNX")
    from engine.export.onnx_export import DEFAULT_TOLERANCE, export_onnx
    from engine.hashing import sha256_file

    renders: list[Path] = []
    if quantize == "int8":
        from engine.api.synthesis import synthetic_images, synthetic_path
        from engine.export.quantize import require_calibration

        renders = [synthetic_path(project, r) for r in synthetic_images(project)]
        require_calibration(renders)
    project.exports_dir.mkdir(parents=True, exist_ok=True)
    result = export_onnx(status.record.model_dir, project.onnx_path, device=device, opset=opset,
                         tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance,
                         progress=progress, cancel=cancel)
    onnx_path = project.onnx_path
    if quantize == "int8":
        from engine.export.quantize import int8_path, quantize_int8

        result.quantized = quantize_int8(project.onnx_path, int8_path(project.onnx_path), renders)
        onnx_path = result.quantized.path
    project.record_model(onnx_path=onnx_path, onnx_sha256=sha256_file(onnx_path),
                         labels=list(result.metadata.labels))
    return result


def _check_quantize(quantize: str) -> None:
    from engine.export.quantize import QUANTIZE_CHOICES

    if quantize not in QUANTIZE_CHOICES:
        raise InputError(f"quantize must be one of {', '.join(QUANTIZE_CHOICES)}, not {quantize!r}")


def exported_model(project: Project) -> tuple[Path, str]:
    """The project's exported ONNX file and its recorded checksum; a clear error when there is none.

    The file is not hashed here: whatever loads it (`TaggerSession(sha256=record.onnx_sha256)`, through
    `tag_folders`, the Ray tagger or `explain`) checks the bytes it loads against the recorded checksum.
    """
    status = model_status(project)
    record = status.record
    if not status.exported or record.onnx_path is None:
        hint = "export it (`t2ipal export --project P` or Training → Export)" if status.trained else "train one first"
        raise InputError(f"project {project.root} has no exported model; {hint}")
    return record.onnx_path, record.onnx_sha256


@functools.lru_cache(maxsize=2)
def _session(path: str, checksum: str) -> Any:
    from engine.tagging.onnx_session import TaggerSession

    return TaggerSession(path, provider="cpu", sha256=checksum or None)


def explain(project: Project, image: str | Path, label: str) -> Any:
    """Where in `image` the project's model sees `label`: an (h, w) float32 map scaled to [0, 1]."""
    import numpy as np

    from engine.tagging.decode import decode_file

    path, checksum = exported_model(project)
    session = _session(str(path), checksum)
    labels = list(session.metadata.labels)
    if label not in labels:
        raise InputError(f"the project's model has no label {label!r}; its labels: {', '.join(labels[:20])}")
    decoded = decode_file(str(image), session.metadata.preprocess)
    _scores, heatmaps = session.scores_and_heatmaps(decoded.array[None].astype(np.float32))
    heat = heatmaps[0, labels.index(label)].astype(np.float32)
    return (heat - heat.min()) / max(float(heat.max() - heat.min()), 1e-6)


def train_from_files(
    labels: Any,
    out: str | Path,
    *,
    captions_csv: str | Path | None = None,
    images_csv: str | Path | None = None,
    cache: str | Path | None = None,
    backbone: Any = None,
    model: Any = None,
    train: Any = None,
    device: str = "auto",
    precision: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Train a model folder `out` from CSV files (no project): captions.csv and/or images.csv with labels."""
    from engine.clip.config import BackboneConfig, ModelConfig
    from engine.datasets.csv_sets import from_csv
    from engine.training.config import TrainConfig

    if not (captions_csv or images_csv):
        raise InputError("give captions (--captions captions.csv) and/or synthetic images (--images images.csv)")
    require_training("Training")
    dataset = from_csv(labels, captions_csv, images_csv)
    out = Path(out)
    from engine.training.job import train_model  # imports torch

    cache_dir = Path(cache) if cache else out.parent / ".feature-cache"
    return train_model(dataset, out, backbone_cfg=backbone or BackboneConfig(), model_cfg=model or ModelConfig(),
                       train_cfg=train or TrainConfig(), cache_dir=cache_dir, device=device, precision=precision,
                       progress=progress, cancel=cancel)


def export_folder(
    model_dir: str | Path,
    out: str | Path,
    *,
    device: str = "cpu",
    opset: int = 17,
    tolerance: float | None = None,
    trust_unverified: bool = False,
    quantize: str = "none",
    calibration: Sequence[str | Path] = (),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Export any trained model folder to an ONNX file (no project); writes `out.sha256` beside it.

    `quantize="int8"` also writes `out` with `.int8.onnx`, calibrated on `calibration` (image files or
    folders of them); the result's `quantized` holds its `QuantizeResult`.
    """
    _check_quantize(quantize)
    require_training("Exporting to ONNX")
    from engine.export.onnx_export import DEFAULT_TOLERANCE, export_onnx

    images = _calibration_files(calibration) if quantize == "int8" else []
    if quantize == "int8":
        from engine.export.quantize import require_calibration

        require_calibration(images)
    result = export_onnx(model_dir, out, device=device, opset=opset,
                         tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance,
                         trust_unverified=trust_unverified, progress=progress, cancel=cancel)
    if quantize == "int8":
        from engine.export.quantize import int8_path, quantize_int8

        result.quantized = quantize_int8(out, int8_path(out), images)
    return result


def _calibration_files(items: Sequence[str | Path]) -> list[Path]:
    """Image files named directly or found (sorted, recursively) under folders."""
    from engine.tagging.scan import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, scan_folders

    entries = scan_folders([str(Path(i).resolve()) for i in items], include=DEFAULT_INCLUDE, exclude=DEFAULT_EXCLUDE)
    return sorted(Path(e.path) for e in entries if not e.error)


INSTANT_THRESHOLD = 0.5  # without labelled images: a label is tagged when its score (a probability) passes 0.5


def make_instant_model(
    project: Project,
    backbone: Any = None,
    *,
    device: str = "cpu",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """The training-free tagger as the project's current model, exported to ONNX: tags right after the labels.

    `backbone` is a `BackboneConfig` (default: the engine's). When the project already has synthetic images,
    the per-label thresholds are calibrated (max F1) on half of them; otherwise every label starts at
    `INSTANT_THRESHOLD`. Training a model later replaces it. Returns the export result.
    """
    from engine.clip.config import BackboneConfig, ModelConfig
    from engine.training.config import TrainConfig
    from engine.training.project_data import training_set_from_project

    require_training("The instant model")
    labels = load_labels(project)
    bcfg = backbone or BackboneConfig()
    model_cfg = ModelConfig(variant="instant").for_labelset(labels.training_defaults)
    try:
        dataset = training_set_from_project(project, labels)
    except InputError:
        dataset = None
    if dataset is not None and dataset.image_paths:
        from engine.training.job import train_model  # imports torch

        train_model(dataset, project.model_dir, backbone_cfg=bcfg, model_cfg=model_cfg,
                    train_cfg=TrainConfig(heldout_fraction=0.5), cache_dir=project.feature_cache_dir,
                    device=device, progress=progress, cancel=cancel)
    else:
        from engine.artifact import save_pretrained
        from engine.clip.backbone import load_backbone
        from engine.clip.model import T2IPAL

        model = T2IPAL(load_backbone(bcfg, device=device), labels.prompt_names, model_cfg)
        save_pretrained(model, project.model_dir, labels, thresholds=[INSTANT_THRESHOLD] * len(labels.names),
                        summary={"variant": "instant", "heldout_map": None, "calibrated": False})
    project.record_model(model_dir=project.model_dir, labels=list(labels.names), onnx_path=None, onnx_sha256="")
    return export(project, device=device, progress=progress, cancel=cancel)
