"""`t2ipal demo review`: learning from a simulated reviewer's corrections, queue order against random order."""

from __future__ import annotations

import json
import logging
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import ConfigBase, require_choice, require_int, require_positive, require_range
from engine.errors import ConfigError
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel

log = logging.getLogger(__name__)

ORDERS = ("queue", "random")
POOL_START = 5000  # the reviewer's photos: "probe" items from here on, disjoint from the upper bound's and the
# linear probe's (0..2499) and from the test split (its own stream)


@dataclass(frozen=True)
class ReviewDemoConfig(ConfigBase):
    """Sizes of the review demo (the demo's quick caption count; retraining recipe chosen on the "val" split)."""

    seeds: tuple[int, ...] = (1, 2, 3)
    n_captions: int = 400
    n_test: int = 500
    n_pool: int = 300
    steps: tuple[int, ...] = (0, 25, 50, 100, 200)  # reviewed photos at which the model is retrained and scored
    epochs: int = 12  # the base T2I-PAL (the demo's recipe)
    retrain_epochs: int = 6
    retrain_lr: float = 5e-3
    unknown_weight: float = 0.2  # chosen on "val" (seed 1): 0.2 beat 0.0 at 25-200 photos (docs/training.md)
    photo_weight: float = 1.0
    eval_split: str = "test"  # "val" while choosing the retraining recipe; the reported run uses "test"
    orders: tuple[str, ...] = ORDERS

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ConfigError("seeds", "need at least one seed")
        for name in ("n_captions", "n_test", "n_pool", "epochs", "retrain_epochs"):
            require_int(name, getattr(self, name), minimum=1)
        if list(self.steps) != sorted(self.steps) or self.steps[0] != 0 or self.steps[-1] > self.n_pool:
            raise ConfigError("steps", f"must rise from 0 to at most n_pool ({self.n_pool})")
        require_positive("retrain_lr", self.retrain_lr)
        require_range("unknown_weight", self.unknown_weight, 0.0, 1.0)
        require_positive("photo_weight", self.photo_weight)
        require_choice("eval_split", self.eval_split, ("test", "val"))
        for order in self.orders:
            require_choice("orders", order, ORDERS)


@dataclass
class ReviewDemoResult:
    """Test mAP per order, step and seed; the base model's mAP is step 0 (shared by both orders)."""

    steps: list[int]
    curves: dict[str, dict[int, list[float]]] = field(default_factory=dict)  # order -> step -> per-seed mAP
    linear_probe_map: float | None = None
    config: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def mean_std(self, order: str, step: int) -> tuple[float, float]:
        values = self.curves[order][step]
        return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "curves": {o: {str(k): v for k, v in c.items()} for o, c in self.curves.items()},
                "linear_probe_map": self.linear_probe_map, "config": self.config, "seconds": self.seconds}

    def photos_to_reach(self, order: str, target: float) -> int | None:
        """The fewest reviewed photos (linear between measured steps) at which `order`'s mean mAP reaches `target`."""
        means = [self.mean_std(order, s)[0] for s in self.steps]
        for i, (step, value) in enumerate(zip(self.steps, means, strict=True)):
            if value >= target:
                if i == 0:
                    return step
                prev_step, prev = self.steps[i - 1], means[i - 1]
                return int(round(prev_step + (target - prev) / (value - prev) * (step - prev_step)))
        return None

    def format_table(self) -> str:
        head = f"{'reviewed photos':<18}" + "".join(f"{o + ' mAP ± std':>22}" for o in self.curves)
        lines = [head, "-" * len(head)]
        for step in self.steps:
            cells = "".join("{:>14.2f} ± {:<5.2f}".format(*self.mean_std(o, step)) for o in self.curves)
            lines.append(f"{step:<18}{cells}")
        base = self.mean_std(next(iter(self.curves)), 0)[0]
        lines.append("")
        for o in self.curves:
            if 50 in self.steps:
                lines.append(f"{o}: gain at 50 photos {self.mean_std(o, 50)[0] - base:+.2f} mAP")
        if self.linear_probe_map is not None:
            last = self.steps[-1]
            for o in self.curves:
                lines.append(f"{o}: at {last} photos {self.mean_std(o, last)[0] - self.linear_probe_map:+.2f} mAP "
                             f"from the linear probe ({self.linear_probe_map:.2f})")
        if {"queue", "random"} <= set(self.curves) and 100 in self.steps:
            target = self.mean_std("random", 100)[0]
            reach = self.photos_to_reach("queue", target)
            lines.append(f"queue reaches random order's 100-photo mAP ({target:.2f}) with "
                         f"{reach if reach is not None else 'more than ' + str(self.steps[-1])} photos")
        return "\n".join(lines)


@dataclass
class _Seed:
    """One seed's fixed parts: training data, test and pool features, the base model folder."""

    dataset: Any
    base_dir: Path
    test: Any  # ImageFeatures
    pool: Any  # ImageFeatures
    pool_paths: list[str]
    pool_truth: np.ndarray


def simulated_review(probs: np.ndarray, thresholds: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What a reviewer who knows the truth does with one photo's shown tags: confirm the right ones, reject the
    wrong ones, add the missing ones. Returns (labels, known): every true label and every shown label is known."""
    shown = probs >= thresholds
    known = shown | (truth > 0)
    return (truth > 0).astype(np.uint8), known


def _scores(model_dir: Path, backbone: Any, feats: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw scores, probabilities and max-F1 probability thresholds of a model folder on cached features."""
    import torch

    from engine.artifact import ModelArtifact
    from engine.evaluation.calibration import Calibration

    artifact = ModelArtifact.from_pretrained(model_dir)
    model = artifact.load_model(backbone=backbone)
    with torch.no_grad():
        raw = model.score(feats.g.float(), feats.local.float(), branch="image").merged.numpy()
    cal = Calibration.from_dict(artifact.config.get("calibration"), len(artifact.labels))
    if cal is None or not cal.fitted:
        return raw, raw, np.asarray(artifact.thresholds)
    return raw, cal.probabilities(raw), np.asarray(cal.max_f1)


def _retrain_cfg(cfg: ReviewDemoConfig, seed: int) -> Any:
    from engine.training.config import TrainConfig

    return TrainConfig(epochs=cfg.retrain_epochs, batch_size=64, lr=cfg.retrain_lr, lambda_img=0.3, warmup_epochs=0,
                       heldout_fraction=0.15, seed=seed, select_on="last", unknown_weight=cfg.unknown_weight,
                       photo_weight=cfg.photo_weight)


def _set_up_seed(
    demo: Any, cfg: ReviewDemoConfig, seed: int, test_paths: list[str], cancel: CancelToken | None
) -> _Seed:
    """The seed's captions and renders, its base T2I-PAL (the demo's recipe) and the cached test/pool features."""
    from engine.clip.config import ModelConfig
    from engine.demo.pipeline import seed_dataset, write_split
    from engine.training.config import TrainConfig
    from engine.training.features import FeatureCache
    from engine.training.job import train_model

    project = demo.project
    dataset = seed_dataset(project, demo.db, demo.store, demo.labelset, seed, cfg.n_captions, cancel)
    base_dir = project.models_dir / f"review-base-seed{seed}"
    train_model(dataset, base_dir, backbone_cfg=demo.backbone.cfg, model_cfg=ModelConfig(n_ctx=8),
                train_cfg=TrainConfig(epochs=cfg.epochs, batch_size=64, lr=2e-3, lambda_img=0.3,
                                      heldout_fraction=0.15, seed=seed),
                cache_dir=project.feature_cache_dir, backbone=demo.backbone, cancel=cancel)
    pool_paths, pool_truth = write_split(project.root / "review-pool", "probe", cfg.n_pool, POOL_START)
    cache = FeatureCache(project.feature_cache_dir, demo.backbone)
    return _Seed(dataset, base_dir, cache.image_features(test_paths), cache.image_features(pool_paths),
                 pool_paths, pool_truth)


def _next_photos(order: str, model_dir: Path, state: _Seed, backbone: Any, reviewed: list[int], n: int,
                 rng: np.random.Generator) -> list[int]:
    """The next `n` pool photos: the queue ranks the unreviewed ones with the current model; random draws them."""
    from engine.tagging.review_queue import queue_order

    left = np.setdiff1d(np.arange(len(state.pool_paths)), reviewed)
    if order == "random":
        return [int(i) for i in rng.permutation(left)[:n]]
    _, probs, thresholds = _scores(model_dir, backbone, state.pool)
    return [int(left[i]) for i in queue_order(probs[left], thresholds, n)]


def _run_order(demo: Any, cfg: ReviewDemoConfig, seed: int, order: str, state: _Seed, truth: np.ndarray,
               result: ReviewDemoResult, reporter: ProgressReporter, cancel: CancelToken | None) -> None:
    """Review the pool in `order`, retraining (warm start from the current model) at every step."""
    from engine.datasets.reviewed import ReviewedPhotos
    from engine.evaluation.metrics import mean_average_precision
    from engine.training.job import train_model

    rng = np.random.default_rng([seed, 7])
    names = list(demo.labelset.names)
    current, reviewed = state.base_dir, list[int]()
    labels = np.zeros((0, len(names)), np.uint8)
    known = np.zeros((0, len(names)), bool)
    for prev, step in zip(cfg.steps, cfg.steps[1:], strict=False):
        check_cancel(cancel)
        batch = _next_photos(order, current, state, demo.backbone, reviewed, step - prev, rng)
        _, probs, thresholds = _scores(current, demo.backbone, state.pool)
        for i in batch:  # the reviewer sees the tags the current model shows
            y, k = simulated_review(probs[i], thresholds, state.pool_truth[i])
            labels, known = np.vstack([labels, y]), np.vstack([known, k])
        reviewed += batch
        photos = ReviewedPhotos(names, [state.pool_paths[i] for i in reviewed], labels, known)
        out = demo.project.models_dir / f"review-{order}-seed{seed}-{step}"
        train_model(state.dataset, out, backbone_cfg=demo.backbone.cfg, model_cfg=_base_model_cfg(),
                    train_cfg=_retrain_cfg(cfg, seed), cache_dir=demo.project.feature_cache_dir,
                    backbone=demo.backbone, photos=photos, init_from=current, cancel=cancel)
        current = out
        raw, _, _ = _scores(current, demo.backbone, state.test)
        result.curves[order][step].append(float(mean_average_precision(raw, truth)))
        log.info("seed %d %s %d photos: mAP %.2f", seed, order, step, result.curves[order][step][-1])
        reporter.advance(1)


def _base_model_cfg() -> Any:
    from engine.clip.config import ModelConfig

    return ModelConfig(n_ctx=8)


def run_review_demo(
    project_dir: str | Path,
    cfg: ReviewDemoConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ReviewDemoResult:
    """Train T2I-PAL per seed, then review a photo pool in queue and random order, retraining at every step."""
    import time

    from engine.demo.pipeline import open_demo_project, write_split, write_test_set
    from engine.demo.pretrain import DEFAULT_OUT
    from engine.evaluation.metrics import mean_average_precision

    cfg = cfg or ReviewDemoConfig()
    t0 = time.monotonic()
    demo = open_demo_project(project_dir)
    if cfg.eval_split == "test":
        test_paths, truth = write_test_set(demo.project.root / "test-photos", cfg.n_test)
    else:
        test_paths, truth = write_split(demo.project.root / "val-photos", "val", cfg.n_test)
    result = ReviewDemoResult(list(cfg.steps), {o: {s: [] for s in cfg.steps} for o in cfg.orders},
                              config=cfg.to_dict())
    quality = DEFAULT_OUT / "quality.json"
    if quality.exists() and cfg.eval_split == "test":
        result.linear_probe_map = float(json.loads(quality.read_text())["linear_probe_map"])
    reporter = ProgressReporter(progress, "review demo", len(cfg.seeds) * len(cfg.orders) * (len(cfg.steps) - 1))
    for seed in cfg.seeds:
        state = _set_up_seed(demo, cfg, seed, test_paths, cancel)
        base = float(mean_average_precision(_scores(state.base_dir, demo.backbone, state.test)[0], truth))
        for order in cfg.orders:
            result.curves[order][0].append(base)
            _run_order(demo, cfg, seed, order, state, truth, result, reporter, cancel)
    result.seconds = time.monotonic() - t0
    (demo.project.root / "review-results.json").write_text(json.dumps(result.to_dict(), indent=2))
    demo.db.close()
    return result
