"""Per-label Platt calibration: recovers known parameters, stays monotone, travels with the model, measures ECE."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ArtifactError, InputError
from engine.evaluation.calibration import (
    Calibration,
    caption_priors,
    expected_calibration_error,
    fit_calibration,
    fit_platt,
    heldout_curve,
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


def test_platt_targets_are_smoothed_by_the_class_counts() -> None:
    from engine.evaluation.calibration import _platt_targets

    t = _platt_targets(np.array([True, True, True, False]))
    np.testing.assert_allclose(t, [4 / 5, 4 / 5, 4 / 5, 1 / 3])


def test_constant_scores_and_empty_input() -> None:
    a, b = fit_platt(np.full((6, 1), 2.0), np.array([[1], [1], [1], [0], [0], [0]]))
    assert np.isfinite(a).all() and np.isfinite(b).all() and a[0] > 0
    assert sigmoid(2.0 * a + b)[0] == pytest.approx(0.5, abs=0.05)  # half the photos carry it
    for bad in (np.zeros((0, 2)), np.zeros(3), np.zeros((3, 2))):
        with pytest.raises(InputError, match="calibration needs"):
            fit_platt(bad, np.zeros((3, 3)) if bad.size else np.zeros((0, 2)))
    with pytest.raises(InputError, match="same non-empty shape"):
        expected_calibration_error(np.zeros(0), np.zeros(0))
    with pytest.raises(InputError, match="same non-empty shape"):
        expected_calibration_error(np.zeros(3), np.zeros(2))


def test_ece_puts_a_probability_of_one_in_the_top_bin() -> None:
    y = np.array([1, 1, 0, 0])
    assert expected_calibration_error(np.array([1.0, 1.0, 0.0, 0.0]), y) == 0.0
    # 0.99 and 1.0 share the top of 15 bins (but not of 100): |0.5 - 0.995| over all four photos
    p = np.array([1.0, 0.99, 0.0, 0.0])
    y = np.array([1, 0, 0, 0])
    assert expected_calibration_error(p, y) == pytest.approx(0.5 * 0.495)
    assert expected_calibration_error(p, y, bins=100) == pytest.approx(0.25 * 0.99)


def test_heldout_curve_counts_a_probability_at_the_threshold_as_predicted() -> None:
    probs = np.array([[0.5, 0.0], [0.3, 1.0], [0.9, 0.2]])
    labels = np.array([[1, 0], [0, 1], [0, -1]])  # -1 (difficult) is a negative
    tp, fp, pos = heldout_curve(probs, labels)
    assert tp.shape == (2, 101) and fp.shape == (2, 101)
    assert (tp[0, 50], fp[0, 50], tp[0, 51], fp[0, 51]) == (1, 1, 0, 1)  # 0.5 >= 0.50, not >= 0.51
    assert (tp[0, 0], fp[0, 0], fp[0, 30], fp[0, 31]) == (1, 2, 2, 1)
    assert (tp[1, 100], fp[1, 100], fp[1, 20], fp[1, 21]) == (1, 0, 1, 0)
    assert pos.tolist() == [1, 1]


def test_precision_thresholds_take_the_lowest_grid_point_that_reaches_the_target() -> None:
    tp = ((4,) * 20 + (3,) * 40 + (0,) * 41,)
    fp = ((4,) * 20 + (1,) * 40 + (0,) * 41,)
    cal = Calibration(a=(1.0,), b=(0.0,), tp=tp, fp=fp)
    assert cal.precision_thresholds(0.75) == [0.2]  # 3 / (3 + 1) reaches 0.75 exactly
    assert cal.precision_thresholds(0.5) == [0.0]
    assert cal.precision_thresholds(0.8) == [1.0]  # nothing reaches it (no predictions do not count)
    assert Calibration(tp=((0,) * 101,), fp=((0,) * 101,)).precision_thresholds(0.0) == [1.0]


def test_fit_calibration_records_where_and_on_how_much_it_was_fitted() -> None:
    s, y = _platt_data(np.array([3.0]), np.array([-4.0]), n=500)
    cal = fit_calibration(s, y, fitted_on="labelled_photos", priors=np.array([0.25]))
    assert (cal.fitted_on, cal.n_images, cal.priors) == ("labelled_photos", 500, (0.25,))
    assert cal.positives == (int(y.sum()),) and len(cal.tp[0]) == 101 and cal.tp[0][0] == int(y.sum())
    assert cal.fp[0][0] == 500 - int(y.sum()) and 0.0 <= cal.max_f1[0] <= 1.0
    assert fit_calibration(s, y).priors == () and fit_calibration(s, y).fitted_on == "heldout_images"
    assert Calibration.from_dict(cal.to_dict(), 1) == cal


def test_a_calibration_without_parameters_gives_no_probabilities() -> None:
    with pytest.raises(ArtifactError, match="no fitted calibration"):
        Calibration(priors=(0.5,)).probabilities(np.zeros((1, 1)))
    assert not Calibration(priors=(0.5,)).fitted


def test_a_damaged_stored_calibration_names_the_file() -> None:
    with pytest.raises(ArtifactError, match="m.json: invalid calibration"):
        Calibration.from_dict({"a": ["x"]}, 1, source="m.json")
    with pytest.raises(ArtifactError, match="m.json: calibration has 2 priors values for 1 labels"):
        Calibration.from_dict({"priors": [0.1, 0.2]}, 1, source="m.json")
    cal = Calibration.from_dict({"priors": [0.1], "extra": 1}, 1)
    assert cal is not None and cal.fitted_on == "none" and cal.n_images == 0 and cal.priors == (0.1,)
    assert Calibration.from_dict({}, 1) is None


def test_caption_priors_are_each_labels_share() -> None:
    np.testing.assert_allclose(caption_priors(np.array([[1, 0], [1, -1], [0, 0], [1, 0]])), [0.75, 0.0])
    np.testing.assert_allclose(caption_priors(np.zeros((0, 3))), [0.0, 0.0, 0.0])


def test_a_strong_prior_holds_the_fit_at_the_pooled_parameters() -> None:
    from engine.evaluation.calibration import _newton_platt

    s = np.array([-1.0, 0.0, 1.0, 2.0])
    t = np.array([0.2, 0.2, 0.8, 0.8])
    a, b = _newton_platt(s, t, (1.5, -0.5), 1e6)
    assert (a, b) == (pytest.approx(1.5, abs=1e-4), pytest.approx(-0.5, abs=1e-4))
    a0, _ = _newton_platt(s, t, (1.5, -0.5), 0.0)
    assert a0 != pytest.approx(1.5, abs=0.1)  # without the prior the data decide


def test_precision_thresholds_with_a_single_prediction_and_exact_messages() -> None:
    cal = Calibration(a=(1.0,), b=(0.0,), tp=((1,) * 101,), fp=((0,) * 101,))
    assert cal.precision_thresholds(0.9) == [0.0]  # one correct prediction is precision 1
    with pytest.raises(ArtifactError, match="^this model has no fitted calibration$"):
        Calibration().probabilities(np.zeros((1, 1)))
    with pytest.raises(ArtifactError, match="^model: invalid calibration"):
        Calibration.from_dict({"a": ["x"]}, 1)
