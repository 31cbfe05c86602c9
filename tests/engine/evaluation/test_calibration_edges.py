"""Platt fits against an independent optimiser (scipy), ECE by hand, the stored calibration's exact format."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from engine.errors import InputError
from engine.evaluation.calibration import (
    Calibration,
    _newton_platt,
    _platt_targets,
    expected_calibration_error,
    fit_calibration,
    fit_platt,
    sigmoid,
)


def _penalised_loss(w: np.ndarray, s: np.ndarray, t: np.ndarray, prior: np.ndarray, strength: float) -> float:
    z = w[0] * s + w[1]  # -t log p - (1 - t) log(1 - p) = log(1 + e^z) - t z
    return float(np.sum(np.logaddexp(0.0, z) - t * z) + 0.5 * strength * np.sum((w - prior) ** 2))


def _penalised_grad(w: np.ndarray, s: np.ndarray, t: np.ndarray, prior: np.ndarray, strength: float) -> np.ndarray:
    r = 1.0 / (1.0 + np.exp(-(w[0] * s + w[1]))) - t
    return np.array([np.sum(r * s), np.sum(r)]) + strength * (w - prior)


def _reference_platt(s: np.ndarray, t: np.ndarray, prior: tuple[float, float], strength: float) -> np.ndarray:
    """The minimiser of the documented objective by scipy's BFGS (no Newton steps involved)."""
    p = np.asarray(prior, float)
    res = minimize(_penalised_loss, p, args=(s, t, p, strength), jac=_penalised_grad, method="BFGS",
                   options={"gtol": 1e-11, "maxiter": 10_000})
    assert np.abs(_penalised_grad(res.x, s, t, p, strength)).max() < 1e-8
    return res.x


def _reference_fit(scores: np.ndarray, labels: np.ndarray, strength: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """fit_platt's documented recipe: standardise, a pooled fit (penalty 1e-3 toward slope 1, intercept 0, slope
    at least 1e-3), then each label's fit pulled toward the pooled (a, b) with `strength`, back in score units."""
    y = labels == 1
    centre, spread = scores.mean(), scores.std()
    z = (scores - centre) / spread
    pa, pb = _reference_platt(z.ravel(), _platt_targets(y.ravel()), (1.0, 0.0), 1e-3)
    pooled = (max(pa, 1e-3), pb)
    a, b = [], []
    for c in range(scores.shape[1]):
        az, bz = _reference_platt(z[:, c], _platt_targets(y[:, c]), pooled, strength)
        az = max(az, 1e-3)
        a.append(az / spread)
        b.append(bz - az * centre / spread)
    return np.array(a), np.array(b)


@pytest.mark.parametrize(("n", "sd"), [(60, 0.005), (114, 0.005), (200, 0.002)])
def test_a_well_separated_label_gets_its_platt_probabilities_not_a_step(n: int, sd: float) -> None:
    """Three positives far above the negatives (an easy label on held-out renders): Platt's smoothed targets
    put the positives near 4/5; a diverging Newton gave a slope of 10^6, so every photo got 0 or 1."""
    y = np.zeros((n, 1), int)
    y[:3] = 1
    s = np.where(y == 1, 0.30, 0.20) + sd * np.random.default_rng(2).normal(size=y.shape)
    a, b = fit_platt(s, y)
    ra, rb = _reference_fit(s, y)
    np.testing.assert_allclose(a, ra, rtol=1e-6)
    np.testing.assert_allclose(b, rb, rtol=1e-6)
    p = sigmoid(s[:, 0] * a[0] + b[0])
    assert 0.7 < p[:3].min() and p[:3].max() < 0.9  # confident, not certain
    assert p[3:].max() < 0.1 and p[3:].min() > 1e-4
    assert 0.1 < sigmoid(0.27 * a[0] + b[0]) < 0.7  # a score between the groups is not a coin flip to 0 or 1


@pytest.mark.parametrize("seed", [0, 1])
def test_fit_platt_minimises_the_documented_objective(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random((40, 3)) < [0.5, 0.2, 0.05]).astype(int)
    y[0] = 1
    s = 0.2 + 0.03 * rng.normal(size=y.shape) + 0.04 * y * [1.0, 2.0, 0.5]
    a, b = fit_platt(s, y)
    ra, rb = _reference_fit(s, y)
    np.testing.assert_allclose(a, ra, rtol=1e-7)
    np.testing.assert_allclose(b, rb, rtol=1e-7)
    a3, _ = fit_platt(s, y, strength=3.0)  # the pull toward the pooled fit is the `strength` asked for
    np.testing.assert_allclose(a3, _reference_fit(s, y, strength=3.0)[0], rtol=1e-7)


def test_a_pooled_fit_with_a_negative_intercept_keeps_its_slope() -> None:
    """Rare labels (pooled intercept well below 0): each label is pulled toward the pooled slope, not 1e-3."""
    rng = np.random.default_rng(4)
    y = (rng.random((80, 2)) < 0.1).astype(int)
    y[0] = 1
    s = rng.normal(size=y.shape) + 1.5 * y
    a, b = fit_platt(s, y)
    ra, rb = _reference_fit(s, y)
    np.testing.assert_allclose(a, ra, rtol=1e-7)
    np.testing.assert_allclose(b, rb, rtol=1e-7)


@pytest.mark.parametrize(("s", "t", "prior", "strength"), [
    ([-10.0, -8.0, 8.0, 10.0], [0.01, 0.02, 0.97, 0.99], (1.0, 0.0), 0.0),  # saturated: plain Newton diverges
    ([3.0, 4.0, 5.0, 6.0, 7.0], [0.01, 0.02, 0.9, 0.98, 0.99], (1.0, 0.0), 0.0),
    ([3.0, 4.0, 5.0, 6.0, 7.0], [0.01, 0.02, 0.9, 0.98, 0.99], (1.0, 0.0), 2.0),
    ([-1.0, 0.0, 1.0, 2.0], [0.2, 0.2, 0.8, 0.8], (1.5, -0.5), 0.0),
])
def test_newton_reaches_the_minimum_from_far_away(s: list, t: list, prior: tuple, strength: float) -> None:
    s_a, t_a = np.array(s), np.array(t)
    got = np.array(_newton_platt(s_a, t_a, prior, strength))
    np.testing.assert_allclose(got, _reference_platt(s_a, t_a, prior, strength), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("k", [10.0, 1000.0])
@pytest.mark.parametrize(("s", "t"), [
    ([-10.0, -8.0, 8.0, 10.0], [0.01, 0.02, 0.97, 0.99]),
    ([3.0, 4.0, 5.0, 6.0, 7.0], [0.01, 0.02, 0.9, 0.98, 0.99]),
])
def test_newton_finds_the_same_minimum_on_any_score_scale(s: list, t: list, k: float) -> None:
    """Scores k times larger (every photo saturated at the start): without a penalty the minimum is (a/k, b)."""
    s_a, t_a = np.array(s), np.array(t)
    got = np.array(_newton_platt(k * s_a, t_a, (1.0, 0.0), 0.0))
    np.testing.assert_allclose(got, _reference_platt(s_a, t_a, (1.0, 0.0), 0.0) / [k, 1.0], rtol=1e-7)


def test_scores_with_nan_or_infinity_are_refused() -> None:
    """A diverged model's NaN scores would otherwise become a NaN calibration stored in the model."""
    for bad in (np.nan, np.inf):
        with pytest.raises(InputError, match=r"^calibration scores contain NaN or infinite values$"):
            fit_platt(np.array([[0.1], [bad], [0.3]]), np.array([[1], [0], [1]]))


def test_ece_uses_fifteen_equal_bins_by_default() -> None:
    y = np.array([1, 0])
    # 0.06 and 0.065 share the first of 15 bins (width 0.0667) but not of 16 (0.0625): |1/2 - 0.0625|
    assert expected_calibration_error(np.array([0.06, 0.065]), y) == pytest.approx(0.4375)
    assert expected_calibration_error(np.array([0.06, 0.065]), y, bins=16) == pytest.approx(0.94 / 2 + 0.065 / 2)
    # 0.9 and 0.1 in their own bins: each is off by 0.1
    assert expected_calibration_error(np.array([0.9, 0.1]), y) == pytest.approx(0.1)
    # 0.9 is in bin 13, 0.95 in the top bin 14: (|1 - 0.9| + |0 - 0.95|) / 2
    assert expected_calibration_error(np.array([0.9, 0.95]), y) == pytest.approx(0.525)
    assert expected_calibration_error(np.array([[0.9], [0.95]]), np.array([[1], [0]])) == pytest.approx(0.525)


def test_ece_of_int_labels_and_float32_probabilities() -> None:
    p = np.array([0.3, 0.3, 0.8, 0.8], np.float32)
    y = np.array([1, 0, 1, 1], np.int64)
    expected = abs(0.5 - float(np.float32(0.3))) * 0.5 + abs(1.0 - float(np.float32(0.8))) * 0.5
    assert expected_calibration_error(p, y) == pytest.approx(expected, rel=1e-12)


def test_the_stored_calibration_has_this_exact_format() -> None:
    """The dict written into every exported model's metadata (read back by other installs and tools)."""
    cal = Calibration(a=(2.0,), b=(-1.0,), max_f1=(0.4,), tp=((1, 0),), fp=((2, 1),), positives=(1,),
                      priors=(0.25,), fitted_on="heldout_images", n_images=3)
    assert cal.to_dict() == {"method": "platt", "a": [2.0], "b": [-1.0], "max_f1": [0.4], "tp": [[1, 0]],
                             "fp": [[2, 1]], "positives": [1], "priors": [0.25], "fitted_on": "heldout_images",
                             "n_images": 3}


def test_fit_calibration_thresholds_are_the_max_f1_points_of_the_probabilities() -> None:
    rng = np.random.default_rng(7)
    y = (rng.random((50, 2)) < 0.3).astype(int)
    y[0] = 1
    s = rng.normal(size=y.shape) + 2.0 * y
    cal = fit_calibration(s, y)
    probs = cal.probabilities(s)
    for c in range(2):  # brute force: every distinct probability as the threshold, best F1 (ties: the higher)
        best_f1, best_thr = -1.0, 0.0
        for thr in np.unique(probs[:, c]):
            pred = probs[:, c] >= thr
            f1 = 2 * (pred & (y[:, c] == 1)).sum() / (pred.sum() + (y[:, c] == 1).sum())
            if f1 >= best_f1:
                best_f1, best_thr = f1, thr
        pred = probs[:, c] >= cal.max_f1[c]
        assert 2 * (pred & (y[:, c] == 1)).sum() / (pred.sum() + y[:, c].sum()) == pytest.approx(best_f1)
        assert cal.max_f1[c] <= best_thr and 0.0 <= cal.max_f1[c] <= 1.0
