"""`t2ipal thresholds --project P`: show and set the threshold policy that decides which scores become tags."""

from __future__ import annotations

import argparse
import sys

from engine.project import Project


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "thresholds",
        help="show or change the per-label thresholds that turn probabilities into tags",
        description="The same threshold policy Browse edits: each label's threshold defaults to its calibrated "
        "operating point (max F1, or a target precision), a label can have its own value, and one offset moves "
        "them all. Query, tag export and Browse all read it; changing it never needs tagging again.",
    )
    p.add_argument("--project", "-p", required=True, metavar="DIR", help="the project")
    p.add_argument("--set", nargs=2, action="append", metavar=("LABEL", "P"), default=[],
                   help="give LABEL its own threshold P (a probability, 0-1); repeatable")
    p.add_argument("--reset", action="append", metavar="LABEL", default=[],
                   help="LABEL goes back to its computed threshold; repeatable")
    p.add_argument("--reset-all", action="store_true", help="every label back to its computed threshold")
    p.add_argument("--offset", type=float, metavar="D", help="move every threshold by D (-1..1; Browse's slider)")
    p.add_argument("--operating-point", choices=("max_f1", "precision"),
                   help="how thresholds are computed: best F1 (default) or a target precision")
    p.add_argument("--target-precision", type=float, metavar="P", help="with --operating-point precision (0-1)")
    p.set_defaults(func=handler)


def _change(args: argparse.Namespace, project: Project) -> bool:
    from engine import api
    from engine.errors import InputError

    changed = False
    if args.operating_point or args.target_precision is not None:
        api.set_operating_point(project, args.operating_point or api.policy(project).operating_point,
                                args.target_precision)
        changed = True
    if args.offset is not None:
        api.set_global_offset(project, args.offset)
        changed = True
    resets = list(api.label_thresholds(project)) if args.reset_all else args.reset
    for label in resets:
        api.set_label_threshold(project, label, None)
        changed = True
    for label, value in args.set:
        try:
            probability = float(value)
        except ValueError:
            raise InputError(f"--set {label} {value}: the threshold must be a probability such as 0.7") from None
        api.set_label_threshold(project, label, probability)
        changed = True
    return changed


def handler(args: argparse.Namespace) -> int:
    from engine import api

    project = api.open_project(args.project)
    if _change(args, project):
        print("threshold policy updated", file=sys.stderr)
    policy = api.policy(project)
    rows = api.label_thresholds(project)
    if not rows:
        print("no tagged photos yet: tag a folder first (`t2ipal tag DIR --project P`)", file=sys.stderr)
        return 0
    counts = api.label_counts(project, api.TagFilter())
    point = "max F1" if policy.operating_point == "max_f1" else f"precision ≥ {policy.target_precision:.2f}"
    print(f"operating point: {point}; global offset {policy.global_offset:+.2f}")
    width = max(len(label) for label in rows)
    print(f"{'label':{width}s}  {'computed':>8s}  {'own':>6s}  {'in force':>8s}  {'photos':>7s}")
    for label, t in rows.items():
        own = "" if t.own is None else f"{t.own:.2f}"
        print(f"{label:{width}s}  {t.default:8.2f}  {own:>6s}  {t.in_force:8.2f}  {counts.get(label, 0):7d}")
    return 0
