"""Golden values: stored keys (synthesis cache and seeds, caption duplicates, feature cache, split) never change."""

from __future__ import annotations

from engine import hashing
from engine.labels.labelset import LabelSet
from engine.synthesis.seeds import image_seed, params_hash


def test_synthesis_keys_and_seeds() -> None:
    key = hashing.caption_key("A red  circle. ")
    assert key == "36e35254f21dd70ecb86509979a82920" == hashing.caption_key("A red circle.")
    assert image_seed(key, 2, 7) == 2244458781385953870
    assert params_hash({"steps": 4, "model": "x"}) == "72618a0596df8da843b6da79"


def test_caption_hash_and_feature_keys() -> None:
    assert hashing.caption_hash("a DOG runs on the   beach.") == "cef04251642a0b1b4dc773b56d4170b41da5c389"
    assert hashing.text_key("a red circle.") == "7831ba685ad676932f7986cc0698c751"
    assert hashing.content_key(b"\x00\x01abc") == "e8131fa96909d8a3dda74bd4cb7b11d9"


def test_file_key_equals_bytes_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00\x01abc")
    assert hashing.file_content_key(path) == hashing.content_key(b"\x00\x01abc")
    assert hashing.sha256_file(path) == hashing.sha256_bytes(b"\x00\x01abc")


def test_split_fraction_and_fingerprint() -> None:
    assert hashing.hash_fraction("1|c:3") == 0.22120691590363437
    assert LabelSet.from_names(["dog", "cat"]).fingerprint() == "7a54354f4e0e874b"
