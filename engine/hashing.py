"""Every hash the engine stores or keys on, in one place; each keeps its own algorithm so stored values never change.

Three text keys differ on purpose (do not merge them; databases and caches hold their values):
- `caption_key`: a caption as a *render* (synthesis cache folders and image seeds): spacing ignored, case kept.
- `caption_hash`: a caption as a *duplicate* (caption store): case, spacing and closing punctuation ignored.
- `text_key`: a text exactly as the tokenizer sees it (feature cache).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a stored file (weights and synthetic-image checksums)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of bytes about to be stored (must agree with `sha256_file` of the written file)."""
    return hashlib.sha256(data).hexdigest()


def sha256_hex(text: str, length: int | None = None) -> str:
    """SHA-256 of UTF-8 text as hex, cut to `length` characters (config and parameter keys)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def sha1_hex(text: str, length: int | None = None) -> str:
    """SHA-1 of UTF-8 text as hex, cut to `length` characters (short fingerprints; not for security)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def sha256_int(text: str, bits: int) -> int:
    """The first 8 bytes of SHA-256 of `text` as a big-endian int, masked to `bits` bits (seeds)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << bits) - 1)


def hash_fraction(text: str) -> float:
    """A stable number in [0, 1) from `text` (BLAKE2b-64): deterministic splits."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def content_digest() -> hashlib.blake2b:
    """A fresh BLAKE2b-128 digest, the algorithm of every content key (files, images, weights)."""
    return hashlib.blake2b(digest_size=16)


def content_key(data: bytes) -> str:
    """Content key of bytes (a photo's checksum in the tag store, a training image's feature-cache key)."""
    digest = content_digest()
    digest.update(data)
    return digest.hexdigest()


def file_content_key(path: str | Path) -> str:
    """`content_key` of a file's bytes, read in chunks (raises OSError)."""
    digest = content_digest()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def text_key(text: str) -> str:
    """Feature-cache key of a text exactly as written (BLAKE2b-128)."""
    return content_key(text.encode("utf-8"))


def caption_key(text: str) -> str:
    """Synthesis key of a caption (32 hex of SHA-256): whitespace-normalised, case kept."""
    return sha256_hex(" ".join(text.split()), 32)


def caption_hash(text: str) -> str:
    """Duplicate key of a caption (SHA-1): case, spacing and closing punctuation ignored."""
    return sha1_hex(" ".join(text.lower().split()).rstrip(" .!?;:,"))
