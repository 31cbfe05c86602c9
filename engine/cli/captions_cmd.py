"""`t2ipal captions import|generate|stats`: build the labelled caption corpus of a project."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("captions", help="import, generate and count the captions a project trains on")
    sub = parser.add_subparsers(dest="captions_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--project", "-p", default=".", help="project folder (default: current folder)")
        p.add_argument("--labels", "-l", required=True,
                       help="label set: a .json/.yaml file, a set stored in the project, or a bundled name (coco, ...)")

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


def _open(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from engine.captions.store import CaptionStore
    from engine.errors import InputError
    from engine.labels.labelset import LabelSet
    from engine.project import project_at

    store = CaptionStore(project_at(args.project).open_db())
    spec = args.labels
    if Path(spec).suffix.lower() in (".json", ".yaml", ".yml") or Path(spec).exists():
        return store, LabelSet.from_file(spec)
    if spec in store.list_labelsets():
        return store, store.get_labelset(spec)
    try:
        return store, LabelSet.bundled(spec)
    except InputError:
        raise InputError(f"no label-set file, project label set or bundled set called {spec!r}") from None


def _import(args: argparse.Namespace) -> int:
    from engine.cli.progress_bar import cli_job

    store, ls = _open(args)
    with cli_job(disable_bar=args.no_progress) as (progress, cancel):
        r = store.import_file(args.file, args.format, ls, source=args.source, max_per_image=args.max_per_image,
                              min_count=args.min_count, progress=progress, cancel=cancel)
    print(f"{r.path}: read {r.read:,} captions in {r.elapsed_s:.1f} s ({r.rate:,.0f}/s): added {r.added:,}, "
          f"duplicates {r.duplicates:,}, no label {r.unlabelled:,}, skipped {r.skipped:,}")
    print(f"label set {r.labelset!r} now has {store.count(r.labelset):,} captions")
    if r.thin_labels:
        print(f"warning: {len(r.thin_labels)} labels have fewer than {args.min_count} captions: "
              f"{', '.join(r.thin_labels)}; run `t2ipal captions generate` to top them up", file=sys.stderr)
    return 0


def _generate(args: argparse.Namespace) -> int:
    store, ls = _open(args)
    existing = store.label_counts(ls) if args.out is None else {}
    if args.model:
        from engine.captions.generate_llm import generate_with_model
        from engine.cli.progress_bar import cli_job

        with cli_job() as (progress, cancel):
            caps = generate_with_model(ls, args.model, args.target, args.seed, existing, max_labels=args.max_labels,
                                       device=args.device, progress=progress, cancel=cancel)
        source = f"generated:model:{Path(args.model).name}"
    else:
        from engine.captions.generate import generate_captions

        caps = generate_captions(ls, args.target, args.seed, existing, max_labels=args.max_labels)
        source = f"generated:template:seed{args.seed}"
    if args.out:
        _write(Path(args.out), caps)
        print(f"wrote {len(caps):,} captions to {args.out}")
        return 0
    added = store.add_captions(ls, caps, source=source)
    total = store.count(ls.name)
    print(f"generated {len(caps):,} captions, added {added:,} to label set {ls.name!r} ({total:,} in all)")
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
    store, ls = _open(args)
    st = store.stats(ls, min_count=args.min_count)
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
