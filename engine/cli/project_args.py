"""The `--project` / `--labels` options every project command shares, mapped onto the project API."""

from __future__ import annotations

import argparse
import sys

from engine.project import Project


def add_project_arg(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument("--project", "-p", required=required, default=None if required else ".", metavar="DIR",
                        help="project folder" + ("" if required else " (default: the current folder)"))


def add_labels_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", "-l", metavar="SPEC",
                        help="label set to store in the project if it has none yet (bundled name, .json/.yaml "
                        "file, labels.txt or 'a,b,c'); the project's own label set is used otherwise")


def project_from_args(args: argparse.Namespace, *, create: bool = False) -> Project:
    """The project of `--project`; `--labels`, when given, is stored in it (or refused if it has another set)."""
    from engine import api

    spec = getattr(args, "labels", None)
    if spec is None:
        return api.create_project(args.project) if create else api.open_project(args.project)
    labels = api.resolve_labels(spec)
    project = api.create_project(args.project) if create else api.open_project(args.project)
    if not project.labelset_path.exists():
        api.save_labels(project, labels)
        print(f"stored label set {labels.name!r} ({len(labels)} labels) in {project.root}", file=sys.stderr)
        return project
    return api.create_project(args.project, labels=labels)  # same set: no-op; another set: a clear error
