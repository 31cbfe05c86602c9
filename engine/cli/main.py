"""`t2ipal` entry point: builds the argparse tree from one module per command group."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import engine.demo  # noqa: F401  - registers the demo renderer and tokenizer for every command
from engine import __version__
from engine.cli import (
    captions_cmd,
    demo_cmd,
    eval_cmd,
    export_cmd,
    fetch_cmd,
    gui_cmd,
    init_cmd,
    labels_cmd,
    query_cmd,
    review_cmd,
    synth_cmd,
    tag_cmd,
    tags_cmd,
    thresholds_cmd,
    train_cmd,
)
from engine.errors import Cancelled, EngineError
from engine.logs import configure

log = logging.getLogger(__name__)

# Each module defines `register(subparsers)`; the handler it sets as `func` gets the parsed args
# and returns an exit code. Heavy imports (torch, open_clip, diffusers) stay inside handlers.
COMMAND_MODULES = (  # in pipeline order, as `t2ipal --help` lists them
    init_cmd,
    labels_cmd,
    captions_cmd,
    synth_cmd,
    train_cmd,
    eval_cmd,
    export_cmd,
    tag_cmd,
    query_cmd,
    tags_cmd,
    review_cmd,
    thresholds_cmd,
    gui_cmd,
    demo_cmd,
    fetch_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="t2ipal",
        description="T2I-PAL Tagger: tag photo folders with your own labels, trained without labelled photos.",
    )
    parser.add_argument("--version", action="version", version=f"t2ipal {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure(args.verbose)  # warnings by default; -v info, -vv debug
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except Cancelled as exc:
        print(f"cancelled: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
