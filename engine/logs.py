"""Logging setup for front ends (CLI, GUI); the engine itself only creates loggers."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure(verbosity: int = 0) -> None:
    """0 = warnings, 1 = info, 2+ = debug; quiets chatty third-party loggers."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format=FORMAT, datefmt="%H:%M:%S")
    logging.getLogger("engine").setLevel(level)
    for noisy in ("PIL", "urllib3", "httpx", "filelock", "huggingface_hub", "onnxscript"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
