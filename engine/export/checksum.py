"""The exported ONNX file's SHA-256 in a sidecar (`model.onnx.sha256`, sha256sum format), written by export."""

from __future__ import annotations

import os
import re
from pathlib import Path

from engine.hashing import sha256_file

SUFFIX = ".sha256"
_LINE = re.compile(r"^([0-9a-f]{64})\b")


def checksum_path(model: str | Path) -> Path:
    return Path(f"{os.fspath(model)}{SUFFIX}")


def write_checksum(model: str | Path) -> str:
    """Record the file's SHA-256 beside it (`sha256sum -c` can check it); returns the digest."""
    digest, staged = stage_checksum(model, model)
    os.replace(staged, checksum_path(model))
    return digest


def stage_checksum(source: str | Path, model: str | Path) -> tuple[str, Path]:
    """Write the sidecar of `model`, holding the SHA-256 of `source`, to a temporary file beside it.

    Export writes it before the model file is replaced, so a full disk cannot leave a new model
    beside the old checksum; the caller renames the result to `checksum_path(model)`.
    """
    digest = sha256_file(source)
    side = checksum_path(model)
    tmp = side.with_name(f".{side.name}.tmp")
    try:
        tmp.write_text(f"{digest}  {Path(model).name}\n", encoding="utf-8")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest, tmp


def read_checksum(model: str | Path) -> str | None:
    """The recorded SHA-256, or None when there is no sidecar (or it holds no digest)."""
    try:
        text = checksum_path(model).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = _LINE.match(text.strip().lower())
    return match.group(1) if match else None
