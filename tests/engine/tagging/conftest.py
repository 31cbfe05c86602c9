"""Fixtures for tagging tests: a tiny hand-built ONNX tagger (colour classes) and photo folders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.export.checksum import write_checksum
from engine.export.metadata import INPUT_NAME, OUTPUT_HEATMAPS, OUTPUT_SCORES, ModelMetadata
from engine.imaging import PreprocessSpec

LABELS = ("red", "green", "blue")
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}
SPEC = PreprocessSpec(size=32)


def tiny_metadata(labels=LABELS, checksum: str = "tiny-v1", spec: PreprocessSpec = SPEC) -> ModelMetadata:
    return ModelMetadata(
        labels=tuple(labels),
        thresholds=tuple(0.5 for _ in labels),
        preprocess=spec,
        model_checksum=checksum,
        hierarchy={lab: "colour" if lab != "colour" else None for lab in labels if lab != "colour"},
        backbone={"model_name": "tiny-handbuilt"},
        created="2026-11-29T00:00:00+00:00",
        app_version="test",
        heatmap_grid=(spec.size // 8, spec.size // 8),
    )


def make_tiny_onnx(path: Path, meta: ModelMetadata | None = None) -> Path:
    """scores = W · (mean colour of the normalised input) + b; heatmaps = 1x1 conv of 8x8-pooled input.

    With W = identity and b = 0, a saturated red photo scores > 0.5 on "red" only.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    meta = meta or tiny_metadata()
    c = len(meta.labels)
    w = np.zeros((3, c), np.float32)
    for i in range(min(c, 3)):  # labels after the third never fire
        w[i, i] = 1.0
    conv_w = w.T.reshape(c, 3, 1, 1).copy()
    nodes = [
        helper.make_node("GlobalAveragePool", [INPUT_NAME], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "W"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], [OUTPUT_SCORES]),
        helper.make_node("AveragePool", [INPUT_NAME], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Conv", ["pooled", "CW"], [OUTPUT_HEATMAPS]),
    ]
    s = meta.preprocess.size
    graph = helper.make_graph(
        nodes,
        "tiny_tagger",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, s, s])],
        [
            helper.make_tensor_value_info(OUTPUT_SCORES, TensorProto.FLOAT, ["batch", c]),
            helper.make_tensor_value_info(OUTPUT_HEATMAPS, TensorProto.FLOAT, ["batch", c, s // 8, s // 8]),
        ],
        [
            numpy_helper.from_array(w, "W"),
            numpy_helper.from_array(np.zeros(c, np.float32), "b"),
            numpy_helper.from_array(conv_w, "CW"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, meta.to_props())
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    write_checksum(path)  # as `export_onnx` does
    return path


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    return make_tiny_onnx(tmp_path / "tiny.onnx")


def write_photo(path: Path, colour: str, size: tuple[int, int] = (48, 40), fmt: str | None = None) -> Path:
    rng = np.random.default_rng(abs(hash(path.name)) % 2**32)
    base = np.asarray(COLOURS[colour], np.int16)
    arr = np.clip(base + rng.integers(-15, 16, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, format=fmt)
    return path


def make_folder(root: Path, n: int, *, ext: str = ".png") -> dict[str, str]:
    """n photos spread over two sub-folders; returns absolute path -> colour."""
    out = {}
    names = list(COLOURS)
    for i in range(n):
        colour = names[i % 3]
        path = root / f"sub{i % 2}" / f"img_{i:04d}_{colour}{ext}"
        write_photo(path, colour)
        out[os.path.abspath(path)] = colour
    return out
