"""Score a labelled image set with a model folder (or zero-shot CLIP) through torch and report metrics."""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import InputError
from engine.evaluation.metrics import MetricReport, evaluate_scores
from engine.imaging import PreprocessSpec, preprocess_batch
from engine.labels.labelset import LabelSet
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel

log = logging.getLogger(__name__)


@dataclass
class EvalInputs:
    """What to evaluate (a model folder, or zero-shot when None) on which data."""

    model_dir: Path | None = None
    dataset: str | None = None
    root: str | None = None
    images_csv: str | None = None
    labels: LabelSet | None = None  # the label set for zero-shot on images.csv
    variant: str = "zeroshot"  # without a model: a training-free variant (zeroshot, zeroshot_global, instant)
    backbone_overrides: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None


def score_images(
    module: Any,
    paths: list[str],
    spec: PreprocessSpec,
    *,
    batch_size: int = 32,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Run a TaggerModule over image files in batches (decoding overlapped in a thread) -> scores (N, C)."""
    import torch

    reporter = ProgressReporter(progress, "scoring images", len(paths))
    batches = [paths[i : i + batch_size] for i in range(0, len(paths), batch_size)]
    out: list[np.ndarray] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for i in range(len(batches)):
            check_cancel(cancel)
            arr = pending.result() if pending is not None else preprocess_batch(batches[i], spec)
            pending = pool.submit(preprocess_batch, batches[i + 1], spec) if i + 1 < len(batches) else None
            with torch.no_grad():
                scores, _ = module(torch.from_numpy(arr).to(module.backbone.device))
            out.append(scores.float().cpu().numpy())
            reporter.advance(len(batches[i]))
    n_cls = int(module.num_classes)
    return np.concatenate(out) if out else np.zeros((0, n_cls), np.float32)


def _load_data(inputs: EvalInputs) -> tuple[list[str], list[str], np.ndarray, list[str] | None]:
    """(paths, classnames, labels, prompt_names or None)."""
    if inputs.dataset:
        from engine.evaluation.datasets import load_eval_dataset

        ds = load_eval_dataset(inputs.dataset, inputs.root or "")
        return [str(p) for p in ds.image_paths], list(ds.classnames), ds.labels, list(ds.prompt_names)
    if inputs.images_csv:
        from engine.artifact import ModelArtifact
        from engine.datasets.csv_sets import from_csv

        labelset = inputs.labels
        if labelset is None and inputs.model_dir is not None:
            labelset = ModelArtifact.from_pretrained(inputs.model_dir).labelset
        if labelset is None:
            raise InputError("evaluating images.csv zero-shot needs --labels")
        ts = from_csv(labelset, None, inputs.images_csv)
        return ts.image_paths, list(labelset.names), ts.image_labels, list(labelset.prompt_names)
    raise InputError("nothing to evaluate: give a dataset or an images.csv")


def evaluate_model(
    inputs: EvalInputs,
    *,
    batch_size: int = 32,
    topk: int = 3,
    device: str = "auto",
    precision: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> MetricReport:
    from engine.device import resolve

    placement = resolve(device, precision)
    paths, classnames, labels, prompt_names = _load_data(inputs)
    if inputs.limit:
        paths, labels = paths[: inputs.limit], labels[: inputs.limit]
    thresholds: Any = None
    if inputs.model_dir is not None:
        from engine.artifact import ModelArtifact

        art = ModelArtifact.from_pretrained(inputs.model_dir)
        if art.labels != classnames:
            raise InputError(
                f"the model's labels ({', '.join(art.labels[:5])}...) differ from the data's "
                f"({', '.join(classnames[:5])}...); evaluate on data labelled with the model's label set"
            )
        module = art.tagger_module(device=placement.device, precision=placement.precision)
        thresholds = np.asarray(art.thresholds)
    else:
        from engine.clip.backbone import load_backbone
        from engine.clip.config import BackboneConfig, ModelConfig, training_free_variants
        from engine.clip.inference import tagger_from_model
        from engine.clip.model import T2IPAL

        bcfg = dataclasses.replace(BackboneConfig(), **inputs.backbone_overrides)
        backbone = load_backbone(bcfg, device=placement.device, precision=placement.precision)
        model_cfg = ModelConfig(variant=inputs.variant)
        if model_cfg.learned:
            raise InputError(f"variant {inputs.variant} must be trained first; without a model choose one of "
                             f"{', '.join(training_free_variants())}")
        if inputs.labels is not None:
            model_cfg = model_cfg.for_labelset(inputs.labels.training_defaults)
        model = T2IPAL(backbone, prompt_names or classnames, model_cfg)
        module = tagger_from_model(model)
    spec = module.backbone.preprocess_spec
    scores = score_images(module, paths, spec, batch_size=batch_size, progress=progress, cancel=cancel)
    return evaluate_scores(scores, labels, classnames, thresholds=thresholds, topk=topk)
