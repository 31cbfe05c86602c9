"""Tagging throughput on a local Ray instance with 1 and 2 actors against the local tagger, side by side in one run.

Run: /work/main/.venv/bin/python bench/bench_ray_tagging.py [--images 300] [--model-name tiny-test] [--cpus 2]
Needs the [cluster] extra. Every job tags the same generated JPEG folder into a fresh database; times include the
actor pool's start-up (model load per actor), not `ray.init`, which is printed on its own line.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_tagging import build_model, make_folder  # noqa: E402

from engine import torch_ready  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model-name", default="tiny-test", help="random CLIP exported to ONNX (tiny-test, demo-clip)")
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--size", default="640x480", help="photo size WxH")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--cpus", type=int, default=2, help="CPUs given to the local Ray instance and the local tagger")
    ap.add_argument("--repeat", type=int, default=2, help="best of N for each job")
    args = ap.parse_args()
    torch_ready()
    import ray

    from engine.cluster.config import RayConfig
    from engine.cluster.ray_tag import tag_on_ray
    from engine.tagging.runner import TagConfig, tag_folders

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        w, h = (int(v) for v in args.size.split("x"))
        make_folder(work / "photos", args.images, (w, h), seed=0)
        _, model = build_model(work, args.model_name, None)
        t0 = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
        print(f"ray.init: {time.perf_counter() - t0:.1f} s (not counted below)")
        ray.data.DataContext.get_current().enable_progress_bars = False
        cfg = TagConfig(batch_size=args.batch)
        jobs = {
            f"local tagger ({args.cpus} decode threads, {args.cpus} ORT threads)":
                lambda db: tag_folders([work / "photos"], model, db, cfg.replace(workers=args.cpus, threads=args.cpus)),
            "Ray, 1 actor (1 CPU)":
                lambda db: tag_on_ray([work / "photos"], model, db, cfg, RayConfig(actors=1, cpus_per_actor=1)),
            "Ray, 2 actors (1 CPU each)":
                lambda db: tag_on_ray([work / "photos"], model, db, cfg, RayConfig(actors=2, cpus_per_actor=1)),
        }
        rates = {}
        for name, job in jobs.items():
            best = float("inf")
            for r in range(args.repeat):
                t0 = time.perf_counter()
                result = job(work / f"{len(rates)}-{r}.db")
                best = min(best, time.perf_counter() - t0)
                assert result.tagged == args.images, result
            rates[name] = args.images / best
        ray.shutdown()
    base = next(iter(rates.values()))
    print(f"\n{args.images} photos {args.size}, model {args.model_name}, batch {args.batch}, {args.cpus} CPUs")
    print(f"{'job':<52} {'images/s':>9} {'vs local':>9}")
    for name, rate in rates.items():
        print(f"{name:<52} {rate:9.1f} {rate / base:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
