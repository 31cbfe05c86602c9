"""int8 vs fp32 on the demo world: mAP on the photo-style test set (tagged into SQLite) and CPU speed, per seed.

Usage: .venv/bin/python -m engine.cli.main demo run --quick --project demo-q   (once), then
       .venv/bin/python bench/bench_quantize.py --project demo-q
Every T2I-PAL model the demo run exported (one per seed) is quantized with `api.export_folder`'s int8 path
(static QDQ, calibrated on the project's synthetic renders), both files tag the same test photos, and the
bare model speeds are timed interleaved. The keep rule of issue #17: int8 stays only if mAP drops <= 0.5.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def bare_rate(session, batches, images: int) -> float:
    t0 = time.perf_counter()
    for b in batches:
        session.scores(b)
    return images / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--project", required=True, help="a project left by `t2ipal demo run`")
    ap.add_argument("--method", default="t2ipal")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()

    from engine import api
    from engine.demo.pipeline import _scores_from_db
    from engine.evaluation.metrics import mean_average_precision
    from engine.export.quantize import int8_path, quantize_int8
    from engine.imaging import preprocess_batch
    from engine.tagging.onnx_session import TaggerSession
    from engine.tagging.runner import TagConfig, tag_folders

    project = api.open_project(args.project)
    test_dir = project.root / "test-photos"
    truth = json.loads((test_dir / "ground_truth.json").read_text())
    paths = [str(test_dir / p) for p in truth["paths"]]
    renders = [api.synthetic_path(project, r) for r in api.synthetic_images(project)]
    rows = []
    for fp32 in sorted(project.exports_dir.glob(f"{args.method}-seed*.onnx")):
        if fp32.name.endswith(".int8.onnx"):
            continue
        q = quantize_int8(fp32, int8_path(fp32), renders)
        maps = {}
        for kind, model in (("fp32", fp32), ("int8", q.path)):
            db = project.root / f"bench-{fp32.stem}-{kind}.db"
            db.unlink(missing_ok=True)
            result = tag_folders([test_dir], model, db, TagConfig())
            names = list(TaggerSession(model, provider="cpu").metadata.labels)
            import numpy as np

            scores = _scores_from_db(db, [str(Path(p).resolve()) for p in paths], names)
            maps[kind] = float(mean_average_precision(scores, np.asarray(truth["labels"])))  # in percent
            assert result.tagged == len(paths), result
        s32, s8 = TaggerSession(fp32, provider="cpu"), TaggerSession(q.path, provider="cpu")
        arr = preprocess_batch(paths[:64], s32.metadata.preprocess)
        batches = [arr[i:i + 16] for i in range(0, len(arr), 16)]
        s32.scores(batches[0]), s8.scores(batches[0])
        r32 = r8 = 0.0
        for _ in range(3):  # interleaved, best of 3
            r32, r8 = max(r32, bare_rate(s32, batches, len(arr))), max(r8, bare_rate(s8, batches, len(arr)))
        rows.append({"model": fp32.name, "map_fp32": maps["fp32"], "map_int8": maps["int8"],
                     "drop": maps["fp32"] - maps["int8"], "img_s_fp32": r32, "img_s_int8": r8,
                     "speedup": r8 / r32, "max_abs_diff_scores": q.max_abs_diff_scores})
        print(f"{fp32.name}: mAP fp32 {maps['fp32']:.2f}, int8 {maps['int8']:.2f} (drop {rows[-1]['drop']:+.2f}); "
              f"bare {r32:.0f} vs {r8:.0f} img/s: int8 speed-up {r8 / r32:.2f}x")
    if rows:
        drop = statistics.fmean(r["drop"] for r in rows)
        print(f"mean mAP drop {drop:+.2f} over {len(rows)} seeds (keep int8 only if <= 0.5): "
              f"{'keep' if drop <= 0.5 else 'drop'}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
