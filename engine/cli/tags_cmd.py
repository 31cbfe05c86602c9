"""`t2ipal tags export DB --format csv|json|xmp`: export tags to files or XMP sidecars."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tags", help="export tags (CSV, JSON, XMP sidecars)")
    sub = p.add_subparsers(dest="tags_command", metavar="ACTION")
    e = sub.add_parser(
        "export",
        help="export the tags in force",
        description="Export the tags in force: confirmed and manual tags plus automatic ones whose probability "
        "reaches their label's threshold (the project's threshold policy) and nobody rejected. "
        "XMP keywords are merged into sidecars; existing keywords are never removed and image files "
        "are never touched.",
    )
    e.add_argument("db", metavar="DB", nargs="?", help="a database written by `t2ipal tag --db` (instead of --project)")
    e.add_argument("--project", "-p", metavar="DIR", help="the project whose tags to export")
    e.add_argument("--format", choices=("csv", "json", "xmp"), required=True)
    e.add_argument("-o", "--output", help="output file for csv/json")
    e.add_argument("--xmp-naming", choices=("auto", "ext", "stem", "both"), default="auto",
                   help="sidecar name: ext = IMG.jpg.xmp, stem = IMG.xmp, both, "
                   "auto = whichever exists (default; IMG.jpg.xmp when none)")
    e.add_argument("--no-hierarchy", action="store_true", help="do not write lr:hierarchicalSubject")
    e.add_argument("--dry-run", action="store_true", help="show what would change in the sidecars, write nothing")
    e.set_defaults(func=export_handler)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def export_handler(args: argparse.Namespace) -> int:
    from engine import api

    project = api.open_project(args.project) if args.project else None
    if args.format in ("csv", "json"):
        n = api.export_tags(args.format, project, db=args.db, out=args.output)
        print(f"wrote {n} {'rows' if args.format == 'csv' else 'images'} to {args.output}", file=sys.stderr)
        return 0
    result = api.export_tags("xmp", project, db=args.db, naming=args.xmp_naming, dry_run=args.dry_run,
                             hierarchical=not args.no_hierarchy)
    for change in result.changes:
        if change.error:
            print(f"ERROR {change.sidecar}: {change.error}")
            continue
        verb = "create" if change.create else "update"
        adds = ", ".join(change.add_subject + [h for h in change.add_hierarchical if "|" in h])
        print(f"{'would ' if args.dry_run else ''}{verb} {change.sidecar}: + {adds}")
    print(
        f"{len(result.changes) - result.errors} sidecars {'would change' if args.dry_run else 'written'}, "
        f"{result.unchanged} already up to date, {result.errors} errors",
        file=sys.stderr,
    )
    return 1 if result.errors else 0
