"""`t2ipal demo run`: the whole pipeline on the demo world through the app's own engine functions."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import ConfigBase, require_int, require_positive, require_range
from engine.errors import ArtifactError, ConfigError
from engine.progress import CancelToken, ProgressCallback, ProgressEvent, check_cancel

log = logging.getLogger(__name__)

# The rows of the demo table: the baselines as the papers define them, the paper's ablations (Tables VII, VIII)
# and the training-free tagger; every name but "upper_bound" is a variant in engine/clip/config.py VARIANTS.
METHODS = (
    "zeroshot_global", "zeroshot", "instant", "taidpt", "taidpt_csc", "t2i_noadapter", "t2i",
    "t2ipal_global_only", "t2ipal_local_only", "t2ipal_noadapter", "t2ipal_global_adapter", "t2ipal", "upper_bound",
)
TITLES = {
    "zeroshot_global": "zero-shot CLIP, global only",
    "zeroshot": "zero-shot CLIP (TaI-DPT's)",
    "instant": "training-free local tagger",
    "taidpt": "TaI-DPT (its recipe)",
    "taidpt_csc": "TaI-DPT, class-specific",
    "t2i_noadapter": "T2I without adapter",
    "t2i": "T2I (synthetic images only)",
    "t2ipal_global_only": "T2I-PAL global branch only",
    "t2ipal_local_only": "T2I-PAL local branch only",
    "t2ipal_noadapter": "T2I-PAL without adapter",
    "t2ipal_global_adapter": "T2I-PAL adapter on global",
    "t2ipal": "T2I-PAL",
    "upper_bound": "upper bound (labelled photos)",
}
REFERENCE = "t2ipal"  # the paired differences are T2I-PAL minus each row, seed by seed
OWN_RECIPE = ("taidpt",)  # trained with their own lr, batch size and prompt length, not the demo's


@dataclass(frozen=True)
class DemoConfig(ConfigBase):
    """Sizes of the demo run; lr, epochs and lambda_img were chosen on held-out synthetic renders, never on "test".

    Every method uses the demo's recipe below except those in `OWN_RECIPE` (TaI-DPT), which keep their
    variant's own lr, batch size and prompt length.
    """

    seeds: tuple[int, ...] = (1, 2, 3)  # vary captions, renders, prompt init; 5 seeds would not fit in 5 min
    n_captions: int = 800
    n_test: int = 500
    n_upper: int = 800  # labelled photo-style images for the upper bound
    epochs: int = 12  # lr, epochs and lambda_img: `t2ipal demo tune` (held-out synthetic renders, seed 0)
    batch_size: int = 64
    lr: float = 2e-3
    lambda_img: float = 0.3
    n_ctx: int = 8
    # The upper bound's own recipe, chosen on 15% of its labelled photos held out (never "test"; docs/training.md):
    # the demo recipe (132 SGD steps at lr 2e-3, kappa 4) leaves the head undertrained on 680 photos.
    upper_lr: float = 1e-2
    upper_epochs: int = 80
    upper_logit_scale: float = 10.0
    methods: tuple[str, ...] = METHODS

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ConfigError("seeds", "need at least one seed")
        for name in ("n_captions", "n_test", "n_upper", "epochs", "batch_size", "n_ctx", "upper_epochs"):
            require_int(name, getattr(self, name), minimum=1)
        require_positive("lr", self.lr)
        require_positive("upper_lr", self.upper_lr)
        require_positive("upper_logit_scale", self.upper_logit_scale)
        require_range("lambda_img", self.lambda_img, 0.0, 1.0)
        unknown = set(self.methods) - set(METHODS)
        if unknown:
            raise ConfigError("methods", f"unknown {sorted(unknown)}; known: {', '.join(METHODS)}")

    @classmethod
    def quick(cls) -> DemoConfig:
        return cls(seeds=(1, 2), n_captions=240, n_test=200, n_upper=240, epochs=6)


@dataclass
class DemoResult:
    """mAP per method and seed (from the tag database), mean ± std, the CLIP's gap figures, stage times."""

    project: str
    per_seed: dict[str, list[float]] = field(default_factory=dict)
    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    paired: dict[str, dict[str, float]] = field(default_factory=dict)  # T2I-PAL minus the row: mean, low, high
    clip_quality: dict[str, Any] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    test_images: int = 0
    db_rows: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    random_clip: bool = False  # True when the shipped demo CLIP was missing (numbers then mean nothing)
    # method -> metric -> one value per seed: CF1/OF1 of the tags in force at the default threshold policy,
    # CF1 at per-label oracle thresholds, ECE (15 bins) of the stored probabilities on the photo-style test set
    tag_quality: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project, "per_seed": self.per_seed, "summary": self.summary, "paired": self.paired,
            "clip_quality": self.clip_quality, "stage_seconds": self.stage_seconds,
            "test_images": self.test_images, "db_rows": self.db_rows, "config": self.config,
            "random_clip": self.random_clip, "tag_quality": self.tag_quality,
        }

    def format_table(self) -> str:
        lines = [f"{'method':<32}{'mAP':>8}{'± std':>8}  {'T2I-PAL minus row [95% CI]':>28}   per seed", "-" * 100]
        if self.random_clip:
            lines.insert(0, "WARNING: engine/demo/demo_clip/model.safetensors is missing, so this run used a "
                            "RANDOM-INIT demo CLIP;\nthe pipeline ran for real but the numbers mean nothing. Make the "
                            "weights with `t2ipal demo pretrain`.\n")
        for m in METHODS:
            if m in self.summary:
                s = self.summary[m]
                seeds = " ".join(f"{v:.1f}" for v in self.per_seed[m])
                lines.append(f"{TITLES[m]:<32}{s['mean']:8.2f}{s['std']:8.2f}  {self._paired_cell(m):>28}   {seeds}")
        lines += self._tag_quality_lines()
        q = self.clip_quality
        if q:
            lines += ["", "demo CLIP (photo-style test set): "
                      f"zero-shot mAP {q.get('zero_shot_map', float('nan')):.1f}, "
                      f"linear probe {q.get('linear_probe_map', float('nan')):.1f}"]
            gap = q.get("modality_gap", q)
            keys = [k for k in ("image_image_cos", "matched_image_text_cos", "text_text_cos",
                                "unmatched_image_text_cos", "centroid_distance") if k in gap]
            if keys:
                lines.append("modality gap: " + ", ".join(f"{k} {gap[k]:.3f}" for k in keys))
        if self.paired:
            lines += ["", "T2I-PAL minus row: the mean over seeds of the per-seed difference (same captions, renders "
                      "and test photos),", "with a 95% t-interval; an interval that contains 0 is inside the noise."]
        lines += ["", "time per stage: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.stage_seconds.items())]
        return "\n".join(lines)


    def _paired_cell(self, method: str) -> str:
        d = self.paired.get(method)
        if d is None:
            return "(reference)" if method == REFERENCE and self.paired else ""
        return f"{d['mean']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"

    def _tag_quality_lines(self) -> list[str]:
        """Tags at the default threshold policy next to the oracle thresholds' CF1, and calibration error."""
        if not self.tag_quality:
            return []
        lines = ["", "tags in force at the default policy (mean over seeds; oracle: per-label thresholds "
                 "chosen on the test labels)",
                 f"{'method':<32}{'CF1':>8}{'OF1':>8}{'oracle CF1':>12}{'gap':>7}{'ECE':>8}", "-" * 75]
        for m in METHODS:
            q = self.tag_quality.get(m)
            if not q or not q.get("cf1"):
                continue
            mean = {k: statistics.fmean(v) for k, v in q.items() if v}
            lines.append(f"{TITLES[m]:<32}{mean['cf1']:8.2f}{mean['of1']:8.2f}{mean['oracle_cf1']:12.2f}"
                         f"{mean['oracle_cf1'] - mean['cf1']:7.2f}{mean['ece']:8.3f}")
        return lines


class _Stages:
    def __init__(self, progress: ProgressCallback | None) -> None:
        self.seconds: dict[str, float] = {}
        self.progress = progress

    def say(self, message: str) -> None:
        if self.progress:
            self.progress(ProgressEvent("demo", 0, None, message))

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - t0


def demo_backbone_cfg(fallback_dir: Path | None = None) -> tuple[Any, bool]:
    """(config of the shipped demo CLIP, False), or without shipped weights a seeded random-init one and True."""
    from engine.clip.config import BackboneConfig
    from engine.demo.pretrain import DEFAULT_OUT, MODEL_NAME

    weights = DEFAULT_OUT / "model.safetensors"
    random_init = False
    if not weights.is_file():
        if fallback_dir is None:
            raise ArtifactError(f"the demo CLIP {weights} is missing; run `t2ipal demo pretrain` to make it")
        from safetensors.torch import save_file

        from engine.demo.pretrain import create_demo_model

        log.warning("the demo CLIP %s is not there: running on a random-init demo CLIP; the numbers are "
                    "meaningless until `t2ipal demo pretrain` has written it", weights)
        weights = fallback_dir / "random-demo-clip.safetensors"
        weights.parent.mkdir(parents=True, exist_ok=True)
        model = create_demo_model(seed=0)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
        random_init = True
    return BackboneConfig(model_name=MODEL_NAME, pretrained=str(weights), tokenizer="demo-words"), random_init


@dataclass
class DemoSession:
    """A project folder set up for the demo: the demo label set stored in its database, the demo CLIP loaded."""

    project: Any
    labelset: Any  # engine.labels.LabelSet
    backbone: Any
    random_clip: bool  # True when the shipped demo CLIP was missing
    db: Any
    store: Any  # engine.captions.store.CaptionStore on `db`


def open_demo_project(project_dir: str | Path) -> DemoSession:
    """Create (or reopen) `project_dir`, store the demo label set and load the demo CLIP on the CPU."""
    from engine.captions.store import CaptionStore
    from engine.clip.backbone import load_backbone
    from engine.demo import world
    from engine.labels.labelset import LabelSet
    from engine.project import Project

    project = Project(Path(project_dir).resolve()).create()
    labelset = LabelSet.from_dict(world.demo_labelset_dict())
    bcfg, random_clip = demo_backbone_cfg(project.root / "cache")
    backbone = load_backbone(bcfg, device="cpu", precision="fp32")
    db = project.open_db()
    store = CaptionStore(db)
    store.add_labelset(labelset)
    return DemoSession(project, labelset, backbone, random_clip, db, store)


def write_split(folder: Path, split: str, n: int, start: int = 0) -> tuple[list[str], np.ndarray]:
    """Items start..start+n-1 of a world split as PNG files (existing files are kept) and their labels (N, C)."""
    from engine.demo import world

    folder.mkdir(parents=True, exist_ok=True)
    images, labels, _ = world.render_split(split, n, start=start, seed=0)
    paths = []
    for i, arr in enumerate(images):
        path = folder / f"{split}_{start + i:05d}.png"
        if not path.exists():
            _save_png(arr, path)
        paths.append(str(path))
    return paths, labels.astype(np.uint8)


def write_test_set(folder: Path, n: int) -> tuple[list[str], np.ndarray]:
    """The photo-style test split as PNG files plus ground truth (written once, reused)."""
    from engine.demo import world

    truth_file = folder / "ground_truth.json"
    if truth_file.exists():
        truth = json.loads(truth_file.read_text())
        if len(truth["paths"]) == n:
            return [str(folder / p) for p in truth["paths"]], np.asarray(truth["labels"], np.uint8)
    paths, labels = write_split(folder, "test", n)
    truth_file.write_text(json.dumps({"paths": [Path(p).name for p in paths], "labels": labels.astype(int).tolist(),
                                      "classes": list(world.CLASS_NAMES)}))
    return paths, labels


def _save_png(arr: np.ndarray, path: Path) -> None:
    from PIL import Image

    tmp = path.with_suffix(".tmp.png")
    Image.fromarray(arr).save(tmp)
    os.replace(tmp, path)


def _upper_bound_set(folder: Path, n: int, labelset: Any) -> Any:
    """Labelled photo-style images from the "probe" split: what the supervised ceiling trains on."""
    from engine.datasets.training_set import TrainingSet

    paths, labels = write_split(folder, "probe", n)
    return TrainingSet(labelset, image_paths=paths, image_labels=labels, image_groups=[f"p{i}" for i in range(n)])


def _captions_for_seed(store: Any, labelset: Any, folder: Path, seed: int, n: int, cancel: CancelToken | None) -> Any:
    from engine.demo import world

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"captions-seed{seed}.txt"
    texts = [world.sample("captions", i, seed=seed).caption for i in range(n)]
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    store.import_file(path, "text", labelset, source=f"demo-seed{seed}", cancel=cancel)
    return list(store.iter_captions(labelset.name, source=f"demo-seed{seed}"))


def seed_dataset(
    project: Any, db: Any, store: Any, labelset: Any, seed: int, n_captions: int,
    cancel: CancelToken | None = None,
) -> Any:
    """One seed's caption set (stored through the caption store) and its renders (through the synthesis cache)."""
    from engine.datasets.csv_sets import multi_hot
    from engine.datasets.training_set import TrainingSet
    from engine.demo.renderer import DemoRenderer
    from engine.synthesis.runner import SynthesisConfig, synthesize

    names = list(labelset.names)
    captions = _captions_for_seed(store, labelset, project.root / "captions", seed, n_captions, cancel)
    synth = synthesize(captions, DemoRenderer(), project, SynthesisConfig(images_per_caption=1, seed=seed),
                       db=db, cancel=cancel)
    texts = [c.text for c in captions]
    return TrainingSet(
        labelset, texts, multi_hot(names, [list(c.labels) for c in captions], "captions"), texts,
        [str(project.synthetic_dir / r.path) for r in synth.records],
        multi_hot(names, [list(r.labels) for r in synth.records], "renders"),
        [r.caption for r in synth.records],
    )


def _scores_from_db(db_path: Path, paths: list[str], names: list[str]) -> np.ndarray:
    from engine.tagging.store import TagStore

    scores = np.full((len(paths), len(names)), -np.inf, np.float32)
    with TagStore.open(db_path) as store:
        for i, p in enumerate(paths):
            tags = store.tags_of(p)
            for j, name in enumerate(names):
                value = tags[name][0] if name in tags else None
                if value is not None:
                    scores[i, j] = float(value)
    return scores


@dataclass
class _DemoRun:
    """What the stages of one demo run share: the demo project, the test photos and their truth, the settings."""

    cfg: DemoConfig
    demo: DemoSession
    stages: _Stages
    test_paths: list[str]
    truth: np.ndarray
    train_base: Any  # the TrainConfig of every model (each seed replaces its seed)
    model_cfgs: dict[str, Any]  # method -> its ModelConfig
    cancel: CancelToken | None
    upper: Any = None  # the labelled photos of the upper bound, rendered once for all seeds


def _set_up(
    project_dir: str | Path, cfg: DemoConfig, stages: _Stages, result: DemoResult
) -> tuple[DemoSession, list[str], np.ndarray]:
    """Open the demo project, save its label set for the app and write the photo-style test set."""
    stages.say("setup: demo CLIP, label set, photo-style test set")
    with stages.stage("setup"):
        demo = open_demo_project(project_dir)
        result.random_clip = demo.random_clip
        demo.labelset.save(demo.project.labelset_path)  # the app's Labels panel shows the project's label set
        test_paths, truth = write_test_set(demo.project.root / "test-photos", cfg.n_test)
    result.test_images = len(test_paths)
    return demo, test_paths, truth


def _train_cfg(run: _DemoRun, method: str, seed: int) -> Any:
    """The demo's recipe for this seed; methods in `OWN_RECIPE` leave lr and batch size to their variant."""
    cfg = run.train_base.replace(seed=seed)
    if method == "upper_bound":
        return cfg.replace(lr=run.cfg.upper_lr, epochs=run.cfg.upper_epochs)
    return dataclasses.replace(cfg, lr=None, batch_size=None) if method in OWN_RECIPE else cfg


def _train(run: _DemoRun, dataset: Any, method: str, seed: int) -> Path:
    """Train `method` on `dataset` with this seed into the project's models folder."""
    from engine.training.job import train_model

    demo = run.demo
    model_dir = demo.project.models_dir / f"{method}-seed{seed}"
    with run.stages.stage("training"):
        train_model(dataset, model_dir, backbone_cfg=demo.backbone.cfg, model_cfg=run.model_cfgs[method],
                    train_cfg=_train_cfg(run, method, seed), cache_dir=demo.project.feature_cache_dir,
                    backbone=demo.backbone, cancel=run.cancel)
    return model_dir


def _evaluate(run: _DemoRun, model_dir: Path, key: str) -> float:
    """Export the model to ONNX, tag the test photos into a fresh database, and score those tags (mAP)."""
    from engine.evaluation.metrics import mean_average_precision
    from engine.export.onnx_export import export_onnx
    from engine.tagging.runner import TagConfig, tag_folders

    project = run.demo.project
    check_cancel(run.cancel)
    with run.stages.stage("export"):
        onnx_path = project.exports_dir / f"{key}.onnx"
        export_onnx(model_dir, onnx_path, device="cpu", cancel=run.cancel)
    with run.stages.stage("tagging"):
        eval_db = project.root / "eval" / f"{key}.db"
        eval_db.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{eval_db}{suffix}").unlink(missing_ok=True)
        tag_cfg = TagConfig(batch_size=64, draft=False, threads=1)
        tag_folders([str(project.root / "test-photos")], onnx_path, eval_db, tag_cfg, cancel=run.cancel)
    with run.stages.stage("evaluation"):
        scores = _scores_from_db(eval_db, run.test_paths, list(run.demo.labelset.names))
        return float(mean_average_precision(scores, run.truth))


def _record_tag_quality(run: _DemoRun, key: str, method: str, result: DemoResult) -> None:
    """CF1/OF1 of the tags in force (the tag store's default policy), oracle CF1 and ECE, from the eval database."""
    from engine.evaluation.calibration import expected_calibration_error, oracle_cf1
    from engine.evaluation.metrics import precision_recall_f1
    from engine.tagging.store import TagStore, real_path

    names = list(run.demo.labelset.names)
    eval_db = run.demo.project.root / "eval" / f"{key}.db"
    with run.stages.stage("evaluation"):
        scores = _scores_from_db(eval_db, run.test_paths, names)
        row = {p: i for i, p in enumerate(run.test_paths)}
        col = {n: j for j, n in enumerate(names)}
        in_force = np.zeros(scores.shape, np.float32)
        with TagStore.open(eval_db) as store:
            rules = store.label_rules()
            for path, raw, label, _score, _source in store.iter_tags_in_force():
                in_force[row[real_path(path, raw)], col[label]] = 1.0
        probs = np.stack([[rules[n].probability(float(v)) for n, v in zip(names, r, strict=True)] for r in scores])
        at_policy = precision_recall_f1(in_force, run.truth, 0.5)
        q = result.tag_quality.setdefault(method, {"cf1": [], "of1": [], "oracle_cf1": [], "ece": []})
        q["cf1"].append(at_policy["cf1"])
        q["of1"].append(at_policy["of1"])
        q["oracle_cf1"].append(oracle_cf1(scores, run.truth))
        q["ece"].append(expected_calibration_error(probs, run.truth, bins=15))
    log.info("%s: CF1 %.2f (oracle %.2f), OF1 %.2f, ECE %.3f", key, q["cf1"][-1], q["oracle_cf1"][-1],
             q["of1"][-1], q["ece"][-1])


def _run_seed(run: _DemoRun, seed: int, result: DemoResult) -> None:
    """One seed: its captions and renders, then every method trained, exported, tagged with and scored."""
    cfg, demo, stages = run.cfg, run.demo, run.stages
    check_cancel(run.cancel)
    stages.say(f"seed {seed}: {cfg.n_captions} captions and their renders")
    with stages.stage("captions + renders"):
        dataset = seed_dataset(demo.project, demo.db, demo.store, demo.labelset, seed, cfg.n_captions,
                               run.cancel)
    for method in cfg.methods:
        if method == "upper_bound":
            continue
        if not run.model_cfgs[method].learned and result.per_seed[method]:
            result.per_seed[method].append(result.per_seed[method][-1])  # training-free: the seed changes nothing
            continue
        stages.say(f"seed {seed}: {TITLES[method]} (train, export, tag, evaluate)")
        model_dir = _train(run, dataset, method, seed)
        result.per_seed[method].append(_evaluate(run, model_dir, f"{method}-seed{seed}"))
        _record_tag_quality(run, f"{method}-seed{seed}", method, result)
        log.info("seed %d %s: mAP %.2f", seed, method, result.per_seed[method][-1])
    if "upper_bound" in cfg.methods:
        _run_upper_bound(run, seed, result)


def _run_upper_bound(run: _DemoRun, seed: int, result: DemoResult) -> None:
    """The supervised ceiling: the same model trained on labelled photo-style images (rendered on first use)."""
    run.stages.say(f"seed {seed}: {TITLES['upper_bound']}")
    if run.upper is None:
        with run.stages.stage("training"):
            run.upper = _upper_bound_set(run.demo.project.root / "labelled-photos", run.cfg.n_upper, run.demo.labelset)
    model_dir = _train(run, run.upper, "upper_bound", seed)
    result.per_seed["upper_bound"].append(_evaluate(run, model_dir, f"upper_bound-seed{seed}"))
    _record_tag_quality(run, f"upper_bound-seed{seed}", "upper_bound", result)


def _summary(per_seed: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation over the seeds of each method that ran."""
    return {m: {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}
            for m, values in per_seed.items() if values}


def paired_differences(per_seed: dict[str, list[float]], reference: str = REFERENCE) -> dict[str, dict[str, float]]:
    """`reference` minus each method, seed by seed: mean and 95% t-interval of the differences.

    Methods without the reference's number of seeds, and runs with fewer than two seeds, get no entry.
    """
    from scipy import stats

    ref = per_seed.get(reference) or []
    out: dict[str, dict[str, float]] = {}
    for method, values in per_seed.items():
        if method == reference or len(values) != len(ref) or len(ref) < 2:
            continue
        diffs = [r - v for r, v in zip(ref, values, strict=True)]
        mean, n = statistics.fmean(diffs), len(diffs)
        half = float(stats.t.ppf(0.975, n - 1)) * statistics.stdev(diffs) / n**0.5
        out[method] = {"mean": mean, "low": mean - half, "high": mean + half}
    return out


def _write_sample_project(run: _DemoRun, result: DemoResult) -> None:
    """Make the first seed's T2I-PAL the project's model and tag the test photos into its database, as the app does."""
    from engine.hashing import sha256_file
    from engine.tagging.runner import TagConfig, tag_folders
    from engine.tagging.store import TagStore

    cfg, project = run.cfg, run.demo.project
    run.stages.say("sample project: tagging the test photos with T2I-PAL")
    with run.stages.stage("sample project"):
        best = "t2ipal" if "t2ipal" in cfg.methods else cfg.methods[-1]
        onnx_path = project.exports_dir / f"{best}-seed{cfg.seeds[0]}.onnx"
        final = project.exports_dir / "model.onnx"
        final.write_bytes(onnx_path.read_bytes())
        checksum = sha256_file(final)
        project.record_model(model_dir=project.models_dir / f"{best}-seed{cfg.seeds[0]}", onnx_path=final,
                             onnx_sha256=checksum, labels=list(run.demo.labelset.names))
        run.demo.db.close()
        # the app's own default: every score stored, the tag store's threshold policy decides the tags
        tag_folders([str(project.root / "test-photos")], final, project.db_path, TagConfig(), onnx_sha256=checksum,
                    cancel=run.cancel)
        with TagStore.open(project.db_path) as tags:
            result.db_rows = int(sum(tags.counts().values()))


def run_demo(
    project_dir: str | Path,
    cfg: DemoConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> DemoResult:
    """Label set and captions -> renderer -> training -> ONNX export -> tagging into SQLite -> mAP from the DB."""
    from engine import require_training

    require_training("The demo run")
    from engine.clip.config import ModelConfig
    from engine.demo.pretrain import DEFAULT_OUT
    from engine.training.config import TrainConfig

    cfg = cfg or DemoConfig()
    stages = _Stages(progress)
    result = DemoResult(str(Path(project_dir).resolve()), config=cfg.to_dict())
    quality_file = DEFAULT_OUT / "quality.json"
    if quality_file.exists():
        result.clip_quality = json.loads(quality_file.read_text())
    demo, test_paths, truth = _set_up(project_dir, cfg, stages, result)
    train_base = TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, lambda_img=cfg.lambda_img,
                             heldout_fraction=0.15)
    upper = ModelConfig(n_ctx=cfg.n_ctx, logit_scale=cfg.upper_logit_scale)
    model_cfgs = {m: upper if m == "upper_bound" else ModelConfig(variant=m)
                  if m in OWN_RECIPE else ModelConfig(variant=m, n_ctx=cfg.n_ctx) for m in cfg.methods}
    run = _DemoRun(cfg, demo, stages, test_paths, truth, train_base, model_cfgs, cancel)
    result.per_seed = {m: [] for m in cfg.methods}
    for seed in cfg.seeds:
        _run_seed(run, seed, result)
    result.summary = _summary(result.per_seed)
    result.paired = paired_differences(result.per_seed)
    _write_sample_project(run, result)
    result.stage_seconds = {k: round(v, 1) for k, v in stages.seconds.items()}
    (demo.project.root / "demo-results.json").write_text(json.dumps(result.to_dict(), indent=2))
    return result
