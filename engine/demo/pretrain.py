"""Pretraining of the demo CLIP on the demo world: symmetric InfoNCE at a fixed logit scale + auxiliary BCE."""

from __future__ import annotations

import copy
import functools
import json
import logging
import math
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import ConfigBase, require_choice, require_int, require_positive, require_range
from engine.demo import world
from engine.errors import ArtifactError
from engine.hashing import sha256_hex
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel

log = logging.getLogger(__name__)

MODEL_NAME = "demo-clip"
TOKENIZER_NAME = "demo-words"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path(__file__).resolve().parent / "demo_clip"  # package data: wheels carry it
MAX_WEIGHTS_BYTES = 16 * 1024 * 1024
_CHUNK = 2048


@dataclass(frozen=True)
class PretrainConfig(ConfigBase):
    """Recipe of the shipped demo CLIP (see docs/demo-world.md); defaults are what `engine/demo/demo_clip` used."""

    seed: int = 0
    corpus_size: int = 49152  # (image, caption) pairs from the "pretrain" split, disjoint from val/probe/test
    captions_per_image: int = 3  # each epoch sees another caption of the same scene
    steps: int = 2000
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 60
    logit_scale: float = 100.0  # fixed (not learned): at 50 the modality gap closed in the prototype
    logit_scale_start: float = 10.0  # geometric ramp to logit_scale over scale_ramp_steps (0: no ramp)
    scale_ramp_steps: int = 300  # at 100 from step 0 both towers first collapse to constant features
    aux_weight: float = 1.0  # auxiliary multi-label BCE on both towers (documented deviation from pure CLIP)
    aux_shared_head: bool = False  # one class head for both towers instead of one per tower
    aux_feature_scale: float = 10.0  # the heads see 10 x the unit features (at 1 the BCE barely moved in 300 steps)
    hflip: bool = True
    # stage 2 ("refine"): continues from stage 1 with a fresh optimiser on partial captions; 0 steps = stage 1 only
    refine_steps: int = 400
    refine_lr: float = 5e-4
    refine_warmup_steps: int = 20
    refine_logit_scale: float = 100.0
    refine_aux_weight: float = 1.0
    refine_shared_head: bool = False
    # share of stage-2 captions naming only some of a busy image's objects: the smallest share tried that passed
    # all four gates on val (0.05: val zero-shot 38 -> 64; 0.15: -> 76; docs/demo-world.md)
    refine_partial_captions: float = 0.05
    checkpoint_every: int = 100
    threads: int = 2
    render_processes: int = 2
    eval_split: str = "test"  # split of the quality report written next to the weights ("val" while tuning)
    val_every: int = 250  # zero-shot mAP + modality gap on the held-out "val" split every N steps (0: never)
    n_val: int = 400
    n_eval: int = 1000
    n_probe: int = 2000
    save_dtype: str = "fp32"
    out_dir: str = str(DEFAULT_OUT)
    work_dir: str = str(REPO_ROOT / ".t2ipal-cache" / "demo-pretrain")

    def __post_init__(self) -> None:
        for name in ("corpus_size", "captions_per_image", "steps", "batch_size", "checkpoint_every", "threads",
                     "render_processes", "n_eval", "n_probe", "n_val"):
            require_int(name, getattr(self, name), minimum=1)
        for name in ("warmup_steps", "refine_steps", "refine_warmup_steps"):
            require_int(name, getattr(self, name), minimum=0)
        for name in ("refine_lr", "refine_logit_scale"):
            require_positive(name, getattr(self, name))
        require_range("refine_aux_weight", self.refine_aux_weight, 0.0, 100.0)
        require_range("refine_partial_captions", self.refine_partial_captions, 0.0, 1.0)
        require_int("val_every", self.val_every, minimum=0)
        require_int("scale_ramp_steps", self.scale_ramp_steps, minimum=0)
        require_positive("logit_scale_start", self.logit_scale_start)
        require_int("seed", self.seed, minimum=0)
        for name in ("lr", "logit_scale", "aux_feature_scale"):
            require_positive(name, getattr(self, name))
        require_positive("weight_decay", self.weight_decay, allow_zero=True)
        require_range("aux_weight", self.aux_weight, 0.0, 100.0)
        require_choice("eval_split", self.eval_split, ("val", "test"))
        require_choice("save_dtype", self.save_dtype, ("fp32", "fp16"))

    def training_key(self) -> str:
        """Hash of everything that changes the final weights (not output paths, threads or eval sizes)."""
        return self._key(include_refine=True)

    def stage1_key(self) -> str:
        """Hash of what changes the stage-1 weights: runs that differ only in stage 2 share stage 1."""
        return self._key(include_refine=False)

    def _key(self, *, include_refine: bool) -> str:
        keep = {k: v for k, v in self.to_dict().items()
                if k not in ("out_dir", "work_dir", "threads", "render_processes", "eval_split", "n_eval", "n_probe",
                             "checkpoint_every", "save_dtype", "val_every", "n_val")
                and (include_refine or not k.startswith("refine_"))}
        keep["world"] = world_fingerprint()
        return sha256_hex(json.dumps(keep, sort_keys=True), 16)


@dataclass
class PretrainResult:
    out_dir: Path
    steps: int
    resumed_from: int
    seconds: float
    render_seconds: float
    train_seconds: float
    quality: dict[str, Any]
    passed: bool
    final_loss: dict[str, float] = field(default_factory=dict)


def world_fingerprint() -> str:
    """Changes whenever the world's vocabulary or class list changes (ids and labels depend on them)."""
    text = json.dumps({"vocab": world.vocabulary(), "classes": world.CLASSES, "size": world.IMAGE_SIZE})
    return sha256_hex(text, 16)


# ---- corpus --------------------------------------------------------------------------------------------------
def _corpus_scene(index: int, seed: int) -> tuple[world.Scene, np.random.Generator]:
    """Scene `index` of the pretraining corpus and its generator, positioned for the captions and the render."""
    rng = world.split_rng("pretrain", index, seed)
    return world.sample_scene(rng, world.corpus_style(rng)), rng


def _corpus_chunk(args: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    start, stop, seed, k = args
    n = stop - start
    images = np.empty((n, world.IMAGE_SIZE, world.IMAGE_SIZE, 3), np.uint8)
    labels = np.empty((n, world.NUM_CLASSES), np.float32)
    captions: list[str] = []
    for j in range(n):
        scene, rng = _corpus_scene(start + j, seed)
        captions.extend(world.make_caption(scene, rng) for _ in range(k))
        images[j] = np.asarray(world.render_scene(scene, rng))
        labels[j] = scene.labels
    return images, labels, captions


def build_corpus(cfg: PretrainConfig, folder: Path, *, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Render (or load cached chunks of) the pretraining corpus; resumes chunk by chunk."""
    folder.mkdir(parents=True, exist_ok=True)
    starts = list(range(0, cfg.corpus_size, _CHUNK))
    reporter = ProgressReporter(progress, "render corpus", total=cfg.corpus_size)
    def chunk(start: int) -> Path:  # named by its range: corpora of other sizes share their common chunks
        return folder / f"chunk_{start:07d}_{min(start + _CHUNK, cfg.corpus_size):07d}.npz"

    todo = [s for s in starts if not chunk(s).is_file()]
    reporter.advance(cfg.corpus_size - sum(min(_CHUNK, cfg.corpus_size - s) for s in todo))

    def save(start: int, part: tuple[np.ndarray, np.ndarray, list[str]]) -> None:
        tmp = folder / f".chunk_{start:07d}.tmp.npz"
        np.savez(tmp, images=part[0], labels=part[1], captions=np.asarray(part[2]))
        os.replace(tmp, chunk(start))
        reporter.advance(len(part[0]))

    jobs = [(s, min(s + _CHUNK, cfg.corpus_size), cfg.seed, cfg.captions_per_image) for s in todo]
    if cfg.render_processes > 1 and len(jobs) > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(cfg.render_processes) as pool:
            for job, part in zip(jobs, pool.imap(_corpus_chunk, jobs), strict=True):
                check_cancel(cancel)
                save(job[0], part)
    else:
        for job in jobs:
            check_cancel(cancel)
            save(job[0], _corpus_chunk(job))
    size = world.IMAGE_SIZE
    images = np.empty((cfg.corpus_size, size, size, 3), np.uint8)  # filled in place: no second copy
    labels = np.empty((cfg.corpus_size, world.NUM_CLASSES), np.float32)
    captions: list[str] = []
    for s in starts:
        with np.load(chunk(s)) as data:
            stop = s + len(data["labels"])
            images[s:stop] = data["images"]
            labels[s:stop] = data["labels"]
            captions.extend(str(c) for c in data["captions"])
    return images, labels, captions


# ---- model ---------------------------------------------------------------------------------------------------
def create_demo_model(seed: int = 0) -> Any:
    """A fresh, seeded demo CLIP (open_clip `demo-clip` config) with the attention pool's positional embedding

    zeroed and frozen, so `encode_image` equals the engine's position-free global pooling at any input size.
    """
    from engine import torch_ready

    torch_ready()
    import open_clip
    import torch

    from engine.clip.backbone import MODEL_CONFIG_DIR

    open_clip.add_model_config(str(MODEL_CONFIG_DIR))
    torch.manual_seed(seed)
    model = open_clip.create_model(MODEL_NAME, pretrained=None)
    with torch.no_grad():
        model.visual.attnpool.positional_embedding.zero_()
    model.visual.attnpool.positional_embedding.requires_grad_(False)
    model.logit_scale.requires_grad_(False)
    return model


def model_config() -> dict[str, Any]:
    from engine.clip.backbone import MODEL_CONFIG_DIR

    return json.loads((MODEL_CONFIG_DIR / f"{MODEL_NAME}.json").read_text(encoding="utf-8"))


def load_demo_clip(folder: str | Path | None = None) -> Any:
    """The shipped demo CLIP as a plain open_clip model (eval mode) from `engine/demo/demo_clip`."""
    from safetensors.torch import load_file

    folder = Path(folder or DEFAULT_OUT)
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ArtifactError(f"{weights} is missing; run `t2ipal demo pretrain` to make it")
    model = create_demo_model()
    state = load_file(str(weights))
    expected = set(model.state_dict())
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise ArtifactError(f"{weights} does not match the demo-clip config (missing {missing[:3]}, extra {extra[:3]})")
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.eval()


def _val_probe(cfg: PretrainConfig, tokenizer: Any) -> Any:
    """A cheap held-out check during training: zero-shot mAP and modality gap on `n_val` "val" images."""
    from engine.demo.quality import PROMPT, encode_images, encode_texts, mean_average_precision, modality_gap

    images, labels, captions = world.render_split("val", cfg.n_val, seed=cfg.seed)
    prompts = [PROMPT.format(n) for n in world.CLASS_NAMES]

    def measure(model: Any) -> dict[str, float]:
        model.eval()
        img = encode_images(model, images)
        txt = encode_texts(model, tokenizer, captions)
        zs = mean_average_precision(img @ encode_texts(model, tokenizer, prompts).T, labels)
        gap = modality_gap(img, txt)
        return {"val_zero_shot_map": round(zs, 2), **{k: round(v, 4) for k, v in gap.items()}}

    return measure


@dataclass(frozen=True)
class _Stage:
    """One training stage: its schedule, losses, batch stream and checkpoint."""

    name: str
    steps: int
    lr: float
    warmup_steps: int
    scale_start: float  # geometric ramp from scale_start to scale over ramp_steps
    scale: float
    ramp_steps: int
    aux_weight: float
    shared_head: bool
    stream: int  # separates the batch order and augmentation draws of the stages
    checkpoint: Path

    def scale_at(self, step: int) -> float:
        if self.ramp_steps <= 0 or step >= self.ramp_steps:
            return self.scale
        t = step / self.ramp_steps
        return math.exp((1 - t) * math.log(self.scale_start) + t * math.log(self.scale))

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        t = (step - self.warmup_steps) / max(1, self.steps - self.warmup_steps)
        return self.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def _stages(cfg: PretrainConfig, work: Path) -> list[_Stage]:
    stage1 = _Stage("stage 1", cfg.steps, cfg.lr, cfg.warmup_steps, cfg.logit_scale_start, cfg.logit_scale,
                    cfg.scale_ramp_steps, cfg.aux_weight, cfg.aux_shared_head, 0, work / "checkpoint.safetensors")
    if cfg.refine_steps == 0:
        return [stage1]
    refine = _Stage("stage 2", cfg.refine_steps, cfg.refine_lr, cfg.refine_warmup_steps, cfg.refine_logit_scale,
                    cfg.refine_logit_scale, 0, cfg.refine_aux_weight, cfg.refine_shared_head, 2,
                    work / f"refine-{cfg.training_key()}" / "checkpoint.safetensors")
    return [stage1, refine]


def _save_checkpoint(path: Path, step: int, modules: dict[str, Any], opt: Any, losses: dict[str, float]) -> None:
    import torch
    from safetensors.torch import save_file

    tensors: dict[str, Any] = {}
    seen: set[int] = set()
    for prefix, module in modules.items():
        if id(module) in seen:  # a shared head is stored once, under its first name
            continue
        seen.add(id(module))
        for k, v in module.state_dict().items():
            tensors[f"{prefix}.{k}"] = v.detach().contiguous()
    for i, state in opt.state_dict()["state"].items():
        for k, v in state.items():
            tensors[f"opt.{i}.{k}"] = torch.as_tensor(v).contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"step": str(step), "losses": json.dumps(losses)})
    os.replace(tmp, path)


def _load_checkpoint(path: Path, modules: dict[str, Any], opt: Any) -> tuple[int, dict[str, float]]:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no __iter__
    loaded: set[int] = set()
    for prefix, module in modules.items():
        if id(module) in loaded:  # a shared head was stored once
            continue
        loaded.add(id(module))
        module.load_state_dict({k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")})
    sd = opt.state_dict()
    state: dict[int, dict[str, Any]] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, i, name = k.split(".", 2)
            state.setdefault(int(i), {})[name] = v
    sd["state"] = state
    opt.load_state_dict(sd)
    return int(meta["step"]), json.loads(meta.get("losses", "{}"))


@dataclass
class _Corpus:
    images: np.ndarray  # uint8 (N, S, S, 3)
    image_labels: Any  # float tensor (N, C)
    tokens: Any  # long tensor (N, K, L)
    text_labels: Any  # float tensor (N, K, C): the classes each caption names


def _optimizer(cfg: PretrainConfig, modules: dict[str, Any], lr: float) -> Any:
    import torch

    unique = {id(m): m for m in modules.values()}.values()
    params = list({id(p): p for m in unique for p in m.parameters() if p.requires_grad}.values())
    return torch.optim.AdamW([{"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
                              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}], lr=lr)


def _train_stage(stage: _Stage, cfg: PretrainConfig, modules: dict[str, Any], corpus_for: Callable[[], _Corpus], *,
                 reporter: ProgressReporter, val_fn: Any, step_offset: int,
                 cancel: CancelToken | None) -> tuple[int, dict[str, float], dict[str, Any]]:
    """Train one stage from its last checkpoint to `stage.steps`; returns (resumed_from, loss EMA, history).

    `corpus_for` builds the stage's data; a stage that already finished never calls it.
    """
    import torch
    import torch.nn.functional as F

    if stage.shared_head:
        modules["head_txt"] = modules["head_img"]
    elif modules["head_txt"] is modules["head_img"]:  # a shared head splits: the text tower's starts as a copy
        modules["head_txt"] = copy.deepcopy(modules["head_img"])
    model, head_img, head_txt = modules["model"], modules["head_img"], modules["head_txt"]
    model.logit_scale.data.fill_(math.log(stage.scale))
    opt = _optimizer(cfg, modules, stage.lr)
    step, ema = 0, dict[str, float]()
    sidecar = stage.checkpoint.parent / "progress.json"
    history: dict[str, Any] = {"val_curve": [], "cpu_seconds": 0.0}
    if stage.checkpoint.is_file():
        step, ema = _load_checkpoint(stage.checkpoint, modules, opt)
        log.info("resuming demo CLIP pretraining (%s) at step %d", stage.name, step)
        if step and sidecar.is_file():
            history = json.loads(sidecar.read_text(encoding="utf-8"))
            history["val_curve"] = [p for p in history["val_curve"] if p["step"] <= step_offset + step]
    resumed_from = step
    reporter.advance(step)
    cpu0 = time.process_time() - float(history["cpu_seconds"])
    mean = torch.tensor((0.48145466, 0.4578275, 0.40821073)).view(1, 3, 1, 1)
    std = torch.tensor((0.26862954, 0.26130258, 0.27577711)).view(1, 3, 1, 1)
    corpus = corpus_for() if step < stage.steps else None
    n = len(corpus.images) if corpus is not None else 0
    per_epoch = n // cfg.batch_size
    # stage 1 keeps the draws of the single-stage recipe it grew from (its cached checkpoints stay valid)
    order_key, aug_key = ([cfg.seed], [cfg.seed, 7]) if stage.stream == 0 else \
        ([cfg.seed, stage.stream], [cfg.seed, 7 + stage.stream])
    model.train()
    while corpus is not None and step < stage.steps:
        check_cancel(cancel)
        epoch, pos = divmod(step, per_epoch)
        order = np.random.default_rng([*order_key, epoch]).permutation(n)
        idx = np.sort(order[pos * cfg.batch_size:(pos + 1) * cfg.batch_size])
        brng = np.random.default_rng([*aug_key, step])
        x = torch.from_numpy(corpus.images[idx]).permute(0, 3, 1, 2).float().div_(255.0)
        if cfg.hflip:
            flip = torch.from_numpy(brng.random(len(idx)) < 0.5)
            x[flip] = x[flip].flip(-1)
        x = (x - mean) / std
        rows = torch.from_numpy(idx)
        which = torch.from_numpy(brng.integers(0, cfg.captions_per_image, len(idx)))
        tok = corpus.tokens[rows, which]
        for group in opt.param_groups:
            group["lr"] = stage.lr_at(step)
        fi = model.encode_image(x, normalize=True)
        ft = model.encode_text(tok, normalize=True)
        logits = stage.scale_at(step) * fi @ ft.T
        target = torch.arange(len(idx))
        loss_c = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
        k = cfg.aux_feature_scale
        loss_a = 0.5 * (F.binary_cross_entropy_with_logits(head_img(k * fi), corpus.image_labels[rows])
                        + F.binary_cross_entropy_with_logits(head_txt(k * ft), corpus.text_labels[rows, which]))
        loss = loss_c + stage.aux_weight * loss_a
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        for loss_name, value in (("contrastive", loss_c.item()), ("aux_bce", loss_a.item())):
            ema[loss_name] = value if loss_name not in ema else 0.95 * ema[loss_name] + 0.05 * value
        reporter.advance(1, metrics=ema)
        if val_fn is not None and (step % cfg.val_every == 0 or step == stage.steps):
            point = {"step": step_offset + step, "stage": stage.name, **val_fn(model),
                     **{k: round(v, 4) for k, v in ema.items()}}
            history["val_curve"].append(point)
            log.info("val @%d: %s", step_offset + step, point)
            model.train()
        if step % cfg.checkpoint_every == 0 or step == stage.steps:
            _save_checkpoint(stage.checkpoint, step, modules, opt, ema)
            history["cpu_seconds"] = time.process_time() - cpu0
            tmp = sidecar.with_suffix(".tmp")
            tmp.write_text(json.dumps(history, indent=1), encoding="utf-8")
            os.replace(tmp, sidecar)
    history["cpu_seconds"] = time.process_time() - cpu0
    return resumed_from, ema, history


def _refine_captions(cfg: PretrainConfig, image_labels: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Stage-2 captions: per corpus image, `captions_per_image` new captions of its regenerated scene, each naming

    only some of its objects with probability `refine_partial_captions`; returns (captions, (N, K, C) labels).
    """
    captions: list[str] = []
    labels = np.empty((len(image_labels), cfg.captions_per_image, world.NUM_CLASSES), np.float32)
    for i in range(len(image_labels)):
        scene, _ = _corpus_scene(i, cfg.seed)
        if not np.array_equal(scene.labels, image_labels[i]):
            raise ArtifactError(f"corpus item {i} no longer matches its scene; delete {cfg.work_dir} and re-run")
        crng = np.random.default_rng([cfg.seed, 11, i])
        for j in range(cfg.captions_per_image):
            part = world.partial_scene(scene, crng, cfg.refine_partial_captions)
            captions.append(world.make_caption(part, crng))
            labels[i, j] = part.labels
    return captions, labels


def pretrain_demo_clip(
    cfg: PretrainConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> PretrainResult:
    """Render the corpus, train both stages (each resuming from its last checkpoint), write `cfg.out_dir`, gate."""
    cfg = cfg or PretrainConfig()
    from engine import torch_ready

    torch_ready()
    import torch

    from engine.demo.quality import measure_quality
    from engine.demo.tokenizer import DemoTokenizer

    torch.set_num_threads(cfg.threads)
    t_start = time.monotonic()
    work = Path(cfg.work_dir) / cfg.stage1_key()
    corpus_dir = Path(cfg.work_dir) / f"corpus-{cfg.seed}-{cfg.captions_per_image}-{world_fingerprint()}"
    images, labels, captions = build_corpus(cfg, corpus_dir, progress=progress, cancel=cancel)
    render_s = time.monotonic() - t_start
    log.info("corpus: %d images, %d captions (%.1f s)", len(images), len(captions), render_s)

    tokenizer = DemoTokenizer(context_length=int(model_config()["text_cfg"]["context_length"]))
    k = cfg.captions_per_image
    labels_t = torch.from_numpy(labels)

    def corpus_for(stage: _Stage) -> _Corpus:
        if stage.stream == 0:  # stage 1: the corpus captions, each naming every object of its image
            return _Corpus(images, labels_t, tokenizer(captions).view(len(images), k, -1),
                           labels_t[:, None, :].expand(-1, k, -1))
        refine_caps, refine_labels = _refine_captions(cfg, labels)
        return _Corpus(images, labels_t, tokenizer(refine_caps).view(len(images), k, -1),
                       torch.from_numpy(refine_labels))

    model = create_demo_model(cfg.seed)
    dim = int(model.text_projection.shape[1])
    torch.manual_seed(cfg.seed + 1)
    # one head per tower; a stage with a shared head uses the image tower's for both (see _train_stage)
    modules = {"model": model, "head_img": torch.nn.Linear(dim, world.NUM_CLASSES),
               "head_txt": torch.nn.Linear(dim, world.NUM_CLASSES)}
    val_fn = _val_probe(cfg, tokenizer) if cfg.val_every else None
    stages = _stages(cfg, work)
    reporter = ProgressReporter(progress, "pretrain", total=sum(s.steps for s in stages))
    t_train = time.monotonic()
    resumed_from, curve, cpu_s, offset = 0, [], 0.0, 0
    ema: dict[str, float] = {}
    for stage in stages:
        start, ema, history = _train_stage(stage, cfg, modules, functools.partial(corpus_for, stage),
                                           reporter=reporter, val_fn=val_fn, step_offset=offset, cancel=cancel)
        if start:  # the global step this run picked up from (stage 2 resumes only after stage 1 finished)
            resumed_from = offset + start
        curve.extend(history["val_curve"])
        cpu_s += float(history["cpu_seconds"])
        offset += stage.steps
    train_s = time.monotonic() - t_train
    model.eval()
    reporter_q = ProgressReporter(progress, "quality", total=1)
    report = measure_quality(model, tokenizer, n_test=cfg.n_eval, n_probe=cfg.n_probe, split=cfg.eval_split)
    reporter_q.advance(1)
    for line in report.lines():
        log.info(line)
    seconds = time.monotonic() - t_start
    out = Path(cfg.out_dir)
    write_artifact(out, model, cfg, report.to_dict(), {
        "render_seconds": round(render_s, 1),
        "train_seconds_this_run": round(train_s, 1),
        "total_seconds_this_run": round(seconds, 1),
        "resumed_from_step": resumed_from,
        "final_loss_ema": ema,
        "cpu_seconds_train_all_runs": round(cpu_s, 1),
        "val_curve": curve,
    })
    return PretrainResult(out, offset, resumed_from, seconds, render_s, train_s, report.to_dict(), report.passed, ema)


def write_artifact(out: Path, model: Any, cfg: PretrainConfig, quality: dict[str, Any], run: dict[str, Any]) -> None:
    """`open_clip_config.json` + `model.safetensors` + `recipe.json` + `quality.json`, written atomically."""
    import torch
    from safetensors.torch import save_file

    from engine.demo.tokenizer import DemoTokenizer

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    dtype = torch.float16 if cfg.save_dtype == "fp16" else torch.float32
    state = {k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt", "model": MODEL_NAME})
    size = (tmp / "model.safetensors").stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise ArtifactError(f"demo CLIP weights are {size / 2**20:.1f} MiB, over the 16 MiB limit; use save_dtype=fp16")
    oc = {
        "model_cfg": model_config(),
        "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711],
                           "interpolation": "bicubic", "resize_mode": "shortest"},
    }
    (tmp / "open_clip_config.json").write_text(json.dumps(oc, indent=2) + "\n", encoding="utf-8")
    tok = DemoTokenizer(context_length=int(oc["model_cfg"]["text_cfg"]["context_length"]))
    recipe = {
        "model_name": MODEL_NAME,
        "tokenizer": TOKENIZER_NAME,
        "backbone_config": {"model_name": MODEL_NAME, "pretrained": "engine/demo/demo_clip/model.safetensors",
                            "tokenizer": TOKENIZER_NAME, "use_pos_embed": False},
        "pretrain_config": {k: v for k, v in cfg.to_dict().items() if k not in ("out_dir", "work_dir")},
        "training_key": cfg.training_key(),
        "world": {
            "fingerprint": world_fingerprint(),
            "image_size": world.IMAGE_SIZE,
            "classes": [{"name": n, "synonyms": list(s)} for n, s in world.CLASSES],
            "corpus_split": "pretrain",
            "corpus_style": "60% photo style in [0.3, 0.7], 40% synthetic style 0",
            "caption_params": world.CaptionParams().__dict__,
        },
        "tokenizer_vocab_size": tok.vocab_size,
        "tokenizer_vocab": tok.words,
        "parameters": int(sum(v.numel() for v in model.state_dict().values())),
        "weights_bytes": size,
        "weights_dtype": cfg.save_dtype,
        "losses": "symmetric InfoNCE at fixed logit scale + aux_weight * multi-label BCE (linear heads on both towers)",
        "positional_embedding": "attention-pool positional embedding zeroed and frozen (global = position-free pool)",
        "run": run,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    (tmp / "recipe.json").write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")
    (tmp / "quality.json").write_text(json.dumps(quality, indent=2) + "\n", encoding="utf-8")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("model.safetensors", "open_clip_config.json", "recipe.json", "quality.json"):
        os.replace(tmp / name, out / name)
    shutil.rmtree(tmp, ignore_errors=True)
