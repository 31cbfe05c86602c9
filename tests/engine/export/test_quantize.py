"""int8 quantization: metadata and checksum carried over, scores close to fp32, too few images refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InputError
from engine.export.checksum import read_checksum
from engine.hashing import sha256_file
from tests.engine.tagging.conftest import LABELS, make_folder, make_tiny_onnx

pytest.importorskip("onnx")


def test_int8_copy_keeps_metadata_checksum_and_tags_like_fp32(tmp_path: Path) -> None:
    from engine.export.quantize import int8_path, quantize_int8
    from engine.tagging.onnx_session import TaggerSession
    from engine.tagging.runner import TagConfig, tag_folders

    fp32 = make_tiny_onnx(tmp_path / "tiny.onnx")
    photos = make_folder(tmp_path / "photos", 12)
    result = quantize_int8(fp32, int8_path(fp32), sorted(photos))
    assert result.path == tmp_path / "tiny.int8.onnx" and result.calibration_images == 12
    assert read_checksum(result.path) == sha256_file(result.path)  # the tagger verifies it like any export
    int8 = TaggerSession(result.path, provider="cpu", sha256=read_checksum(result.path))
    assert int8.metadata == TaggerSession(fp32, provider="cpu").metadata
    assert 0 < result.max_abs_diff_scores < 0.05
    import onnx

    ops = {n.op_type for n in onnx.load(str(result.path)).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops  # really quantized, not a copy
    run = tag_folders([tmp_path / "photos"], result.path, tmp_path / "t.db", TagConfig(batch_size=4))
    assert run.tagged == 12 and run.errors == 0
    from engine.tagging.store import TagStore

    with TagStore.open(tmp_path / "t.db") as store:  # the colour of each photo still wins
        for path, colour in photos.items():
            scores = {label: value for label, (value, *_) in store.tags_of(path).items()}
            assert max(scores, key=scores.get) == colour, (path, scores)
    assert set(LABELS) >= set(scores)


def test_too_few_calibration_images_are_refused_before_writing(tmp_path: Path) -> None:
    from engine.export.quantize import quantize_int8

    fp32 = make_tiny_onnx(tmp_path / "tiny.onnx")
    photos = make_folder(tmp_path / "photos", 3)
    with pytest.raises(InputError, match="at least 8 images"):
        quantize_int8(fp32, tmp_path / "q.onnx", sorted(photos))
    assert not (tmp_path / "q.onnx").exists()


def test_export_folder_int8_from_the_cli_arguments(tmp_path: Path) -> None:
    from engine import api

    with pytest.raises(InputError, match="quantize must be one of"):
        api.export_folder(tmp_path / "m", tmp_path / "m.onnx", quantize="int4")
    with pytest.raises(InputError, match="at least 8 images"):  # checked before the (slow) export
        api.export_folder(tmp_path / "m", tmp_path / "m.onnx", quantize="int8", calibration=[tmp_path])
