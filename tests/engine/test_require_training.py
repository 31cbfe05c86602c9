"""Without torch (a tagger-only install) training entry points name the extra to install; tagging does not ask."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import engine
from engine.errors import DependencyMissing


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name.split(".")[0] == "torch" else real(name, *a, **k))


def test_require_training_names_the_extra(no_torch) -> None:
    with pytest.raises(DependencyMissing, match=r't2ipal-tagger\[train\]') as info:
        engine.require_training("Training")
    assert "Training needs PyTorch" in str(info.value) and "torch" in str(info.value)
    with pytest.raises(DependencyMissing, match=r"\[train\]"):
        engine.torch_ready()


def test_training_export_and_demo_entry_points_refuse_without_torch(no_torch, tmp_path: Path) -> None:
    from engine import api
    from engine.demo.pipeline import run_demo
    from engine.labels.labelset import LabelSet
    from engine.synthesis import create_backend

    project = api.create_project(tmp_path / "p", labels=LabelSet.from_names(["dog", "cat"]))
    for call in (lambda: api.train(project), lambda: api.evaluate(images_csv="x.csv"),
                 lambda: api.export_folder(tmp_path / "m", tmp_path / "m.onnx"),
                 lambda: api.make_instant_model(project), lambda: run_demo(tmp_path / "demo"),
                 lambda: create_backend("diffusers").load()):
        with pytest.raises(DependencyMissing, match=r"\[train\]"):
            call()


def test_tagging_does_not_ask_for_torch(no_torch, tmp_path: Path) -> None:
    from engine.tagging.runner import TagConfig, tag_folders
    from tests.engine.tagging.conftest import make_folder, make_tiny_onnx

    model = make_tiny_onnx(tmp_path / "tiny.onnx")
    make_folder(tmp_path / "photos", 4)
    assert tag_folders([tmp_path / "photos"], model, tmp_path / "t.db", TagConfig()).tagged == 4
