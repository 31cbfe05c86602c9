"""The last bad inputs: FIFOs and devices, extreme sizes and aspect ratios, huge files, a file read as a stream."""

from __future__ import annotations

import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import ConfigError
from engine.tagging import decode
from engine.tagging.runner import TagConfig, tag_folders
from engine.tagging.scan import scan_folders
from engine.tagging.store import TagStore

from .conftest import SPEC, make_folder


def _png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height, with one tiny (truncated) data chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)))
    return path


def test_fifo_inside_a_folder_is_an_error_row(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 2)
    os.mkfifo(tmp_path / "photos" / "pipe.jpg")
    result = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db")
    assert (result.tagged, result.errors) == (2, 1)
    with TagStore.open(tmp_path / "t.db") as store:
        row = store.image(str(tmp_path / "photos" / "pipe.jpg"))
        assert row is not None and row["status"] == "error" and "not a regular file" in row["error"]


def test_fifo_or_device_given_directly_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    (entry,) = scan_folders([fifo])
    assert entry.error is not None and "not a regular file" in entry.error
    with pytest.raises(decode.DecodeError, match="not a regular file"):
        decode.decode_file(str(fifo), SPEC)  # would block forever if it were opened for reading
    with pytest.raises(decode.DecodeError, match="not a regular file"):
        decode.decode_file("/dev/zero", SPEC)  # would read until memory runs out


def test_extreme_aspect_ratio_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "line.png"
    Image.new("RGB", (40000, 1), (200, 10, 10)).save(path)
    assert path.stat().st_size < 2000
    with pytest.raises(decode.DecodeError, match="aspect ratio"):
        decode.decode_file(str(path), SPEC)


def test_default_limit_admits_150_megapixel_photos(tmp_path: Path) -> None:
    # a Phase One IQ4 150 MP frame; the header passes the limit, the (truncated) data then fails honestly
    path = _png_header(tmp_path / "iq4.png", 14204, 10652)
    with pytest.raises(decode.DecodeError) as info:
        decode.decode_file(str(path), SPEC)
    assert "corrupt or truncated" in str(info.value) and "megapixel" not in str(info.value)


def test_megapixel_limit_is_checked_from_the_header_and_adjustable(tmp_path: Path) -> None:
    path = _png_header(tmp_path / "big.png", 20000, 15000)  # 300 MP
    with pytest.raises(decode.DecodeError, match="300 megapixels.*over the 200-megapixel limit.*--max-megapixels"):
        decode.decode_file(str(path), SPEC)
    with pytest.raises(decode.DecodeError, match="corrupt or truncated"):
        decode.decode_file(str(path), SPEC, max_pixels=400_000_000)
    assert TagConfig(max_megapixels=400).max_pixels == 400_000_000
    with pytest.raises(ConfigError):
        TagConfig(max_megapixels=0)


def test_file_size_limit_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(path)
    with open(path, "ab") as fh:
        fh.truncate(3 * 1024 * 1024)
    with pytest.raises(decode.DecodeError, match="3.0 MB.*over the 2 MB limit.*--max-file-mb"):
        decode.decode_file(str(path), SPEC, max_file_bytes=2 * 1024 * 1024)


def test_a_file_is_read_as_a_stream_not_whole(tmp_path: Path) -> None:
    path = tmp_path / "padded.jpg"
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(path)
    with open(path, "ab") as fh:  # bytes after the JPEG end marker: a decoder never needs them
        fh.write(b"\0" * (24 * 1024 * 1024))
    tracemalloc.start()
    try:
        dec = decode.decode_file(str(path), SPEC)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert dec.width == 64
    assert peak < 8 * 1024 * 1024  # the 24 MB file was never held in memory
