"""A model whose calibration and thresholds are known: exactly the (photo, label) pairs they imply are the visible
tags (what Browse shows), the query and the CSV export, before and after the person moves a threshold."""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import pytest

from engine import api
from engine.evaluation.calibration import Calibration
from engine.tagging.runner import tag_folders
from engine.tagging.store import TagStore

from .conftest import LABELS, make_folder, make_tiny_onnx, tiny_metadata

A, B = (1.5, 2.0, 1.0), (-0.5, 0.3, 1.2)
MAX_F1 = {"red": 0.5, "green": 0.97, "blue": 0.2}  # green strict, blue lenient: not the 0.5 default anywhere else


@pytest.fixture
def tagged_project(tmp_path: Path):
    meta = dataclasses.replace(tiny_metadata(), calibration=Calibration(
        a=A, b=B, max_f1=tuple(MAX_F1[lab] for lab in LABELS), fitted_on="heldout_images", n_images=30))
    model = make_tiny_onnx(tmp_path / "cal.onnx", meta)
    project = api.create_project(tmp_path / "proj", labels=api.resolve_labels(",".join(LABELS)))
    files = make_folder(tmp_path / "photos", 9)
    tag_folders([tmp_path / "photos"], model, project.db_path)
    return project, files


def _expected(project, files, thresholds: dict[str, float]) -> set[tuple[str, str]]:
    """Computed here from the stored raw scores with the calibration written above, not by the policy code."""
    pairs = set()
    with TagStore.open(project.db_path) as store:
        for path in files:
            for label, (score, _source) in store.tags_of(path).items():
                c = LABELS.index(label)
                if 1 / (1 + math.exp(-(A[c] * score + B[c]))) >= thresholds[label]:
                    pairs.add((path, label))
    return pairs


def _visible(project, files) -> set[tuple[str, str]]:
    return {(p, v.label) for p in files for v in api.image_tag_views(project, p) if v.in_force}


def _csv(project, out: Path) -> set[tuple[str, str]]:
    api.export_tags("csv", project, out=out)
    with out.open(encoding="utf-8") as fh:
        return {(r["path"], r["label"]) for r in csv.DictReader(fh)}


def test_known_calibration_gives_exactly_the_expected_tags_everywhere(tagged_project, tmp_path: Path) -> None:
    project, files = tagged_project
    expected = _expected(project, files, MAX_F1)
    assert 0 < len(expected) < 3 * len(files)
    assert expected != _expected(project, files, dict.fromkeys(LABELS, 0.5))  # the per-label thresholds matter
    assert {lab: t.in_force for lab, t in api.label_thresholds(project).items()} == pytest.approx(MAX_F1)
    assert _visible(project, files) == expected
    assert {(h.path, h.label) for h in api.query(project)} == expected
    assert _csv(project, tmp_path / "a.csv") == expected

    # the person lowers green's threshold in the editor and shifts every label with the global slider
    api.set_label_threshold(project, "green", 0.3)
    api.set_global_offset(project, 0.1)
    moved = {"red": 0.6, "green": 0.4, "blue": 0.3}
    expected_moved = _expected(project, files, moved)
    assert expected_moved != expected
    assert _visible(project, files) == expected_moved
    assert _csv(project, tmp_path / "b.csv") == expected_moved
