"""Optional quality filter: score synthetic images against their caption's labels with the frozen CLIP."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.config import ConfigBase, require_int
from engine.errors import ConfigError, InputError
from engine.imaging import preprocess_batch
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel
from engine.synthesis.cache import Manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QualityConfig(ConfigBase):
    """A label "shows" when its prompt beats the mean of the other labels' prompts by `min_margin`.

    Cosines of a frozen CLIP sit in a narrow band, so the margin is small (0.0 = "better than
    average"). `require="all"` flags an image when any of its labels does not show; "any" only when
    none shows.
    """

    template: str = "a photo of a {}."
    neutral_prompt: str = "a photo."  # always among the negatives, so a one-label set still has one
    min_margin: float = 0.0
    require: str = "all"
    batch_size: int = 32

    def __post_init__(self) -> None:
        if "{}" not in self.template:
            raise ConfigError("template", "must contain {} for the label name")
        if self.require not in ("all", "any"):
            raise ConfigError("require", f"{self.require!r} is not one of 'all', 'any'")
        require_int("batch_size", self.batch_size, minimum=1)


@dataclass(frozen=True)
class QualityScore:
    """Per-image result: the smallest label margin, each label's margin, and whether it is flagged."""

    score: float
    margins: dict[str, float]
    flagged: bool


@dataclass
class QualityResult:
    scored: int = 0
    flagged: int = 0
    flagged_paths: list[str] = field(default_factory=list)


def score_images(
    backbone: Any,
    images: Sequence[Any],
    labels: Sequence[Sequence[str]],
    label_names: Sequence[str],
    cfg: QualityConfig | None = None,
    *,
    cancel: CancelToken | None = None,
) -> list[QualityScore]:
    """Score PIL images (or paths) against their labels among all `label_names`.

    `backbone` is an `engine.clip.backbone.ClipBackbone` (or anything with `preprocess_spec`,
    `image_features`, `encode_texts` and, optionally, `device`).
    """
    import torch

    cfg = cfg or QualityConfig()
    if len(images) != len(labels):
        raise InputError(f"{len(images)} images but {len(labels)} label lists")
    names = list(dict.fromkeys(label_names))
    index = {n: i for i, n in enumerate(names)}
    unknown = sorted({lab for labs in labels for lab in labs if lab not in index})
    if unknown:
        raise InputError(f"labels not in the label set: {', '.join(unknown[:5])}")
    with torch.no_grad():
        text = backbone.encode_texts([cfg.template.format(n) for n in names] + [cfg.neutral_prompt]).float().cpu()
    device = getattr(backbone, "device", "cpu")
    out: list[QualityScore] = []
    for start in range(0, len(images), cfg.batch_size):
        check_cancel(cancel)
        chunk = images[start : start + cfg.batch_size]
        pixels = torch.from_numpy(preprocess_batch(list(chunk), backbone.preprocess_spec)).to(device)
        dtype = getattr(backbone, "dtype", None)
        if isinstance(dtype, torch.dtype):
            pixels = pixels.to(dtype)
        with torch.no_grad():
            g, _ = backbone.image_features(pixels)
        sims = (g.float().cpu() @ text.T).numpy()  # (b, C + 1), last column = neutral prompt
        for row, labs in zip(sims, labels[start : start + len(chunk)], strict=True):
            out.append(_score_row(row, [index[x] for x in labs], names, cfg))
    return out


def _score_row(row: np.ndarray, positives: list[int], names: list[str], cfg: QualityConfig) -> QualityScore:
    if not positives:
        return QualityScore(0.0, {}, False)  # nothing to check
    negatives = [j for j in range(len(row)) if j not in set(positives)]  # includes the neutral prompt
    baseline = float(row[negatives].mean())
    margins = {names[i]: float(row[i]) - baseline for i in positives}
    shows = [m >= cfg.min_margin for m in margins.values()]
    flagged = not all(shows) if cfg.require == "all" else not any(shows)
    return QualityScore(min(margins.values()), margins, flagged)


def filter_synthetic(
    manifest: Manifest,
    backbone: Any,
    label_names: Sequence[str],
    cfg: QualityConfig | None = None,
    *,
    params_hash: str | None = None,
    rescore: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> QualityResult:
    """Score cached images (of one parameter set, or all) and store score/flag in the manifest.

    Already-scored images are skipped unless `rescore`; results are committed per batch (resumable).
    """
    cfg = cfg or QualityConfig()
    records = [r for r in manifest.records(params_hash) if rescore or r.quality_flagged is None]
    result = QualityResult()
    reporter = ProgressReporter(progress, "quality", total=len(records))
    step = cfg.batch_size
    for start in range(0, len(records), step):
        check_cancel(cancel)
        chunk = records[start : start + step]
        scores = score_images(
            backbone,
            [manifest.root / r.path for r in chunk],
            [r.labels for r in chunk],
            label_names,
            cfg,
            cancel=cancel,
        )
        pairs = list(zip(chunk, scores, strict=True))
        manifest.set_quality([(r.path, s.score, s.flagged, {"margins": s.margins}) for r, s in pairs])
        result.scored += len(chunk)
        for r, s in pairs:
            if s.flagged:
                result.flagged += 1
                result.flagged_paths.append(r.path)
        reporter.advance(len(chunk))
    log.info("quality filter: %d scored, %d flagged", result.scored, result.flagged)
    return result
