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
    p.add_argument("--errors", action="store_true",
                   help="list the files that could not be tagged, with the reason (path<TAB>reason)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--format", choices=("paths", "table", "json"), default="paths",
                   help="paths: one file per line (default); table: path, label, probability, score, source; json")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from engine import api

    project = api.open_project(args.project) if args.project else None
    if args.errors:
        for failed in api.failed_images(project, db=args.db, limit=args.limit):
            sys.stdout.write(f"{show_path(failed.path)}\t{show_path(failed.error)}\n")
        return 0
    hits = api.query(
        project,
        db=args.db,
        label=args.label,
        sources=tuple(args.source) if args.source else ("auto", "confirmed", "manual"),
        limit=args.limit,
    )
    out = sys.stdout
    if args.format == "json":
        json.dump([{"path": _text(h.path), "label": h.label, "probability": h.probability, "score": h.score,
                    "source": h.source} for h in hits],
                  out, indent=1, ensure_ascii=False)
        out.write("\n")
    elif args.format == "table":
        for h in hits:
            score = "" if h.score is None else f"{h.score:.4f}"
            prob = "" if h.probability is None else f"{h.probability:.3f}"
            out.write(f"{show_path(h.path)}\t{h.label}\t{prob}\t{score}\t{h.source}\n")
    else:
        seen: set[str] = set()
        for h in hits:
            if h.path not in seen:
                seen.add(h.path)
                out.write(show_path(h.path) + "\n")
    return 0


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


def _text(path: str) -> str:
    """A path as valid text: undecodable bytes as \\xNN (JSON escapes the rest itself)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def show_path(path: str) -> str:
    """A path on one line: undecodable bytes as \\xNN, newlines and other control characters escaped."""
    return _text(path).translate(_CONTROL)
