"""`t2ipal demo tune`: choose the demo's training hyperparameters on held-out *synthetic* images only."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel

log = logging.getLogger(__name__)

# A small grid around TaI-DPT's recipe; the test split is never read here.
DEFAULT_GRID: dict[str, tuple[Any, ...]] = {
    "lr": (5e-4, 2e-3, 8e-3),
    "epochs": (6, 12),
    "lambda_img": (0.3, 0.5, 0.7),
}


@dataclass
class TuneResult:
    """Held-out synthetic mAP per grid point (seed 0's captions and renders, a seed the demo never reports)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] = field(default_factory=dict)

    def format_table(self) -> str:
        keys = [k for k in self.rows[0] if k != "heldout_map"] if self.rows else []
        lines = ["  ".join(f"{k:>10}" for k in keys) + f"{'held-out mAP':>14}"]
        for row in sorted(self.rows, key=lambda r: -r["heldout_map"]):
            lines.append("  ".join(f"{row[k]:>10}" for k in keys) + f"{row['heldout_map']:14.2f}")
        lines.append(f"best: {self.best}")
        return "\n".join(lines)


def tune_demo(
    project_dir: str | Path,
    *,
    grid: dict[str, tuple[Any, ...]] | None = None,
    n_captions: int = 800,
    n_ctx: int = 8,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> TuneResult:
    """Train T2I-PAL at every grid point on one caption set; score each on the held-out synthetic renders."""
    from engine.clip.config import ModelConfig
    from engine.demo.pipeline import open_demo_project, seed_dataset
    from engine.training.config import TrainConfig
    from engine.training.job import train_model

    grid = grid or DEFAULT_GRID
    demo = open_demo_project(project_dir)
    if demo.random_clip:
        log.warning("tuning on a random-init demo CLIP: the choice means nothing")
    project, backbone, db = demo.project, demo.backbone, demo.db
    dataset = seed_dataset(project, db, demo.store, demo.labelset, seed, n_captions, cancel)
    points = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    reporter = ProgressReporter(progress, "tuning", len(points))
    result = TuneResult()
    for i, point in enumerate(points):
        check_cancel(cancel)
        cfg = TrainConfig(heldout_fraction=0.15, seed=seed, **point)
        run = train_model(dataset, project.models_dir / f"tune-{i}", backbone_cfg=backbone.cfg,
                          model_cfg=ModelConfig(n_ctx=n_ctx), train_cfg=cfg, cache_dir=project.feature_cache_dir,
                          backbone=backbone, cancel=cancel)
        result.rows.append({**point, "heldout_map": float(run.heldout_map or 0.0)})
        log.info("tune %s: held-out synthetic mAP %.2f", point, run.heldout_map or 0.0)
        reporter.advance(1)
    db.conn.close()
    result.best = max(result.rows, key=lambda r: r["heldout_map"]) if result.rows else {}
    return result
