"""Images/s of the synthesis loop against batch size on the tiny random SD pipeline (CPU, 64 px, 2 steps).

Usage: .venv/bin/python bench/bench_synthesis.py [--batch-sizes 1,2,4,8] [--steps 2] [--images 16] [--threads 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", default="1,2,4,8")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--images", type=int, default=16, help="images per measurement")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import engine

    engine.torch_ready()
    import torch

    torch.set_num_threads(args.threads)
    from engine.project import Project
    from engine.synthesis import RenderRequest, SynthesisConfig, synthesize
    from engine.synthesis.diffusers_backend import DiffusersBackend, DiffusersConfig
    from engine.synthesis.tiny import build_tiny_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_pipeline(Path(tmp) / "tiny-sd")
        backend = DiffusersBackend(DiffusersConfig(model=str(model), steps=args.steps, device="cpu"))
        backend.load()
        backend.render([RenderRequest("warm up", 0, 0)])
        print(f"tiny SD, {args.steps} steps, 64x64, CFG 7.5, CPU, {args.threads} thread(s), {args.images} images")
        print(f"{'batch':>5}  {'render img/s':>12}  {'synthesize img/s':>16}")
        for bs in (int(b) for b in args.batch_sizes.split(",")):
            reqs = [RenderRequest(f"caption {i}", 0, i) for i in range(args.images)]
            t = time.perf_counter()
            for s in range(0, len(reqs), bs):
                backend.render(reqs[s : s + bs])
            render_rate = len(reqs) / (time.perf_counter() - t)
            # the full loop: seeds, PNG encode, atomic write, manifest commit per batch
            items = [{"text": f"caption {i}", "labels": ["x"]} for i in range(args.images)]
            result = synthesize(items, backend, Project(Path(tmp) / f"p{bs}"), SynthesisConfig(batch_size=bs))
            print(f"{bs:>5}  {render_rate:>12.1f}  {result.images_per_second:>16.1f}")


if __name__ == "__main__":
    main()
