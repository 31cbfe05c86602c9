"""`t2ipal query --project P --label dog` (or `query DB ...`): list files carrying a tag."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "query", help="list tagged files",
        description="List the tags in force (the same ones Browse shows and `tags export` writes), "
        "most probable first. Thresholds come from the project's threshold policy.")
    p.add_argument("db", metavar="DB", nargs="?", help="a database written by `t2ipal tag --db` (instead of --project)")
    p.add_argument("--project", "-p", metavar="DIR", help="the project whose tags to list")
    p.add_argument("--label", help="only this label")
    p.add_argument("--source", action="append", choices=("auto", "confirmed", "rejected", "manual"),
                   help="tag sources to include (repeatable; default auto, confirmed, manual)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--format", choices=("paths", "table", "json"), default="paths",
                   help="paths: one file per line (default); table: path, label, probability, score, source; json")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from engine import api

    project = api.open_project(args.project) if args.project else None
    hits = api.query(
        project,
        db=args.db,
        label=args.label,
        sources=tuple(args.source) if args.source else ("auto", "confirmed", "manual"),
        limit=args.limit,
    )
    out = sys.stdout
    if args.format == "json":
        json.dump([{"path": _show(h.path), "label": h.label, "probability": h.probability, "score": h.score,
                    "source": h.source} for h in hits],
                  out, indent=1, ensure_ascii=False)
        out.write("\n")
    elif args.format == "table":
        for h in hits:
            score = "" if h.score is None else f"{h.score:.4f}"
            prob = "" if h.probability is None else f"{h.probability:.3f}"
            out.write(f"{_show(h.path)}\t{h.label}\t{prob}\t{score}\t{h.source}\n")
    else:
        seen: set[str] = set()
        for h in hits:
            if h.path not in seen:
                seen.add(h.path)
                out.write(_show(h.path) + "\n")
    return 0


def _show(path: str) -> str:
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
