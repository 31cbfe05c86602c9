"""Evaluate a model (or zero-shot CLIP) on a labelled photo set: mAP, CF1, OF1 per label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import require_training
from engine.errors import InputError
from engine.progress import CancelToken, ProgressCallback


def evaluate(
    *,
    model_dir: str | Path | None = None,
    dataset: str | None = None,
    root: str | Path | None = None,
    images_csv: str | Path | None = None,
    labels: Any = None,
    backbone_overrides: dict[str, Any] | None = None,
    variant: str = "zeroshot",
    limit: int | None = None,
    batch_size: int = 32,
    topk: int = 3,
    device: str = "auto",
    precision: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """A MetricReport for `model_dir` (or, without one, the training-free `variant`) on a dataset or images.csv."""
    if dataset and not root:
        raise InputError("--dataset needs --root, the folder that holds the data")
    if not dataset and not images_csv:
        raise InputError("give --dataset NAME --root PATH or --images images.csv")
    require_training("Evaluation")
    from engine.evaluation.runner import EvalInputs, evaluate_model

    inputs = EvalInputs(
        model_dir=Path(model_dir) if model_dir else None, dataset=dataset, root=str(root) if root else None,
        images_csv=str(images_csv) if images_csv else None,
        labels=labels, backbone_overrides=backbone_overrides or {}, variant=variant, limit=limit,
    )
    return evaluate_model(inputs, batch_size=batch_size, topk=topk, device=device, precision=precision,
                          progress=progress, cancel=cancel)
