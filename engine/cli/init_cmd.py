"""`t2ipal init DIR --labels SPEC`: create a project folder and store its label set once."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "init",
        help="create a project and store its label set (the other commands then take --project DIR only)",
        description="Create a project folder (database, caches, models, exports) and store the label set it tags "
        "with. Later `captions`, `synth`, `train`, `export`, `tag`, `query` and `tags` work on --project DIR "
        "without repeating the labels.",
    )
    p.add_argument("project", metavar="DIR", help="project folder (created if missing)")
    p.add_argument("--labels", "-l", required=True, metavar="SPEC",
                   help="bundled set (voc2007, coco, ...; see `t2ipal labels list`), a .json/.yaml label-set file, "
                   "labels.txt (one per line) or 'dog,tent,beach'")
    p.add_argument("--replace-labels", action="store_true",
                   help="replace the label set of an existing project (its captions and models stay on disk)")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from engine import api

    labels = api.resolve_labels(args.labels)
    project = api.create_project(args.project, labels=labels, replace_labels=args.replace_labels)
    print(f"project {project.root}: label set {labels.name!r} with {len(labels)} labels")
    print(f"next: t2ipal captions import FILE --project {args.project}   (or: t2ipal captions generate)")
    return 0
