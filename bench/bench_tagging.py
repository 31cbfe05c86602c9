"""Tagging benchmark: where the CPU time goes, end-to-end vs the CPU-bound limit and the bare model,
onnxruntime vs torch, int8 vs fp32, JPEG draft vs full decode, peak memory.

Usage: .venv/bin/python bench/bench_tagging.py [--model-name RN50] [--images 64] [--quick] [--e2e-only]
Weights are random (seeded), which does not change any of the timings. Every comparison runs its
alternatives interleaved in one process, so load from other processes hits them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine import torch_ready  # noqa: E402

LABELS = ["dog", "cat", "bird", "car", "tree", "beach", "mountain", "person", "food", "building"]
# VmHWM (peak RSS of this process image); ru_maxrss would carry the parent's peak across exec
MEM_SCRIPT = """
import re, sys
from engine.tagging.runner import TagConfig, tag_folders
r = tag_folders([sys.argv[1]], sys.argv[2], sys.argv[3], TagConfig(batch_size=int(sys.argv[4])))
print(r.tagged, re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
"""


def photo(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """A smooth photo-like image: upsampled low-res colour field plus fine grain."""
    small = Image.fromarray(rng.integers(0, 255, (max(2, h // 64), max(2, w // 64), 3), dtype=np.uint8))
    img = np.asarray(small.resize((w, h), Image.Resampling.BICUBIC), np.int16)
    grain = rng.integers(-6, 7, (h, w, 1), dtype=np.int16)
    return Image.fromarray(np.clip(img + grain, 0, 255).astype(np.uint8))


def make_folder(folder: Path, n: int, size: tuple[int, int], seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"sub{i % 4}" / f"img_{i:05d}.jpg"
        p.parent.mkdir(exist_ok=True)
        photo(rng, *size).save(p, quality=88)
        paths.append(str(p))
    return paths


def build_model(root: Path, model_name: str, image_size: int | None) -> tuple[Path, Path]:
    from engine.artifact import save_pretrained
    from engine.clip.backbone import load_backbone
    from engine.clip.config import BackboneConfig, ModelConfig
    from engine.clip.model import T2IPAL
    from engine.clip.random_init import save_random_clip
    from engine.export.onnx_export import export_onnx
    from engine.labels.labelset import LabelSet

    ckpt = save_random_clip(model_name, root / "clip.safetensors", image_size=image_size)
    backbone = load_backbone(BackboneConfig(model_name=model_name, pretrained=str(ckpt), image_size=image_size))
    model = T2IPAL(backbone, LABELS, ModelConfig())
    folder = save_pretrained(model, root / "model", LabelSet.from_names(LABELS), thresholds=[0.0] * len(LABELS))
    t0 = time.perf_counter()
    result = export_onnx(folder, root / "model.onnx")
    print(f"export: {time.perf_counter() - t0:.1f} s, {result.size_bytes / 1e6:.0f} MB, "
          f"parity max |Δ| {max(result.max_abs_diff_scores, result.max_abs_diff_heatmaps):.1e}")
    return folder, root / "model.onnx"


def cpu_breakdown(result, bare_cpu_per_image: float) -> dict[str, float]:
    """Per-image CPU seconds of each step of a tagging run (inference from the bare model, measured alone)."""
    n = max(result.tagged, 1)
    t = result.timings
    steps = {"decode": t["decode_cpu_s"] / n, "preprocess": t["preprocess_cpu_s"] / n,
             "inference": bare_cpu_per_image, "db_write": t["write_cpu_s"] / n}
    steps["other"] = max(0.0, t["process_cpu_s"] / n - sum(steps.values()))  # scan, stacking, spinning threads
    return steps


def e2e_figures(root: Path, onnx_path: Path, session, batches, images: int, cfg, label: str) -> dict[str, float]:
    """Tag the folder once with `cfg` and set its rate against the CPU-bound limit (cores / summed CPU)."""
    from engine.tagging.runner import tag_folders

    t0 = time.process_time()
    for b in batches:
        session.scores(b)
    bare_cpu = (time.process_time() - t0) / images
    db = root / f"{label}.db"
    db.unlink(missing_ok=True)
    result = tag_folders([root / "photos"], onnx_path, db, cfg)
    steps = cpu_breakdown(result, bare_cpu)
    cores = os.cpu_count() or 1
    limit = cores / sum(v for k, v in steps.items() if k != "other")
    rate = result.tagged / result.elapsed_s
    return {"rate": rate, "limit": limit, "ratio": rate / limit, **{f"{k}_ms": 1000 * v for k, v in steps.items()}}


def print_e2e(label: str, f: dict[str, float]) -> None:
    print(f"  {label:<28} decode {f['decode_ms']:.1f} + preprocess {f['preprocess_ms']:.1f} + inference "
          f"{f['inference_ms']:.1f} + db write {f['db_write_ms']:.2f} ms CPU/img (other {f['other_ms']:.1f}); "
          f"end-to-end {f['rate']:.1f} img/s vs CPU-bound limit {f['limit']:.1f}: ratio {f['ratio']:.2f}")


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model-name", default="RN50")
    ap.add_argument("--image-size", type=int, default=None)
    ap.add_argument("--images", type=int, default=256,
                    help="photos for the throughput comparisons (start-up costs weigh on small folders)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--large", type=int, default=3000, help="photos in the large folder for peak memory")
    ap.add_argument("--twelve-mp", type=int, default=3, help="12-MP JPEGs for the draft comparison")
    ap.add_argument("--quick", action="store_true", help="tiny model and small counts (smoke run)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--e2e-only", action="store_true", help="only the CPU breakdown (and --int8)")
    ap.add_argument("--int8", action="store_true", help="with --e2e-only: also int8 vs fp32")
    args = ap.parse_args()
    if args.quick:
        args.model_name, args.images, args.large, args.twelve_mp = "tiny-test", 32, 400, 1

    torch_ready()
    import torch

    from engine.artifact import ModelArtifact
    from engine.imaging import preprocess_batch
    from engine.tagging.decode import decode_file
    from engine.tagging.onnx_session import TaggerSession
    from engine.tagging.runner import TagConfig, tag_folders

    torch.set_num_threads(args.threads)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-tagging-") as tmp:
        root = Path(tmp)
        folder, onnx_path = build_model(root, args.model_name, args.image_size)
        session = TaggerSession(onnx_path, provider="auto", threads=args.threads)
        spec = session.metadata.preprocess
        print(f"model {args.model_name} @ {spec.size}px, {len(LABELS)} labels, providers {session.providers}, "
              f"{args.threads} threads, batch {args.batch}")

        # 1) end-to-end folder tagging vs the bare model on the same batches
        paths = make_folder(root / "photos", args.images, (1024, 768), seed=1)
        arrays = preprocess_batch(paths, spec)
        batches = [arrays[i:i + args.batch] for i in range(0, len(arrays), args.batch)]
        session.scores(batches[0])  # warm-up
        bare_s = timed(lambda: [session.scores(b) for b in batches], repeat=2)
        cfg = TagConfig(batch_size=args.batch, threads=args.threads)
        tag_folders([root / "photos"], onnx_path, root / "warm.db", cfg)  # warm file cache
        result = tag_folders([root / "photos"], onnx_path, root / "bench.db", cfg)
        figures["bare_img_s"] = args.images / bare_s
        figures["e2e_img_s"] = result.tagged / result.elapsed_s
        figures["e2e_vs_bare"] = figures["e2e_img_s"] / figures["bare_img_s"]

        # 1b) where the CPU time goes, and onnxruntime threads spinning vs sleeping (interleaved)
        print("per image CPU time and end-to-end rate against the CPU-bound limit (cores / summed CPU):")
        from engine.tagging import onnx_session
        for rep in range(2):
            for spinning in (True, False):
                onnx_session.ALLOW_SPINNING = spinning
                s = TaggerSession(onnx_path, threads=args.threads)
                f = e2e_figures(root, onnx_path, s, batches, args.images, cfg, "cpu")
                print_e2e(f"spinning={spinning} #{rep + 1}", f)
                figures[f"limit_ratio_spin{int(spinning)}"] = max(
                    figures.get(f"limit_ratio_spin{int(spinning)}", 0.0), f["ratio"])
        onnx_session.ALLOW_SPINNING = False

        # 1c) int8 (static QDQ, calibrated on the benchmark photos) vs fp32, bare model, interleaved
        if not args.e2e_only or args.int8:
            from engine.export.quantize import int8_path, quantize_int8
            q = quantize_int8(onnx_path, int8_path(onnx_path), paths[:32])
            s8 = TaggerSession(q.path, threads=args.threads)
            s8.scores(batches[0])
            fp32_s = int8_s = float("inf")
            for _ in range(2):
                fp32_s = min(fp32_s, timed(lambda: [session.scores(b) for b in batches]))
                int8_s = min(int8_s, timed(lambda: [s8.scores(b) for b in batches]))
            figures["int8_speedup"] = fp32_s / int8_s
            print(f"int8 {args.images / int8_s:.1f} img/s vs fp32 {args.images / fp32_s:.1f} img/s: ratio "
                  f"{figures['int8_speedup']:.2f}; max |Δscore| {q.max_abs_diff_scores:.4f}; "
                  f"{q.size_bytes / 1e6:.0f} MB")
        if args.e2e_only:
            print(json.dumps(figures, indent=2))
            return 0

        # 2) onnxruntime vs torch eager on the same batches
        # interleaved (ort, torch, ort, torch, ...) so load from other processes hits both alike
        module = ModelArtifact.from_pretrained(folder).tagger_module()
        tensors = [torch.from_numpy(b) for b in batches]
        ort_s, torch_s = float("inf"), float("inf")
        with torch.no_grad():
            module(tensors[0])
            for _ in range(2):
                ort_s = min(ort_s, timed(lambda: [session.scores(b) for b in batches]))
                torch_s = min(torch_s, timed(lambda: [module(t) for t in tensors]))
        figures["ort_img_s"] = args.images / ort_s
        figures["torch_img_s"] = args.images / torch_s
        figures["ort_vs_torch"] = torch_s / ort_s

        # 3) JPEG draft vs full decode on 12-MP photos
        big = make_folder(root / "big", args.twelve_mp, (4000, 3000), seed=2)
        full_s = timed(lambda: [decode_file(p, spec, draft=False) for p in big])
        draft_s = timed(lambda: [decode_file(p, spec, draft=True) for p in big], repeat=2)
        figures["full_decode_ms"] = 1000 * full_s / len(big)
        figures["draft_decode_ms"] = 1000 * draft_s / len(big)
        figures["draft_speedup"] = full_s / draft_s

        # 4) peak memory: a small and a large folder, each tagged in a fresh process (tiny model)
        tiny_root = root / "tiny"
        tiny_root.mkdir()
        _, tiny_onnx = build_model(tiny_root, "tiny-test", None) if args.model_name != "tiny-test" else (
            folder, onnx_path)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        rss = {}
        for n in (max(50, args.large // 10), args.large):
            make_folder(root / f"mem{n}", n, (320, 240), seed=n)
            out = subprocess.run(
                [sys.executable, "-c", MEM_SCRIPT, str(root / f"mem{n}"), str(tiny_onnx), str(root / f"mem{n}.db"),
                 str(args.batch)], env=env, capture_output=True, text=True, check=True,
            ).stdout.split()
            rss[n] = int(out[1]) / 1024
        small_n, large_n = sorted(rss)
        figures["peak_rss_mb_small"] = rss[small_n]
        figures["peak_rss_mb_large"] = rss[large_n]

    print()
    print(f"end-to-end {figures['e2e_img_s']:.1f} img/s vs bare model {figures['bare_img_s']:.1f} img/s: "
          f"ratio {figures['e2e_vs_bare']:.2f} (target >= 0.85)")
    print(f"onnxruntime {figures['ort_img_s']:.1f} img/s vs torch eager {figures['torch_img_s']:.1f} img/s: "
          f"ratio {figures['ort_vs_torch']:.2f} (target >= 1.5)")
    print(f"12-MP JPEG decode+preprocess: full {figures['full_decode_ms']:.0f} ms, "
          f"draft {figures['draft_decode_ms']:.0f} ms: ratio {figures['draft_speedup']:.1f} (target >= 3)")
    print(f"peak RSS tagging {small_n} images: {figures['peak_rss_mb_small']:.0f} MB; {large_n} images: "
          f"{figures['peak_rss_mb_large']:.0f} MB "
          f"(ratio {figures['peak_rss_mb_large'] / figures['peak_rss_mb_small']:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
