"""`t2ipal query --project P --label dog` (or `query DB ...`): list files carrying a tag."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("query", help="list tagged files", description="List files by tag, best score first.")
    p.add_argument("db", metavar="DB", nargs="?", help="a database written by `t2ipal tag --db` (instead of --project)")
    p.add_argument("--project", "-p", metavar="DIR", help="the project whose tags to list")
    p.add_argument("--label", help="only this label")
    p.add_argument("--min-score", type=float, default=None, help="minimum score for automatic tags")
    p.add_argument("--source", action="append", choices=("auto", "confirmed", "rejected", "manual"),
                   help="tag sources to include (repeatable; default auto, confirmed, manual)")
    p.add_argument("--include-missing", action="store_true", help="also list files that no longer exist")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--format", choices=("paths", "table", "json"), default="paths",
                   help="paths: one file per line (default); table: path, label, score, source; json")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from engine import api

    project = api.open_project(args.project) if args.project else None
    hits = api.query(
        project,
        db=args.db,
        label=args.label,
        min_score=args.min_score,
        sources=tuple(args.source) if args.source else ("auto", "confirmed", "manual"),
        include_missing=args.include_missing,
        limit=args.limit,
    )
    out = sys.stdout
    if args.format == "json":
        json.dump([{"path": _show(h.path), "label": h.label, "score": h.score, "source": h.source} for h in hits],
                  out, indent=1, ensure_ascii=False)
        out.write("\n")
    elif args.format == "table":
        for h in hits:
            score = "" if h.score is None else f"{h.score:.4f}"
            out.write(f"{_show(h.path)}\t{h.label}\t{score}\t{h.source}\n")
    else:
        seen: set[str] = set()
        for h in hits:
            if h.path not in seen:
                seen.add(h.path)
                out.write(_show(h.path) + "\n")
    return 0


def _show(path: str) -> str:
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
