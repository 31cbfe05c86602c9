"""`t2ipal tag DIR... --project P` (or `--model M.onnx --db DB`): tag photo folders into the SQLite TagStore."""

from __future__ import annotations

import argparse
import sys

from engine.cli.ray_args import add_ray_args, ray_config_from_args
from engine.tagging.scan import DEFAULT_EXCLUDE


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tag",
        help="tag photo folders with an exported model (resumable, incremental)",
        description="Scan folders, score every new or changed image with an ONNX model and store the tags. "
        "Unchanged images are skipped; run the same command again to resume after a crash or Ctrl-C.",
    )
    p.add_argument("folders", nargs="+", metavar="DIR", help="folders (or files) to tag, scanned recursively")
    p.add_argument("--project", "-p", metavar="DIR",
                   help="tag with the project's exported model into the project's database")
    p.add_argument("--model", metavar="M.onnx", help="without a project: a model exported with `t2ipal export`")
    p.add_argument("--db", metavar="DB", help="without a project: SQLite database to write (created if missing)")
    p.add_argument("--include", action="append", metavar="GLOB",
                   help="only files matching this glob (repeatable; default: common image extensions)")
    p.add_argument("--exclude", action="append", metavar="GLOB",
                   help=f"skip files/folders matching this glob (repeatable; default: {' '.join(DEFAULT_EXCLUDE)})")
    p.add_argument("--no-follow-symlinks", action="store_true", help="do not descend into symlinked folders")
    p.add_argument("--batch-size", type=int, default=None, help="images per inference batch (default 32)")
    p.add_argument("--workers", type=int, default=None, help="decode threads (default min(4, CPUs))")
    p.add_argument("--provider", choices=("auto", "cpu", "cuda"), default=None, help="onnxruntime provider")
    p.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default: all)")
    p.add_argument("--no-draft", action="store_true", help="decode JPEGs at full size (slower, bit-exact)")
    p.add_argument("--retry-errors", action="store_true", help="retry unchanged files that failed before")
    p.add_argument("--keep-missing", action="store_true", help="do not mark vanished files as missing")
    p.add_argument("--max-megapixels", type=int, default=None,
                   help="refuse images with more pixels than this, read from the header (default 200)")
    p.add_argument("--max-file-mb", type=int, default=None, help="refuse files larger than this (default 1024)")
    p.add_argument("--trust-unverified", action="store_true",
                   help="run a model that has no recorded checksum (no MODEL.onnx.sha256 from `t2ipal export`)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_ray_args(p, what="DIR may then also be a URI (s3://bucket/photos, file:///nas/photos)")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from engine import api
    from engine.cli.progress_bar import cli_job
    from engine.errors import InputError
    from engine.tagging.runner import TagConfig

    if args.project is not None and (args.model or args.db):
        raise InputError("--project tags with the project's own model into its database; drop --model and --db")
    if args.project is None and not (args.model and args.db):
        raise InputError("give --project DIR, or both --model M.onnx and --db DB")

    cfg = TagConfig().replace(
        include=tuple(args.include) if args.include else None,
        exclude=tuple(args.exclude) if args.exclude else None,
        follow_symlinks=False if args.no_follow_symlinks else None,
        batch_size=args.batch_size,
        workers=args.workers,
        provider=args.provider,
        threads=args.threads,
        draft=False if args.no_draft else None,
        retry_errors=True if args.retry_errors else None,
        mark_missing=False if args.keep_missing else None,
        trust_unverified=True if args.trust_unverified else None,
        max_megapixels=args.max_megapixels,
        max_file_mb=args.max_file_mb,
    )
    with cli_job(disable_bar=args.no_progress) as (progress, cancel):
        if args.ray is not None:
            project = api.open_project(args.project) if args.project is not None else None
            result = api.tag_on_ray(project, args.folders, cfg, ray_config_from_args(args), model=args.model,
                                    db=args.db, progress=progress, cancel=cancel)
        elif args.project is not None:
            result = api.tag(api.open_project(args.project), args.folders, cfg, progress=progress, cancel=cancel)
        else:
            result = api.tag_with_model(args.model, args.db, args.folders, cfg, progress=progress, cancel=cancel)
    print(
        f"run {result.run_id}: {result.tagged} tagged, {result.errors} errors, {result.skipped} unchanged, "
        f"{result.missing} missing; {result.images_per_s:.1f} images/s on {','.join(result.providers)}",
        file=sys.stderr,
    )
    if result.errors:
        _list_failed(args, result.run_id, result.errors)
    return 0


_SHOWN_FAILED = 20


def _list_failed(args: argparse.Namespace, run_id: int, count: int) -> None:
    """The first files that failed in this run, then how to list them all."""
    from engine import api
    from engine.cli.query_cmd import show_path

    project = api.open_project(args.project) if args.project else None
    failed = api.failed_images(project, db=args.db, run_id=run_id, limit=_SHOWN_FAILED)
    print(f"{count} file(s) could not be tagged:", file=sys.stderr)
    for item in failed:
        print(f"  {show_path(item.path)}: {show_path(item.error)}", file=sys.stderr)
    where = f"--project {args.project}" if args.project else args.db
    rest = f"and {count - len(failed)} more; " if count > len(failed) else ""
    print(f"  {rest}list them all with: t2ipal query {where} --errors", file=sys.stderr)
