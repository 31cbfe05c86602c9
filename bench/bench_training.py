"""Training benchmark: one epoch on cached features + truncated prompts vs re-encoding everything every step.

Usage: .venv/bin/python bench/bench_training.py [--model-name RN50] [--images 64] [--classes 10] [--batch 64]

(a) the engine way: image and caption features computed once into a FeatureCache (its fill time is reported
    separately), then one epoch of `fit` on those features with prompts truncated to their real length;
(b) the naive way: every step loads and re-encodes the batch images through the image tower, re-encodes the
    batch captions and the learned prompts at the full 77-token context, then the same ranking loss on the
    global and local logits of both branches, same optimiser, same sample order.
Weights are random (seeded), which does not change any of the timings. One thread, like a loaded laptop core.
The ratio grows with the batch: a naive step re-encodes B images and B captions, while a cached step's cost is
mostly the 2C truncated prompts. Measured on a loaded 2-core box: ~9-10x at --batch 16 --images 32 --captions 32,
~21x at the engine's default batch 64 (the default here).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine import torch_ready  # noqa: E402  (sets OMP_WAIT_POLICY=PASSIVE before torch loads)

torch_ready()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from engine.clip.backbone import ClipBackbone, load_backbone  # noqa: E402
from engine.clip.config import BackboneConfig, ModelConfig  # noqa: E402
from engine.clip.model import T2IPAL  # noqa: E402
from engine.imaging import preprocess_batch  # noqa: E402
from engine.training.config import TrainConfig  # noqa: E402
from engine.training.features import FeatureCache  # noqa: E402
from engine.training.losses import ranking_loss  # noqa: E402
from engine.training.trainer import BranchData, FitData, fit, learning_rate  # noqa: E402

CLASSES = ["dog", "cat", "bird", "car", "tree", "beach", "mountain", "person", "food", "building",
           "boat", "bicycle", "flower", "horse", "chair", "clock"]
SCENES = ["in the park", "on a sunny day", "next to the old house", "at dusk", "in the city", "by the river"]


def photo(rng: np.random.Generator, size: int) -> Image.Image:
    small = Image.fromarray(rng.integers(0, 255, (4, 4, 3), dtype=np.uint8))
    img = np.asarray(small.resize((size, size), Image.Resampling.BICUBIC), np.int16)
    grain = rng.integers(-6, 7, (size, size, 1), dtype=np.int16)
    return Image.fromarray(np.clip(img + grain, 0, 255).astype(np.uint8))


def make_data(root: Path, n_images: int, n_captions: int, classes: list[str], size: int, seed: int = 0):
    """Synthetic JPEGs with multi-hot labels, and captions naming their positive classes."""
    rng = np.random.default_rng(seed)

    def multi_hot(n: int) -> torch.Tensor:
        y = (rng.random((n, len(classes))) < 0.25).astype(np.float32)
        y[np.arange(n), rng.integers(0, len(classes), n)] = 1.0  # at least one positive
        return torch.from_numpy(y)

    img_labels = multi_hot(n_images)
    paths = []
    (root / "images").mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        p = root / "images" / f"img_{i:04d}.jpg"
        photo(rng, size).save(p, quality=90)
        paths.append(str(p))
    cap_labels = multi_hot(n_captions)
    captions = []
    for i in range(n_captions):
        names = [classes[j] for j in np.flatnonzero(cap_labels[i].numpy())]
        captions.append(f"a photo of a {' and a '.join(names)} {SCENES[i % len(SCENES)]}.")
    return paths, img_labels, captions, cap_labels


# ---- the naive way: no cache, full 77-token context everywhere -------------------------------------------
class NaiveEncoder:
    """Re-encodes images and captions each step; prompts spliced into full-length token embeddings."""

    def __init__(self, model: T2IPAL) -> None:
        self.model = model
        bb: ClipBackbone = model.backbone
        self.bb = bb
        prompts = model.prompts
        n_ctx = prompts.n_ctx
        tokens = bb.tokenize([f"{name}." for name in model.classnames])  # (C, 77), as PromptLearner does
        with torch.no_grad():
            emb = bb.model.token_embedding(tokens).float()
        self.prefix = emb[:, :1]
        self.suffix = emb[:, 1 : bb.context_length - n_ctx]  # everything up to 77 tokens, padding included
        self.eot = tokens.argmax(dim=-1) + n_ctx

    def class_embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.model.prompts
        n_cls = self.prefix.shape[0]

        def splice(ctx: torch.Tensor) -> torch.Tensor:
            ctx = ctx.expand(n_cls, -1, -1) if ctx.shape[0] == 1 else ctx
            return torch.cat([self.prefix, ctx, self.suffix], dim=1)  # (C, 77, d)

        both = torch.cat([splice(p.ctx_global), splice(p.ctx_local)], 0)
        feats = self.bb.encode_embedded(both.to(self.bb.dtype), torch.cat([self.eot, self.eot]))
        return feats[:n_cls], feats[n_cls:]

    def image_features(self, paths: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        batch = torch.from_numpy(preprocess_batch(paths, self.bb.preprocess_spec))
        with torch.no_grad():
            return self.bb.image_features(batch)

    def text_features(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        tokens = self.bb.tokenize(texts)  # (B, 77): no truncation
        with torch.no_grad():
            feats = self.bb._transformer(self.bb.model.token_embedding(tokens))
            g = feats[torch.arange(tokens.shape[0]), tokens.argmax(dim=-1)]
            return F.normalize(g.float(), dim=-1), F.normalize(feats.float(), dim=-1), tokens != 0


def naive_loss(enc: NaiveEncoder, cfg: TrainConfig, batches: dict[str, tuple[list, torch.Tensor]],
               timings: dict[str, float] | None = None) -> torch.Tensor:
    model = enc.model
    t = time.perf_counter()
    emb = enc.class_embeddings()
    weights = {"image": cfg.lambda_img, "text": 1.0 - cfg.lambda_img}
    loss = torch.zeros(())
    for b, (items, y) in batches.items():
        t1 = time.perf_counter()
        if b == "image":
            g, local = enc.image_features(items)
            valid = None
        else:
            g, local, valid = enc.text_features(items)
        if timings is not None:
            timings[b] = timings.get(b, 0.0) + time.perf_counter() - t1
        s = model.score(g, local, branch=b, valid=valid, embeddings=emb)
        loss = loss + weights[b] * (ranking_loss(s.global_logits, y, cfg.margin)
                                    + ranking_loss(s.local_logits, y, cfg.margin))
    if timings is not None:
        timings["prompts+loss"] = timings.get("prompts+loss", 0.0) + time.perf_counter() - t
    return loss


def naive_epoch(enc: NaiveEncoder, cfg: TrainConfig, data: dict[str, tuple[list, torch.Tensor]],
                timings: dict[str, float]) -> float:
    """One epoch as `fit` runs it (same order, lr, optimiser), but without cached features."""
    model = enc.model
    params = model.head_parameters()
    opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    sizes = {b: len(items) for b, (items, _) in data.items()}
    steps = max(1, math.ceil(max(sizes.values()) / cfg.batch_size))
    gen = torch.Generator().manual_seed(cfg.seed * 100_003)
    perms = {b: torch.randperm(sizes[b], generator=gen) for b in data}
    total = 0.0
    model.train()
    model.backbone.eval()  # T2IPAL.train() would put the frozen RN50's BatchNorm into batch-statistics mode
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step, steps)
        batches = {}
        for b, (items, y) in data.items():
            idx = perms[b][torch.arange(step * cfg.batch_size, (step + 1) * cfg.batch_size) % sizes[b]]
            batches[b] = ([items[i] for i in idx.tolist()], y[idx])
        loss = naive_loss(enc, cfg, batches, timings)
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        timings["backward"] = timings.get("backward", 0.0) + time.perf_counter() - t
        total += float(loss.detach())
    model.eval()
    return total / steps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-name", default="RN50")
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--captions", type=int, default=64)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--n-ctx", type=int, default=16)
    ap.add_argument("--batch", type=int, default=64, help="training batch (TrainConfig default 64)")
    ap.add_argument("--image-px", type=int, default=224, help="size of the synthetic JPEGs")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if not 1 <= args.classes <= len(CLASSES):
        ap.error(f"--classes must be 1..{len(CLASSES)}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    classes = CLASSES[: args.classes]

    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        backbone = load_backbone(BackboneConfig(model_name=args.model_name, pretrained=None))
        model = T2IPAL(backbone, classes, ModelConfig(n_ctx=args.n_ctx))
        start_state = model.head_state_dict()
        paths, img_y, captions, cap_y = make_data(root, args.images, args.captions, classes, args.image_px)
        n_params = sum(p.numel() for p in backbone.parameters()) / 1e6
        print(f"{args.model_name} random init ({n_params:.0f} M params, {backbone.image_size} px, grid "
              f"{backbone.grid}), {len(classes)} classes, n_ctx {args.n_ctx}, {args.images} images + "
              f"{args.captions} captions, batch {args.batch}, {args.threads} thread(s); "
              f"setup {time.perf_counter() - t0:.1f} s")
        prompt_len = int(model.prompts.eot.max()) + 1
        print(f"prompt length: {prompt_len} tokens truncated vs {backbone.context_length} full")

        # (a) engine: cache fill, then one epoch of fit on cached features
        t0 = time.perf_counter()
        cache = FeatureCache(root / "cache", backbone)
        img_f = cache.image_features(paths, batch_size=args.batch)
        txt_f = cache.text_features(captions)
        fill_s = time.perf_counter() - t0
        data = FitData(image=BranchData(img_f, img_y), text=BranchData(txt_f, cap_y))
        cfg = TrainConfig(epochs=1, batch_size=args.batch, warmup_epochs=0, heldout_fraction=0.0,
                          select_on="last")

        # same parameters, first batch of the epoch: both paths must give the same loss
        enc = NaiveEncoder(model)
        gen = torch.Generator().manual_seed(cfg.seed * 100_003)
        perms = {"image": torch.randperm(args.images, generator=gen), "text": torch.randperm(args.captions,
                                                                                              generator=gen)}
        idx = {b: perms[b][torch.arange(cfg.batch_size) % len(perms[b])] for b in perms}
        with torch.no_grad():
            emb = model.class_embeddings()
            cached_loss = torch.zeros(())
            weights = {"image": cfg.lambda_img, "text": 1.0 - cfg.lambda_img}
            for b, branch in (("image", data.image), ("text", data.text)):
                g, local, valid, y = branch.take(idx[b])
                s = model.score(g, local, branch=b, valid=valid, embeddings=emb)
                cached_loss = cached_loss + weights[b] * (ranking_loss(s.global_logits, y, cfg.margin)
                                                          + ranking_loss(s.local_logits, y, cfg.margin))
            first = {"image": ([paths[i] for i in idx["image"].tolist()], img_y[idx["image"]]),
                     "text": ([captions[i] for i in idx["text"].tolist()], cap_y[idx["text"]])}
            n_loss = naive_loss(enc, cfg, first)
        delta = abs(float(cached_loss) - float(n_loss))
        print(f"first-batch loss: cached {float(cached_loss):.6f}, naive {float(n_loss):.6f}, |Δloss| {delta:.2e}")

        t0 = time.perf_counter()
        result = fit(model, data, cfg)
        cached_s = time.perf_counter() - t0
        cached_after = model.head_state_dict()

        # (b) naive: same start parameters, same epoch
        model.load_head_state_dict(start_state)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        naive_mean = naive_epoch(enc, cfg, {"image": (paths, img_y), "text": (captions, cap_y)}, timings)
        naive_s = time.perf_counter() - t0
        drift = max(float((cached_after[k] - v).abs().max()) for k, v in model.head_state_dict().items())

    other = timings["prompts+loss"] - timings.get("image", 0.0) - timings.get("text", 0.0)
    print(f"cache fill ({args.images} images + {args.captions} captions): {fill_s:.1f} s (once, reused by later runs)")
    print(f"cached epoch (fit): {cached_s:.2f} s, mean loss {result.history[0]['loss']:.4f}")
    print(f"naive epoch: {naive_s:.2f} s, mean loss {naive_mean:.4f}  [images load+encode "
          f"{timings.get('image', 0.0):.1f} s, captions @77 {timings.get('text', 0.0):.1f} s, prompts @77 + loss "
          f"{other:.1f} s, backward+step {timings['backward']:.1f} s]")
    print(f"parameters after the epoch, max |cached - naive|: {drift:.2e}")
    print(f"speed-up (naive / cached epoch): {naive_s / cached_s:.1f}x  (target >= 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
