"""Time a COCO-style caption import: writes a 120k-caption captions JSON in a temp dir and imports it with the COCO set.

Run: .venv/bin/python bench/bench_caption_import.py [--captions 120000] [--labelset coco]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.captions.store import CaptionStore  # noqa: E402
from engine.db import open_db  # noqa: E402
from engine.labels.labelset import LabelSet  # noqa: E402

SUBJECTS = ["A man", "A woman", "Two kids", "A dog", "A cat", "A group of people", "A young boy", "An old lady",
            "A large elephant", "Several sheep", "A giraffe", "A skier", "A surfer", "A train", "A red bus"]
VERBS = ["standing next to", "riding", "holding", "sitting on", "looking at", "walking past", "parked near",
         "eating", "playing with", "carrying"]
OBJECTS = ["a bicycle", "a surfboard", "a pizza", "a laptop", "a kitchen table", "a pair of skis", "an umbrella",
           "a teddy bear", "a hot dog", "a fire hydrant", "a cell phone", "some bananas", "a wine glass", "a couch",
           "a traffic light", "a clock tower", "a frisbee", "a tennis racket", "a bowl of broccoli", "a toilet"]
PLACES = ["on a busy street", "in a kitchen", "at the beach", "in a field", "on a snowy slope", "in a living room",
          "at a train station", "near the water", "in a park", "on a table", "", ""]


def write_coco(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        f.write('{"info": {"description": "synthetic bench"}, "images": [')
        f.write(",".join(json.dumps({"id": i, "file_name": f"{i:012d}.jpg"}) for i in range(n // 5 + 1)))
        f.write('], "annotations": [\n')
        for k in range(n):
            cap = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(PLACES)}".strip()
            cap += f" ({k})." if k % 3 == 0 else "."  # ~1/3 unique tails so dedup has real work
            sep = ",\n" if k else ""
            f.write(sep + json.dumps({"image_id": k // 5, "id": k, "caption": cap}))
        f.write("\n]}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--captions", type=int, default=120_000)
    ap.add_argument("--labelset", default="coco")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "captions_bench.json"
        t = time.perf_counter()
        write_coco(path, args.captions)
        mb = path.stat().st_size / 1e6
        print(f"wrote {args.captions:,} captions ({mb:.1f} MB) in {time.perf_counter() - t:.1f} s")
        store = CaptionStore(open_db(Path(tmp) / "project.db"))
        ls = LabelSet.bundled(args.labelset)
        t = time.perf_counter()
        r = store.import_file(path, "coco", ls)
        dt = time.perf_counter() - t
        print(f"import: {r.read:,} captions in {dt:.2f} s = {r.read / dt:,.0f} captions/s "
              f"(added {r.added:,}, duplicates {r.duplicates:,}, no label {r.unlabelled:,})")
        t = time.perf_counter()
        r2 = store.import_file(path, "coco", ls)
        dt2 = time.perf_counter() - t
        print(f"re-import (all duplicates): {dt2:.2f} s, added {r2.added}")
        t = time.perf_counter()
        st = store.stats(ls)
        print(f"stats: {st.total:,} captions, {len(st.thin_labels)} thin labels, in {time.perf_counter() - t:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
