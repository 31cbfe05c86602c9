"""Per-label Platt calibration: recovers known parameters, stays monotone, travels with the model, measures ECE."""

from __future__ import annotations

import numpy as np
import pytest

from engine.evaluation.calibration import (
    Calibration,
    expected_calibration_error,
    fit_calibration,
    fit_platt,
    oracle_cf1,
    sigmoid,
)
from engine.evaluation.metrics import precision_recall_f1
from engine.export.metadata import ModelMetadata
from engine.imaging import PreprocessSpec


def _platt_data(a: np.ndarray, b: np.ndarray, n: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = rng.normal(1.5, 0.6, (n, len(a)))
    y = (rng.random(s.shape) < sigmoid(s * a + b)).astype(int)
    return s, y


def test_fit_recovers_known_platt_parameters() -> None:
    a, b = np.array([3.0, 6.0, 1.5]), np.array([-5.0, -9.0, -1.0])
    s, y = _platt_data(a, b)
    fa, fb = fit_platt(s, y)
    np.testing.assert_allclose(fa, a, rtol=0.1)
    np.testing.assert_allclose(fb, b, rtol=0.1, atol=0.3)
    probs = sigmoid(s * fa + fb)
    assert expected_calibration_error(probs, y) < 0.01
    assert expected_calibration_error(np.clip(s, 0, 1), y) > 0.3  # raw scores are no probabilities


def test_a_label_with_few_positives_stays_sane_and_monotone() -> None:
    s, y = _platt_data(np.array([4.0, 4.0]), np.array([-6.0, -6.0]), n=300)
    y[:, 1] = 0
    y[np.argmax(s[:, 1]), 1] = 1  # one positive only
    a, b = fit_platt(s, y)
    assert np.all(a > 0) and np.all(np.isfinite(b))
    cal = Calibration(a=tuple(a), b=tuple(b))
    grid = np.linspace(-3, 5, 50)[:, None].repeat(2, axis=1)
    p = cal.probabilities(grid)
    assert np.all(np.diff(p, axis=0) >= 0)  # a higher score never gets a lower probability
    assert p[:, 1].max() < 0.9  # one positive does not make a confident label


def test_reversed_scores_still_give_an_increasing_calibration() -> None:
    s, y = _platt_data(np.array([-3.0]), np.array([4.0]), n=2000)
    a, _ = fit_platt(s, y)
    assert a[0] > 0


def test_operating_points_and_round_trip_through_the_onnx_metadata() -> None:
    s, y = _platt_data(np.array([3.0, 5.0]), np.array([-4.0, -8.0]), n=3000)
    cal = fit_calibration(s, y, priors=np.array([0.3, 0.1]))
    probs = cal.probabilities(s)
    f1_at = precision_recall_f1(probs, y, np.asarray(cal.max_f1))
    for t in (0.3, 0.5, 0.7):
        assert precision_recall_f1(probs, y, t)["cf1"] <= f1_at["cf1"] + 1e-9
    strict = cal.precision_thresholds(0.9)
    for c in range(2):
        kept = probs[:, c] >= strict[c]
        assert y[kept, c].mean() >= 0.9 and strict[c] >= cal.max_f1[c]
    meta = ModelMetadata(labels=("a", "b"), thresholds=(0.0, 0.0), preprocess=PreprocessSpec(size=32),
                         model_checksum="x", calibration=cal)
    again = ModelMetadata.from_props(meta.to_props())
    assert again.calibration == cal


def test_old_models_without_calibration_still_load() -> None:
    meta = ModelMetadata(labels=("a",), thresholds=(1.5,), preprocess=PreprocessSpec(size=32), model_checksum="x")
    props = meta.to_props()
    del props["calibration"]
    assert ModelMetadata.from_props(props).calibration is None
    assert Calibration.from_dict(None, 1) is None
    with pytest.raises(Exception, match="2 a values for 1 labels"):
        Calibration.from_dict({"a": [1, 2], "b": [0, 0]}, 1)


def test_ece_and_oracle_cf1_on_known_cases() -> None:
    y = np.array([[1], [0], [1], [0]])
    assert expected_calibration_error(np.array([[1.0], [0.0], [1.0], [0.0]]), y) == 0.0
    assert expected_calibration_error(np.full((4, 1), 0.5), y) == 0.0  # half right at 0.5 is calibrated
    assert abs(expected_calibration_error(np.full((4, 1), 0.9), y) - 0.4) < 1e-12
    assert oracle_cf1(np.array([[0.9], [0.1], [0.8], [0.2]]), y) == pytest.approx(100.0)
