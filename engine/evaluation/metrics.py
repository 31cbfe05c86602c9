"""Multi-label metrics (METHOD.md §6): non-interpolated AP/mAP, CP/CR/CF1, OP/OR/OF1, top-k, F1 calibration."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from engine.errors import InputError

_EPS = 1e-8  # the reference denominator guard: AP_k = sum(precision@r) / (#positives + 1e-8)


def _check(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return float64 scores and boolean positives (only gt == 1 counts; 0/-1/difficult are negative)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim != 2 or scores.shape != labels.shape:
        raise InputError(f"scores and labels must both be (N, C) arrays; got {scores.shape} and {labels.shape}")
    if scores.shape[0] == 0 or scores.shape[1] == 0:
        raise InputError(f"need at least one image and one class; got scores of shape {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise InputError("scores contain NaN or infinite values")
    return scores, labels == 1


def _sort_desc(scores: np.ndarray) -> np.ndarray:
    """Per-column indices sorting scores descending (tied images keep input order; AP groups them)."""
    return np.argsort(-scores, axis=0, kind="stable")


def average_precision(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-class non-interpolated AP in [0, 1], shape (C,), independent of the input order.

    For each class the images are sorted by score, descending, and
    ``AP = sum(precision@r for ranks r with gt = 1) / (#positives + 1e-8)``; a class without
    positives gets 0 (the reference's convention). Ties are one threshold, as in scikit-learn's
    ``average_precision_score``: every positive of a group of equal scores gets the precision at
    the end of its group, so AP does not depend on the order of tied images. Without ties this is
    exactly the reference's AP.
    """
    scores, pos = _check(scores, labels)
    n = scores.shape[0]
    order = _sort_desc(scores)
    s = np.take_along_axis(scores, order, axis=0)
    hits = np.take_along_axis(pos, order, axis=0)
    precision_at_r = np.cumsum(hits, axis=0) / np.arange(1, n + 1)[:, None]
    rows = np.arange(n)[:, None]
    group_end = np.ones_like(s, dtype=bool)
    group_end[:-1] = s[:-1] != s[1:]
    # the last row of each row's tie group: the smallest group end at or below it
    end_row = np.minimum.accumulate(np.where(group_end, rows, n)[::-1], axis=0)[::-1]
    precision_of_group = np.take_along_axis(precision_at_r, end_row, axis=0)
    return (precision_of_group * hits).sum(axis=0) / (hits.sum(axis=0) + _EPS)


def mean_average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """mAP in percent: ``100 * mean_k AP_k`` (classes without positives count as 0, as in the reference)."""
    return float(100.0 * average_precision(scores, labels).mean())


def _thresholds(thresholds: float | np.ndarray | None, n_classes: int) -> np.ndarray:
    if thresholds is None:
        return np.zeros(n_classes)
    thr = np.asarray(thresholds, dtype=np.float64)
    if thr.ndim == 0:
        thr = np.full(n_classes, float(thr))
    if thr.shape != (n_classes,):
        raise InputError(f"thresholds must be a scalar or have one value per class ({n_classes}); got {thr.shape}")
    return thr


def _f1(p: float, r: float) -> float:
    return 2.0 * p * r / (p + r) if p + r > 0 else 0.0


def precision_recall_f1(
    scores: np.ndarray, labels: np.ndarray, thresholds: float | np.ndarray | None = None, topk: int | None = None
) -> dict[str, float]:
    """CP, CR, CF1, OP, OR, OF1 in percent.

    An image is predicted positive for class k when ``score >= thresholds[k]`` (``None`` means 0,
    the reference's logit convention; pass 0.5 for probabilities or calibrated per-class thresholds).
    With ``topk`` only the k highest scores per image may be positive (and must still pass the
    threshold); ties in the top-k keep the lower class index. Per class: Nc correct positives,
    Np predicted positives, Ng ground-truth positives. As in the reference, Np = 0 is replaced by 1
    *before* summing, so ``OP = sum Nc / sum Np`` is slightly lower when some classes predict nothing.
    ``OR = sum Nc / sum Ng``, ``CP = mean Nc / Np``, ``CR = mean Nc / max(Ng, 1)`` (a class without
    positives adds recall 0 where the reference gives NaN); an F1 with P + R = 0 is 0.
    """
    scores, pos = _check(scores, labels)
    c = scores.shape[1]
    pred = scores >= _thresholds(thresholds, c)
    if topk is not None:
        if topk < 1:
            raise InputError(f"topk must be at least 1; got {topk}")
        keep = np.zeros_like(pred)
        top = np.argsort(-scores, axis=1, kind="stable")[:, : min(topk, c)]
        np.put_along_axis(keep, top, True, axis=1)
        pred &= keep
    nc = (pred & pos).sum(axis=0).astype(np.float64)
    np_ = np.maximum(pred.sum(axis=0), 1).astype(np.float64)
    ng = pos.sum(axis=0).astype(np.float64)
    op, or_ = nc.sum() / np_.sum(), nc.sum() / max(ng.sum(), 1.0)
    cp, cr = float(np.mean(nc / np_)), float(np.mean(nc / np.maximum(ng, 1.0)))
    return {k: 100.0 * v for k, v in
            {"cp": cp, "cr": cr, "cf1": _f1(cp, cr), "op": op, "or_": or_, "of1": _f1(op, or_)}.items()}


def calibrate_thresholds(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-class thresholds (C,) maximising F1 of ``score >= threshold`` on a held-out split.

    Candidates are the midpoints between consecutive distinct sorted scores, plus the lowest score
    (everything positive). On equal F1 the higher threshold wins. A class without positives gets
    ``nextafter(max score, +inf)``: finite (JSON-safe) and predicting nothing on this split.
    """
    scores, pos = _check(scores, labels)
    n = scores.shape[0]
    order = _sort_desc(scores)
    s = np.take_along_axis(scores, order, axis=0)
    tp = np.cumsum(np.take_along_axis(pos, order, axis=0), axis=0)
    n_pos = pos.sum(axis=0)
    f1 = 2.0 * tp / (np.arange(1, n + 1)[:, None] + n_pos)  # predicting the top r images
    boundary = np.ones_like(s, dtype=bool)
    boundary[:-1] = s[:-1] > s[1:]  # a threshold can only cut between distinct scores
    best = np.argmax(np.where(boundary, f1, -1.0), axis=0)
    cols = np.arange(scores.shape[1])
    upper, lower = s[best, cols], s[np.minimum(best + 1, n - 1), cols]
    mid = (upper + lower) / 2.0
    thr = np.where((best == n - 1) | (mid <= lower), upper, mid)
    return np.where(n_pos > 0, thr, np.nextafter(s[0], np.inf))


@dataclass
class MetricReport:
    """All metrics in percent; ``topk_*`` use only the ``topk`` highest scores per image."""

    map: float
    per_class_ap: dict[str, float]
    cp: float
    cr: float
    cf1: float
    op: float
    or_: float
    of1: float
    topk: int
    topk_cp: float
    topk_cr: float
    topk_cf1: float
    topk_op: float
    topk_or: float
    topk_of1: float
    n_images: int

    def to_dict(self) -> dict:
        return asdict(self)

    def format_table(self) -> str:
        """Plain-text summary (mAP, thresholded and top-k metrics) then per-class AP, for the CLI."""
        lines = [f"mAP {self.map:6.2f}   ({self.n_images} images, {len(self.per_class_ap)} classes)",
                 f"{'':8}{'CP':>7}{'CR':>7}{'CF1':>7}{'OP':>7}{'OR':>7}{'OF1':>7}"]
        for name, vals in (("all", (self.cp, self.cr, self.cf1, self.op, self.or_, self.of1)),
                           (f"top-{self.topk}", (self.topk_cp, self.topk_cr, self.topk_cf1,
                                                 self.topk_op, self.topk_or, self.topk_of1))):
            lines.append(f"{name:<8}" + "".join(f"{v:7.2f}" for v in vals))
        width = max((len(k) for k in self.per_class_ap), default=5)
        lines.append("")
        lines += [f"{k:<{width}}  {v:6.2f}" for k, v in self.per_class_ap.items()]
        return "\n".join(lines)


def evaluate_scores(
    scores: np.ndarray,
    labels: np.ndarray,
    classnames: list[str],
    thresholds: float | np.ndarray | None = None,
    topk: int = 3,
) -> MetricReport:
    """Every §6 metric for scores (N, C) against labels (N, C) (only 1 is positive); see `precision_recall_f1`."""
    scores, pos = _check(scores, labels)
    if len(classnames) != scores.shape[1]:
        raise InputError(f"{len(classnames)} class names for {scores.shape[1]} score columns")
    if len(set(classnames)) != len(classnames):
        raise InputError("class names must be unique")
    ap = average_precision(scores, pos)
    full = precision_recall_f1(scores, pos, thresholds)
    top = precision_recall_f1(scores, pos, thresholds, topk=topk)
    return MetricReport(
        map=float(100.0 * ap.mean()),
        per_class_ap={name: float(100.0 * v) for name, v in zip(classnames, ap, strict=True)},
        **full,
        topk=topk,
        **{f"topk_{k.rstrip('_')}": v for k, v in top.items()},
        n_images=int(scores.shape[0]),
    )
