"""The project's model record: a legacy project's own files are adopted, a retrained model's stale export is not."""

from __future__ import annotations

import json

import pytest

from engine import api
from engine.errors import InputError
from engine.hashing import sha256_file

LABELS = ["red", "green", "blue"]


def _files(tmp_path):  # type: ignore[no-untyped-def]
    """A project with a model folder and an ONNX file at their canonical places, nothing recorded yet."""
    project = api.create_project(tmp_path / "p", labels=api.resolve_labels(",".join(LABELS)))
    project.model_dir.mkdir(parents=True)
    (project.model_dir / "config.json").write_text(json.dumps({"summary": {"variant": "t2ipal"},
                                                               "thresholds": [0.4, 0.5, 0.6]}))
    (project.model_dir / "labels.json").write_text(json.dumps({"names": LABELS}))
    project.onnx_path.parent.mkdir(parents=True, exist_ok=True)
    project.onnx_path.write_bytes(b"an exported model")
    return project


def test_a_project_made_before_models_were_recorded_adopts_its_model_folder_and_export(tmp_path):
    project = _files(tmp_path)
    status = api.model_status(project)
    assert status.trained and status.exported and status.labels_match
    assert status.record.onnx_sha256 == sha256_file(project.onnx_path)
    assert status.thresholds == {"red": 0.4, "green": 0.5, "blue": 0.6}
    assert project.model_record() == status.record  # adopted once, recorded


def test_after_a_retraining_the_previous_export_is_not_the_new_models(tmp_path):
    project = _files(tmp_path)
    assert api.model_status(project).exported
    # what a training records: its model folder, and no export until the new model is exported
    project.record_model(model_dir=project.model_dir, labels=LABELS, onnx_path=None, onnx_sha256="")
    status = api.model_status(project)
    assert status.trained and not status.exported and status.record.onnx_path is None
    assert status.describe() == "Trained t2ipal; not exported yet."
    with pytest.raises(InputError, match="has no exported model; export it"):
        api.exported_model(project)
