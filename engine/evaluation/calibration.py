"""Per-label Platt scaling: raw scores -> probabilities, operating points and calibration error (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import ArtifactError, InputError

GRID = 101  # probability thresholds 0.00, 0.01, ..., 1.00 of the stored held-out curve
_MIN_SLOPE = 1e-3  # a calibration is always increasing: a higher score never means a lower probability


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, np.float64)))


def _platt_loss(w: np.ndarray, x: np.ndarray, t: np.ndarray, prior: np.ndarray, strength: float) -> float:
    """The logistic loss of sigmoid(x @ w) against soft targets t plus strength/2 |w - prior|^2 (overflow-free)."""
    z = x @ w
    return float(np.sum(np.logaddexp(0.0, z) - t * z) + 0.5 * strength * np.sum((w - prior) ** 2))


def _newton_platt(
    s: np.ndarray, t: np.ndarray, prior: tuple[float, float], strength: float, steps: int = 50
) -> tuple[float, float]:
    """Minimise the logistic loss of sigmoid(a s + b) against soft targets t, plus strength/2 |(a,b) - prior|^2.

    Newton's method with a backtracking line search (Lin, Lin and Weng, 2007): a full Newton step from far
    away (well-separated scores) overshoots and diverges, so each step is halved until the loss falls.
    """
    w0 = np.array(prior, np.float64)
    w = w0.copy()
    x = np.stack([s, np.ones_like(s)], axis=1)
    loss = _platt_loss(w, x, t, w0, strength)
    for _ in range(steps):
        p = sigmoid(x @ w)
        grad = x.T @ (p - t) + strength * (w - w0)
        hess = (x * (p * (1 - p))[:, None]).T @ x + (strength + 1e-9) * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale, new = 1.0, w - step
        new_loss = _platt_loss(new, x, t, w0, strength)
        # Armijo: halve until the loss falls by a share of the predicted decrease (or rounding hides the change)
        while new_loss > loss - 1e-4 * scale * float(grad @ step) + 1e-12 * abs(loss) and scale > 1e-20:
            scale /= 2.0
            new = w - scale * step
            new_loss = _platt_loss(new, x, t, w0, strength)
        w, loss = new, new_loss
        if float(np.abs(scale * step).max()) < 1e-10:
            break
    return float(w[0]), float(w[1])


def _platt_targets(y: np.ndarray) -> np.ndarray:
    """Platt's smoothed targets: (N+ + 1)/(N+ + 2) for positives, 1/(N- + 2) for negatives."""
    n_pos, n_neg = float(y.sum()), float((~y).sum())
    return np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))


def fit_platt(scores: np.ndarray, labels: np.ndarray, *, strength: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-label (a, b) with p = sigmoid(a * score + b), fitted on held-out (N, C) scores and 0/1 labels.

    One pooled fit over every label comes first; each label's fit is then pulled toward the pooled
    parameters (an L2 penalty of `strength`), so a label with few positives keeps a sane calibration.
    Slopes are kept positive, so probabilities always rise with the score.
    """
    scores = np.asarray(scores, np.float64)
    y = np.asarray(labels) == 1
    if scores.ndim != 2 or scores.shape != y.shape or scores.shape[0] == 0:
        raise InputError(f"calibration needs (N, C) scores and labels with N > 0; got {scores.shape}, {y.shape}")
    if not np.all(np.isfinite(scores)):
        raise InputError("calibration scores contain NaN or infinite values")
    centre, spread = float(scores.mean()), float(scores.std()) or 1.0
    z = (scores - centre) / spread  # fit on standardised scores, so `strength` means the same for any model
    pooled = _newton_platt(z.ravel(), _platt_targets(y.ravel()), (1.0, 0.0), 1e-3)
    pooled = (max(pooled[0], _MIN_SLOPE), pooled[1])
    a = np.empty(scores.shape[1])
    b = np.empty(scores.shape[1])
    for c in range(scores.shape[1]):
        az, bz = _newton_platt(z[:, c], _platt_targets(y[:, c]), pooled, strength)
        az = max(az, _MIN_SLOPE)
        a[c], b[c] = az / spread, bz - az * centre / spread
    return a, b


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE over every (image, label) pair: sum over equal-width bins of |accuracy - confidence| * share."""
    p = np.asarray(probs, np.float64).ravel()
    y = (np.asarray(labels) == 1).ravel().astype(np.float64)
    if p.shape != y.shape or p.size == 0:
        raise InputError(f"probabilities and labels must have the same non-empty shape; got {p.shape}, {y.shape}")
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for k in range(bins):
        mask = which == k
        if mask.any():
            total += abs(float(y[mask].mean()) - float(p[mask].mean())) * mask.sum() / p.size
    return total


def heldout_curve(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tp, fp) per label at each grid threshold (C, GRID) and positives per label (C,) on held-out data."""
    p = np.asarray(probs, np.float64)
    y = np.asarray(labels) == 1
    grid = np.linspace(0.0, 1.0, GRID)
    pred = p[:, :, None] >= grid[None, None, :]  # (N, C, GRID)
    tp = (pred & y[:, :, None]).sum(axis=0)
    fp = (pred & ~y[:, :, None]).sum(axis=0)
    return tp, fp, y.sum(axis=0)


@dataclass(frozen=True)
class Calibration:
    """A model's per-label calibration and the held-out evidence its operating points come from.

    `a`/`b` empty: no images to fit on (a text-only model without renders); then `priors` (each label's
    share among the training captions) lets the tag store match the share of photos it tags instead.
    """

    a: tuple[float, ...] = ()
    b: tuple[float, ...] = ()
    max_f1: tuple[float, ...] = ()  # per-label probability threshold with the best held-out F1
    tp: tuple[tuple[int, ...], ...] = ()  # held-out true positives per label at each grid threshold
    fp: tuple[tuple[int, ...], ...] = ()
    positives: tuple[int, ...] = ()
    priors: tuple[float, ...] = ()
    fitted_on: str = "none"  # "heldout_images" (renders, or labelled photos) | "none"
    n_images: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def fitted(self) -> bool:
        return bool(self.a)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities (N, C) of raw scores (N, C); raises when there is no fitted calibration."""
        if not self.fitted:
            raise ArtifactError("this model has no fitted calibration")
        return sigmoid(np.asarray(scores, np.float64) * np.asarray(self.a) + np.asarray(self.b))

    def precision_thresholds(self, target: float) -> list[float]:
        """Per label, the lowest grid threshold whose held-out precision reaches `target` (1.0 when none does)."""
        grid = np.linspace(0.0, 1.0, GRID)
        out = []
        for tp, fp in zip(self.tp, self.fp, strict=True):
            tp_a, fp_a = np.asarray(tp, float), np.asarray(fp, float)
            ok = (tp_a + fp_a > 0) & (tp_a >= target * np.maximum(tp_a + fp_a, 1))
            out.append(float(grid[np.flatnonzero(ok)[0]]) if ok.any() else 1.0)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"method": "platt", "a": list(self.a), "b": list(self.b), "max_f1": list(self.max_f1),
                "tp": [list(r) for r in self.tp], "fp": [list(r) for r in self.fp],
                "positives": list(self.positives), "priors": list(self.priors),
                "fitted_on": self.fitted_on, "n_images": self.n_images, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, n_labels: int, *, source: str = "model") -> Calibration | None:
        """The stored calibration, or None for models written before calibrations existed."""
        if not data:
            return None
        try:
            cal = cls(
                a=tuple(float(x) for x in data.get("a") or ()), b=tuple(float(x) for x in data.get("b") or ()),
                max_f1=tuple(float(x) for x in data.get("max_f1") or ()),
                tp=tuple(tuple(int(v) for v in r) for r in data.get("tp") or ()),
                fp=tuple(tuple(int(v) for v in r) for r in data.get("fp") or ()),
                positives=tuple(int(x) for x in data.get("positives") or ()),
                priors=tuple(float(x) for x in data.get("priors") or ()),
                fitted_on=str(data.get("fitted_on") or "none"), n_images=int(data.get("n_images") or 0),
            )
        except (TypeError, ValueError) as exc:
            raise ArtifactError(f"{source}: invalid calibration: {exc}") from exc
        for name in ("a", "b", "max_f1", "tp", "fp", "positives", "priors"):
            value = getattr(cal, name)
            if value and len(value) != n_labels:
                raise ArtifactError(f"{source}: calibration has {len(value)} {name} values for {n_labels} labels")
        return cal


def fit_calibration(scores: np.ndarray, labels: np.ndarray, *, fitted_on: str = "heldout_images",
                    priors: np.ndarray | None = None) -> Calibration:
    """Platt parameters, max-F1 thresholds and the precision curve from held-out (N, C) scores and labels."""
    from engine.evaluation.metrics import calibrate_thresholds

    a, b = fit_platt(scores, labels)
    cal = Calibration(a=tuple(a.tolist()), b=tuple(b.tolist()))
    probs = cal.probabilities(scores)
    best = np.clip(calibrate_thresholds(probs, labels), 0.0, 1.0)
    tp, fp, pos = heldout_curve(probs, labels)
    return Calibration(
        a=cal.a, b=cal.b, max_f1=tuple(best.tolist()), tp=tuple(tuple(r) for r in tp.tolist()),
        fp=tuple(tuple(r) for r in fp.tolist()), positives=tuple(pos.tolist()),
        priors=tuple(priors.tolist()) if priors is not None else (), fitted_on=fitted_on, n_images=len(scores),
    )


def caption_priors(caption_labels: np.ndarray) -> np.ndarray:
    """Each label's share among the captions (the expected share of photos that carry it)."""
    y = np.asarray(caption_labels) == 1
    return y.mean(axis=0) if len(y) else np.zeros(y.shape[1])


def oracle_cf1(scores: np.ndarray, labels: np.ndarray) -> float:
    """CF1 (percent) with each label's threshold chosen on the test labels themselves: the ceiling of thresholds."""
    from engine.evaluation.metrics import calibrate_thresholds, precision_recall_f1

    return precision_recall_f1(scores, labels, calibrate_thresholds(scores, labels))["cf1"]
