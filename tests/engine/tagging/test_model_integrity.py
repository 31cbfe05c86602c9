"""Models that must not run: a tampered ONNX file, one without a checksum, labels reordered or miscounted."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import onnx
import pytest

from engine.errors import ArtifactError, InputError
from engine.export.checksum import read_checksum, write_checksum
from engine.tagging.runner import TagConfig, tag_folders
from engine.tagging.store import TagStore

from .conftest import make_folder, make_tiny_onnx, tiny_metadata


def test_export_sidecar_is_written_by_the_fixture_model(tiny_model: Path) -> None:
    assert read_checksum(tiny_model) is not None


def test_tampered_onnx_is_refused_and_nothing_is_registered(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 3)
    model = onnx.load(str(tiny_model))
    weights = next(t for t in model.graph.initializer if t.name == "W")
    weights.raw_data = bytes(b ^ 0xFF for b in weights.raw_data[:8]) + weights.raw_data[8:]
    onnx.save(model, str(tiny_model))  # the sidecar still holds the genuine checksum
    with pytest.raises(ArtifactError, match="checksum"):
        tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db")
    with TagStore.open(tmp_path / "t.db") as store:
        assert store.db.execute("SELECT COUNT(*) FROM tag_models").fetchone()[0] == 0


def test_model_without_checksum_needs_trust_unverified(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 3)
    Path(f"{tiny_model}.sha256").unlink()
    with pytest.raises(ArtifactError, match="--trust-unverified"):
        tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db")
    result = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", TagConfig(trust_unverified=True))
    assert result.tagged == 3


def test_labels_reordered_in_the_metadata_are_refused(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 3)
    tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db")
    meta = tiny_metadata()
    swapped = dataclasses.replace(meta, labels=("green", "red", "blue"))  # same weights checksum
    other = make_tiny_onnx(tmp_path / "swapped.onnx", swapped)
    with pytest.raises(InputError, match="order"):
        tag_folders([tmp_path / "photos"], other, tmp_path / "t.db")


def test_label_count_mismatch_is_refused_before_the_run(tmp_path: Path) -> None:
    make_folder(tmp_path / "photos", 3)
    four = tiny_metadata(labels=("red", "green", "blue", "grey"))
    path = make_tiny_onnx(tmp_path / "four.onnx", four)
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, tiny_metadata().to_props())  # metadata says 3 labels, outputs 4
    onnx.save(model, str(path))
    write_checksum(path)
    with pytest.raises(ArtifactError, match="4 scores.*3 labels"):
        tag_folders([tmp_path / "photos"], path, tmp_path / "t.db")
    assert not (tmp_path / "t.db").exists() or TagStore.open(tmp_path / "t.db").runs() == []
