"""`t2ipal review`: the review queue, and confirming or rejecting a photo's tags from the command line."""

from __future__ import annotations

import argparse

from engine.cli.project_args import add_project_arg


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "review",
        help="the review queue: photos whose decision teaches the model most; confirm / reject / add tags",
        description="Without an action, print the next photos of the review queue (labels nearest their "
        "thresholds first, near-duplicates spread out) and how many decisions the model has not learned from yet. "
        "Then `t2ipal train --project P --with-decisions` retrains on them.",
    )
    add_project_arg(p)
    p.add_argument("--next", type=int, default=10, metavar="N", help="how many queued photos to print (default 10)")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--confirm", nargs=2, metavar=("PATH", "LABEL"), help="confirm a tag of a photo")
    action.add_argument("--reject", nargs=2, metavar=("PATH", "LABEL"), help="reject a tag of a photo")
    action.add_argument("--add", nargs=2, metavar=("PATH", "LABEL"), help="add a missing label to a photo")
    p.set_defaults(func=run)


SOURCES = {"confirm": "confirmed", "reject": "rejected", "add": "manual"}


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine import api

    project = api.open_project(args.project)
    for flag, source in SOURCES.items():
        chosen = getattr(args, flag)
        if chosen:
            path, label = str(Path(chosen[0]).resolve()), chosen[1]
            api.decide(project, path, label, source)
            print(f"{source}: {label} on {path}")
            break
    else:
        for item in api.review_queue(project, limit=args.next):
            print(f"{item.value:6.2f}  {item.path}  near threshold: {', '.join(item.uncertain) or '-'}")
    n = api.decisions_since_training(project)
    print(f"{n} decision{'s' if n != 1 else ''} since the last training"
          + (f"; retrain with `t2ipal train --project {args.project} --with-decisions`" if n else ""))
    return 0
