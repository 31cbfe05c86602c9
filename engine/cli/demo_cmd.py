"""`t2ipal demo ...`: the demo world (sample images + captions) and pretraining of the shipped demo CLIP."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the offline demo world: run the whole pipeline, sample scenes, pretrain its small CLIP",
        description="A procedural world of multi-label shape scenes in which every stage runs without downloads "
        "(see docs/demo-world.md).",
    )
    sub = p.add_subparsers(dest="demo_command", metavar="SUBCOMMAND")

    w = sub.add_parser("world", help="write sample scenes (images + captions + labels) to a folder",
                       description="Write N seeded scenes of a style to DIR: PNG files, captions.jsonl and labels.")
    w.add_argument("--out", required=True, metavar="DIR", help="folder to write (created if missing)")
    w.add_argument("-n", "--count", type=int, default=16, help="number of scenes (default 16)")
    w.add_argument("--style", choices=("photo", "synthetic", "both"), default="both",
                   help="photo (the test style), synthetic (the renderer's style) or both (default)")
    w.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    w.set_defaults(func=world_handler)

    t = sub.add_parser("pretrain", help="pretrain the demo CLIP and write engine/demo/demo_clip (resumable)",
                       description="Render the pretraining corpus, train the demo CLIP (InfoNCE at a fixed logit "
                       "scale + auxiliary BCE; stage 1 on captions naming every object, stage 2 also on captions "
                       "naming only some), write weights, recipe and quality report, and print the quality gates. "
                       "Checkpoints let an interrupted run resume; runs that differ only in stage 2 share stage 1.")
    t.add_argument("--config", metavar="JSON", help="PretrainConfig JSON (defaults: the shipped recipe)")
    t.add_argument("--out", metavar="DIR", help="output folder (default engine/demo/demo_clip)")
    t.add_argument("--work-dir", metavar="DIR", help="corpus cache and checkpoints (default .t2ipal-cache/)")
    t.add_argument("--steps", type=int, help="stage-1 training steps")
    t.add_argument("--refine-steps", type=int, help="stage-2 training steps (0: stage 1 only)")
    t.add_argument("--corpus-size", type=int, help="pretraining (image, caption) pairs")
    t.add_argument("--batch-size", type=int, help="batch size")
    t.add_argument("--seed", type=int, help="seed")
    t.add_argument("--threads", type=int, help="torch threads (default 1)")
    t.add_argument("--processes", type=int, help="corpus rendering processes (default 1)")
    t.add_argument("--eval-split", choices=("val", "test"), help="split of the quality report (default test)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--strict", action="store_true", help="exit 1 when a quality gate fails")
    t.set_defaults(func=pretrain_handler)
    r = sub.add_parser("run", help="run the whole pipeline on the demo world and print the comparison table",
                       description="Label set and captions -> renderer -> training (every method, several seeds) -> "
                       "ONNX export -> the photo-style test set tagged into SQLite -> mAP from the database. Leaves "
                       "a sample project the desktop app opens.")
    r.add_argument("--project", default="demo-project", metavar="DIR", help="project folder (default demo-project)")
    r.add_argument("--quick", action="store_true", help="2 seeds and smaller sets (under 2 minutes)")
    r.add_argument("--seeds", type=int, nargs="+", help="seeds (default 1 2 3)")
    r.add_argument("--json", metavar="FILE", help="also write the results here (always in PROJECT/demo-results.json)")
    r.add_argument("--no-progress", action="store_true", help="no progress output")
    r.set_defaults(func=run_handler)

    tu = sub.add_parser("tune", help="choose the demo's lr / epochs / lambda on held-out synthetic renders",
                        description="Grid search of T2I-PAL training settings on one caption set (seed 0, never "
                        "reported), scored on held-out synthetic renders only; the test split is never read.")
    tu.add_argument("--project", default="demo-tune", metavar="DIR", help="scratch project (default demo-tune)")
    tu.add_argument("--captions", type=int, default=800, help="captions in the tuning set (default 800)")
    tu.set_defaults(func=tune_handler)
    rv = sub.add_parser("review", help="learning from corrections: a simulated reviewer, queue vs random order",
                        description="Per seed: train T2I-PAL on captions and renders, then review a pool of photo-style"
                        " "
                        "images (disjoint from the test split) with a reviewer who answers from the ground truth, in "
                        "review-queue order and in random order, retraining (warm start) after 25, 50, 100 and 200 "
                        "photos; prints test mAP with std over seeds (scored on cached features with the model head).")
    rv.add_argument("--project", default="demo-review", metavar="DIR", help="scratch project (default demo-review)")
    rv.add_argument("--seeds", type=int, nargs="+", help="seeds (default 1 2 3)")
    rv.add_argument("--json", metavar="FILE", help="also write the results here "
                    "(always in PROJECT/review-results.json)")
    rv.set_defaults(func=review_handler)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def review_handler(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.cli.progress_bar import cli_job
    from engine.demo.review import ReviewDemoConfig, run_review_demo

    cfg = ReviewDemoConfig()
    if args.seeds:
        cfg = cfg.replace(seeds=tuple(args.seeds))
    with cli_job() as (progress, cancel):
        result = run_review_demo(args.project, cfg, progress=progress, cancel=cancel)
    print(result.format_table())
    print(f"\n{result.seconds:.0f} s; curve data in {Path(args.project) / 'review-results.json'}")
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return 0


def run_handler(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.cli.progress_bar import cli_job
    from engine.demo.pipeline import DemoConfig, run_demo

    cfg = DemoConfig.quick() if args.quick else DemoConfig()
    if args.seeds:
        cfg = cfg.replace(seeds=tuple(args.seeds))
    with cli_job(True) as (_, cancel):
        def show(event):  # one line per stage: the table is the output that matters
            if event.stage == "demo" and not args.no_progress:
                print(f"[demo] {event.message}", file=sys.stderr, flush=True)

        result = run_demo(args.project, cfg, progress=show, cancel=cancel)
    print(result.format_table())
    print(f"\nsample project: {result.project} ({result.db_rows} images in the tag database); "
          f"open it with `t2ipal gui`")
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return 0


def world_handler(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.demo import world

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    styles = {"photo": [("photo", world.STYLE_PHOTO)], "synthetic": [("synthetic", world.STYLE_SYNTHETIC)]}
    chosen = styles["photo"] + styles["synthetic"] if args.style == "both" else styles[args.style]
    rows = []
    for name, style in chosen:
        for i in range(args.count):
            item = world.sample("samples", i, seed=args.seed, style=style)
            file = f"{name}_{i:04d}.png"
            item.image.save(out / file)
            rows.append({"file": file, "style": name, "caption": item.caption, "labels": list(item.scene.label_names)})
    with open(out / "captions.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    (out / "labelset.json").write_text(json.dumps(world.demo_labelset_dict(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} images, captions.jsonl and labelset.json to {out}", file=sys.stderr)
    return 0


def pretrain_handler(args: argparse.Namespace) -> int:
    from engine.cli.progress_bar import cli_job
    from engine.demo.pretrain import PretrainConfig, pretrain_demo_clip

    cfg = PretrainConfig.from_json(args.config) if args.config else PretrainConfig()
    cfg = cfg.replace(
        out_dir=args.out, work_dir=args.work_dir, steps=args.steps, refine_steps=args.refine_steps,
        corpus_size=args.corpus_size,
        batch_size=args.batch_size, seed=args.seed, threads=args.threads, render_processes=args.processes,
        eval_split=args.eval_split,
    )
    with cli_job(disable_bar=args.no_progress) as (progress, cancel):
        result = pretrain_demo_clip(cfg, progress=progress, cancel=cancel)
    from engine.demo.quality import QualityReport

    q = {k: v for k, v in result.quality.items() if k in QualityReport.__dataclass_fields__}
    for line in QualityReport(**q).lines():
        print(line)
    print(f"steps {result.steps} (resumed from {result.resumed_from}); corpus {result.render_seconds:.0f} s, "
          f"training {result.train_seconds:.0f} s, total {result.seconds:.0f} s; wrote {result.out_dir}")
    print("all quality gates passed" if result.passed else "SOME QUALITY GATES FAILED")
    return 1 if (args.strict and not result.passed) else 0


def tune_handler(args: argparse.Namespace) -> int:
    from engine.cli.progress_bar import cli_job
    from engine.demo.tuning import tune_demo

    with cli_job() as (progress, cancel):
        result = tune_demo(args.project, n_captions=args.captions, progress=progress, cancel=cancel)
    print(result.format_table())
    return 0
