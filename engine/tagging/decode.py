"""Decode one photo file into the model input (checksum, size, array) or a short per-file error."""

from __future__ import annotations

import logging
import os
import stat
import struct
import time
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.hashing import content_digest
from engine.imaging import PreprocessSpec, open_rgb, preprocess

log = logging.getLogger(__name__)

DEFAULT_MAX_MEGAPIXELS = 200  # above a 150-MP medium-format frame (Phase One IQ4: 151 MP)
DEFAULT_MAX_PIXELS = DEFAULT_MAX_MEGAPIXELS * 1_000_000
MAX_ASPECT = 50  # long side / short side; stitched panoramas stay far below, 40000x1 strips do not
DEFAULT_MAX_FILE_MB = 1024  # per file; a 150-MP 16-bit TIFF is about 900 MB
_ORIENTATION = 0x0112
_CHUNK = 1 << 20

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
    decode_cpu_s: float = 0.0  # CPU time of this thread: reading, checksum, header checks and decoding
    preprocess_cpu_s: float = 0.0  # CPU time of resize, crop and normalise


def open_regular(path: str, max_file_bytes: int) -> BinaryIO:
    """Open a regular file for reading without ever blocking on a FIFO or device; `DecodeError` otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except PermissionError as exc:
        raise DecodeError(f"permission denied: {exc.strerror or exc}") from exc
    except FileNotFoundError as exc:
        raise DecodeError("file vanished before it could be read") from exc
    except OSError as exc:
        raise DecodeError(f"cannot read file: {exc.strerror or exc}") from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise DecodeError(f"not a regular file ({_kind(st.st_mode)}); only photo files are read")
    if st.st_size > max_file_bytes:
        os.close(fd)
        raise DecodeError(
            f"file is {st.st_size / 2**20:.1f} MB, over the {max_file_bytes / 2**20:.0f} MB limit per file "
            "(raise it with --max-file-mb)"
        )
    if st.st_size == 0:
        os.close(fd)
        raise DecodeError("empty file")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "a special file"


def _checksum(fh: BinaryIO) -> str:
    """`content_key` of the whole file, read in chunks; leaves the handle at the start."""
    digest = content_digest()
    for chunk in iter(lambda: fh.read(_CHUNK), b""):
        digest.update(chunk)
    fh.seek(0)
    return digest.hexdigest()


def check_dimensions(width: int, height: int, spec: PreprocessSpec, max_pixels: int) -> None:
    """Refuse, from the header alone, images whose pixels or whose resized copy would exceed `max_pixels`."""
    if width * height > max_pixels:
        raise DecodeError(
            f"{width}x{height} is {width * height / 1e6:.0f} megapixels, over the {max_pixels / 1e6:.0f}-megapixel "
            "limit (raise it with --max-megapixels if the photo is genuine)"
        )
    short, long = max(1, min(width, height)), max(width, height)
    resized = spec.size * spec.size * (long / short)  # the copy scaled to the model's short side
    if long / short > MAX_ASPECT or (spec.resize_mode != "squash" and resized > max_pixels):
        raise DecodeError(f"{width}x{height} has an extreme aspect ratio ({long // short}:1); not a photo to tag")


def decode_file(
    path: str,
    spec: PreprocessSpec,
    *,
    draft: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_file_bytes: int = DEFAULT_MAX_FILE_MB * 2**20,
) -> Decoded:
    """Checksum (streamed), open (EXIF orientation, first frame, JPEG draft) and preprocess one regular file.

    Width x height are checked from the header before any pixel is decoded. Raises `DecodeError`
    with a short reason for anything wrong with the file itself.
    """
    _allow_pillow_up_to(max_pixels)
    started = time.thread_time()
    with open_regular(path, max_file_bytes) as fh:
        try:
            checksum = _checksum(fh)
        except OSError as exc:
            raise DecodeError(f"cannot read file: {exc.strerror or exc}") from exc
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is checked below
                with Image.open(fh) as probe:
                    width, height = probe.size
                    check_dimensions(width, height, spec, max_pixels)
                    orientation = probe.getexif().get(_ORIENTATION, 1)
                fh.seek(0)
                img = open_rgb(fh, draft_size=spec.size if draft else None)
                decoded = time.thread_time()
                array = preprocess(img, spec)
        except DecodeError:
            raise
        except Image.DecompressionBombError as exc:
            raise DecodeError(
                f"decompression bomb: far over the {max_pixels / 1e6:.0f}-megapixel limit ({exc}); "
                "raise it with --max-megapixels if the photo is genuine"
            ) from exc
        except UnidentifiedImageError as exc:
            raise DecodeError("not an image or an unsupported format") from exc
        except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error) as exc:
            raise DecodeError(f"corrupt or truncated image: {exc}") from exc
        except MemoryError as exc:
            raise DecodeError("image too large to decode in memory") from exc
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    done = time.thread_time()
    return Decoded(array, checksum, width, height, decoded - started, done - decoded)


def _allow_pillow_up_to(max_pixels: int) -> None:
    """Pillow refuses images over 2 x MAX_IMAGE_PIXELS on open; raise (never lower) it to our checked limit.

    Between 1x and 2x Pillow only warns (ignored: `check_dimensions` decides), above 2x it still refuses.
    """
    current = Image.MAX_IMAGE_PIXELS
    if current is not None and current < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels
