"""`t2ipal captions import|generate|stats`: build the labelled caption corpus of a project."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.cli.project_args import add_labels_arg, add_project_arg, project_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("captions", help="import, generate and count the captions a project trains on")
    sub = parser.add_subparsers(dest="captions_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        add_project_arg(p)
        add_labels_arg(p)

    p = sub.add_parser("import", help="import a caption file (COCO .json, narratives .jsonl, .txt, .csv)")
    p.add_argument("file", help="caption file")
    common(p)
    p.add_argument("--format", default="auto", choices=["auto", "coco", "narratives", "text", "csv"],
                   help="file format (default: from the extension)")
    p.add_argument("--source", default=None, help="source name stored with each caption (default: the file name)")
    p.add_argument("--max-per-image", type=int, default=None,
                   help="keep at most this many captions per image id (COCO/narratives; the paper uses 1)")
    p.add_argument("--min-count", type=int, default=50, help="warn about labels with fewer captions (default 50)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_import)

    p = sub.add_parser("generate", help="write captions for labels with too few, up to --target each")
    common(p)
    p.add_argument("--target", type=int, default=100, help="captions wanted per label (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-labels", type=int, default=4, help="labels per caption, at most (1-4, default 4)")
    p.add_argument("--model", default=None,
                   help="folder of a local text-generation model (transformers save_pretrained); default: templates")
    p.add_argument("--device", default="cpu", help="device for --model (cpu, cuda)")
    p.add_argument("--out", default=None, help="write the captions to this .txt/.csv instead of the project")
    p.set_defaults(func=_generate)

    p = sub.add_parser("stats", help="captions per label, frequent label pairs, thin labels")
    common(p)
    p.add_argument("--min-count", type=int, default=50, help="labels under this count are listed as thin")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_stats)


def _import(args: argparse.Namespace) -> int:
    from engine import api
    from engine.cli.progress_bar import cli_job

    project = project_from_args(args, create=True)
    with cli_job(disable_bar=args.no_progress) as (progress, cancel):
        r = api.import_captions(project, args.file, fmt=args.format, source=args.source,
                                max_per_image=args.max_per_image, min_count=args.min_count,
                                progress=progress, cancel=cancel)
    print(f"{r.path}: read {r.read:,} captions in {r.elapsed_s:.1f} s ({r.rate:,.0f}/s): added {r.added:,}, "
          f"duplicates {r.duplicates:,}, no label {r.unlabelled:,}, skipped {r.skipped:,}")
    print(f"label set {r.labelset!r} now has {api.count_captions(project):,} captions")
    if r.thin_labels:
        print(f"warning: {len(r.thin_labels)} labels have fewer than {args.min_count} captions: "
              f"{', '.join(r.thin_labels)}; run `t2ipal captions generate` to top them up", file=sys.stderr)
    return 0


def _generate(args: argparse.Namespace) -> int:
    from engine import api
    from engine.cli.progress_bar import cli_job

    project = project_from_args(args, create=True)
    with cli_job() as (progress, cancel):
        caps, added = api.generate_captions(project, target=args.target, seed=args.seed, max_labels=args.max_labels,
                                            model=args.model, device=args.device, store=args.out is None,
                                            progress=progress, cancel=cancel)
    if args.out:
        _write(Path(args.out), caps)
        print(f"wrote {len(caps):,} captions to {args.out}")
        return 0
    total = api.count_captions(project)
    print(f"generated {len(caps):,} captions, added {added:,} to the project ({total:,} in all)")
    return 0


def _write(path: Path, caps: list) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as f:
        if path.suffix.lower() == ".csv":
            w = csv.writer(f)
            w.writerow(["caption", "labels"])
            for c in caps:
                w.writerow([str(c), ";".join(c.labels)])
        else:
            for c in caps:
                f.write(f"{c}\n")


def _stats(args: argparse.Namespace) -> int:
    from engine import api

    st = api.caption_stats(project_from_args(args), min_count=args.min_count)
    if args.json:
        print(json.dumps(st.to_dict(), indent=1, ensure_ascii=False))
        return 0
    print(f"label set {st.labelset!r}: {st.total:,} captions")
    for src, n in st.per_source.items():
        print(f"  source {src}: {n:,}")
    width = max(len(n) for n in st.names)
    for name in st.names:
        n = st.per_label[name]
        flag = "  <- thin" if n < st.min_count else ""
        print(f"  {name:{width}s} {n:8,d}{flag}")
    pairs = st.top_pairs(10)
    if pairs:
        print("most frequent label pairs:")
        for a, b, n in pairs:
            print(f"  {a} + {b}: {n:,}")
    if st.thin_labels:
        print(f"warning: {len(st.thin_labels)} labels have fewer than {st.min_count} captions: "
              f"{', '.join(st.thin_labels)}", file=sys.stderr)
    return 0
