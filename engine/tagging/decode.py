"""Decode one photo file into the model input (checksum, size, array) or a short per-file error."""

from __future__ import annotations

import hashlib
import io
import logging
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.imaging import PreprocessSpec, open_rgb, preprocess

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 2 * 89_478_485  # the pixel count above which PIL itself refuses (decompression bomb)
_ORIENTATION = 0x0112

try:  # HEIC/HEIF through pillow-heif, when installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - depends on the install
    pass


class DecodeError(Exception):
    """A file could not be turned into a model input; the message is stored in the error row."""


@dataclass(frozen=True)
class Decoded:
    """A decoded image: the preprocessed (3, S, S) array and facts about the file."""

    array: np.ndarray
    checksum: str
    width: int
    height: int


def read_bytes(path: str) -> bytes:
    """The whole file (separate so tests can simulate unreadable files)."""
    with open(path, "rb") as fh:
        return fh.read()


def file_checksum(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def decode_file(
    path: str, spec: PreprocessSpec, *, draft: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Decoded:
    """Read, checksum, open (EXIF orientation, first frame, JPEG draft) and preprocess one file.

    Raises `DecodeError` with a short reason for anything wrong with the file itself.
    """
    try:
        data = read_bytes(path)
    except PermissionError as exc:
        raise DecodeError(f"permission denied: {exc.strerror or exc}") from exc
    except FileNotFoundError as exc:
        raise DecodeError("file vanished before it could be read") from exc
    except OSError as exc:
        raise DecodeError(f"cannot read file: {exc.strerror or exc}") from exc
    if not data:
        raise DecodeError("empty file")
    checksum = file_checksum(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                if width * height > max_pixels:
                    raise DecodeError(f"decompression bomb: {width}x{height} pixels is over the {max_pixels} limit")
                orientation = probe.getexif().get(_ORIENTATION, 1)
            img = open_rgb(io.BytesIO(data), draft_size=spec.size if draft else None)
            array = preprocess(img, spec)
    except DecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecodeError(f"decompression bomb: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise DecodeError("not an image or an unsupported format") from exc
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error) as exc:
        raise DecodeError(f"corrupt or truncated image: {exc}") from exc
    except MemoryError as exc:
        raise DecodeError("image too large to decode in memory") from exc
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return Decoded(array, checksum, width, height)

