"""The bad-file corpus: every broken file becomes an error row, odd-but-valid ones get tagged, the run completes."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.tagging import decode
from engine.tagging.runner import TagConfig, tag_folders
from engine.tagging.store import TagStore

from .conftest import COLOURS, write_photo


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _bomb_png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)  # 1.6 G pixels declared, a few bytes of data
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def make_corpus(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(path -> expected error substring, path -> expected colour tag)."""
    root.mkdir(parents=True, exist_ok=True)
    errors, good = {}, {}
    good_jpg = io.BytesIO()
    Image.new("RGB", (64, 48), COLOURS["red"]).save(good_jpg, "JPEG", quality=90)

    def put(name: str, data: bytes) -> str:
        path = root / name
        path.write_bytes(data)
        return str(path)

    errors[put("empty.jpg", b"")] = "empty file"
    errors[put("truncated.jpg", good_jpg.getvalue()[: len(good_jpg.getvalue()) // 2])] = "truncated"
    errors[put("text_named.jpg", b"this is not a photo\n" * 20)] = "not an image"
    errors[put("bomb.png", _bomb_png())] = "decompression bomb"
    errors[put("denied.png", (write_photo(root / "tmp.png", "blue").read_bytes()))] = "permission denied"
    (root / "tmp.png").unlink()
    os.symlink(root / "nowhere.jpg", root / "dangling.jpg")
    errors[str(root / "dangling.jpg")] = "broken symlink"

    png_as_jpg = io.BytesIO()
    Image.new("RGB", (40, 40), COLOURS["green"]).save(png_as_jpg, "PNG")
    good[put("png_named.jpg", png_as_jpg.getvalue())] = "green"  # wrong extension, valid content
    cmyk = root / "cmyk.jpg"
    Image.new("RGB", (40, 40), COLOURS["blue"]).convert("CMYK").save(cmyk, "JPEG")
    good[str(cmyk)] = "blue"
    sixteen = root / "sixteen.png"
    arr = np.full((40, 40), 60000, np.uint16)  # bright grey 16-bit: tagged by brightness, all channels high
    Image.fromarray(arr).save(sixteen)
    good[str(sixteen)] = "*"
    anim = root / "anim.gif"
    frames = [Image.new("RGB", (40, 40), COLOURS[c]) for c in ("red", "blue", "green")]
    frames[0].save(anim, save_all=True, append_images=frames[1:], duration=50, loop=0)
    good[str(anim)] = "red"  # first frame
    raw = os.path.join(os.fsencode(root), b"na\xefve_\xff.png")
    with open(raw, "wb") as fh:
        fh.write(write_photo(root / "t2.png", "green").read_bytes())
    (root / "t2.png").unlink()
    good[os.fsdecode(raw)] = "green"
    return errors, good


def test_bad_file_corpus(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    errors, good = make_corpus(tmp_path / "corpus")
    denied = next(p for p, why in errors.items() if why == "permission denied")
    real_open = decode.open_regular

    def open_regular(path: str, max_file_bytes: int):  # we run as root, so simulate an unreadable file
        if path == denied:
            raise decode.DecodeError("permission denied: Permission denied")
        return real_open(path, max_file_bytes)

    monkeypatch.setattr(decode, "open_regular", open_regular)
    result = tag_folders([tmp_path / "corpus"], tiny_model, tmp_path / "t.db", TagConfig(batch_size=3, workers=2))
    assert result.errors == len(errors) and result.tagged == len(good)
    with TagStore.open(tmp_path / "t.db") as store:
        for path, why in errors.items():
            row = store.image(path)
            assert row is not None and row["status"] == "error", path
            assert why in row["error"], (path, row["error"])
            assert store.tags_of(path) == {}
        for path, colour in good.items():
            row = store.image(path)
            assert row is not None and row["status"] == "done", (path, row and row["error"])
            tags = store.labels_in_force(path)
            if colour == "*":
                assert set(tags) == {"red", "green", "blue"}
            else:
                assert set(tags) == {colour}, (path, tags)
        assert store.integrity_ok()
    # error rows are not retried when unchanged, but are with retry_errors
    again = tag_folders([tmp_path / "corpus"], tiny_model, tmp_path / "t.db", TagConfig(batch_size=3))
    assert again.tagged == 0 and again.errors == 0 and again.skipped == len(errors) + len(good)
    monkeypatch.undo()
    retry = tag_folders([tmp_path / "corpus"], tiny_model, tmp_path / "t.db", TagConfig(retry_errors=True))
    assert retry.errors == len(errors) - 1  # the simulated permission problem is gone now


def test_exif_orientation_and_draft(tmp_path: Path) -> None:
    from engine.imaging import PreprocessSpec

    spec = PreprocessSpec(size=32)
    img = Image.new("RGB", (80, 40), COLOURS["red"])
    img.paste(COLOURS["blue"], (0, 0, 40, 40))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "rot.jpg"
    img.save(path, "JPEG", exif=exif, quality=95)
    dec = decode.decode_file(str(path), spec, draft=False)
    assert (dec.width, dec.height) == (40, 80)
    assert dec.array.shape == (3, 32, 32)
    big = tmp_path / "big.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (1024, 1536, 3), dtype=np.uint8)).resize((1536, 1024)).save(big, quality=90)
    full = decode.decode_file(str(big), spec, draft=False)
    drafted = decode.decode_file(str(big), spec, draft=True)
    assert (drafted.width, drafted.height) == (1536, 1024)  # the file's size, not the draft's
    assert full.checksum == drafted.checksum
    assert np.abs(full.array - drafted.array).mean() < 0.15  # close, not bit-exact
