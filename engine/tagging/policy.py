"""The one threshold policy: score -> probability per label, its threshold, and which automatic tags are in force."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.config import ConfigBase, require_choice, require_range
from engine.export.metadata import ModelMetadata

OPERATING_POINTS = ("max_f1", "precision")
UNCERTAIN_BAND = 0.1  # a tag whose probability is this close to its threshold is shown as uncertain
_FALLBACK_SLOPE = 2.0  # centred fallback: p = sigmoid(2 (s - centre) / spread)
_BIG = 1e300  # stands for +-infinity in SQL comparisons


@dataclass(frozen=True)
class ThresholdPolicy(ConfigBase):
    """What the person chose: the operating point, per-label overrides and one global offset (probabilities)."""

    operating_point: str = "max_f1"  # max_f1 | precision
    target_precision: float = 0.9  # used when operating_point == "precision"
    global_offset: float = 0.0  # added to every label's threshold (the Browse slider)
    overrides: dict[str, float] = field(default_factory=dict)  # label -> its own threshold (replaces the default)

    def __post_init__(self) -> None:
        require_choice("operating_point", self.operating_point, OPERATING_POINTS)
        require_range("target_precision", self.target_precision, 0.0, 1.0)
        require_range("global_offset", self.global_offset, -1.0, 1.0)
        for label, value in self.overrides.items():
            require_range(f"threshold of {label!r}", value, 0.0, 1.0)


@dataclass(frozen=True)
class LabelRule:
    """How one label's raw scores become probabilities (p = sigmoid(a s + b)) and where its threshold sits."""

    label: str
    a: float
    b: float
    default: float  # the operating point's threshold
    threshold: float  # in force: the override or the default, plus the global offset, within [0, 1]
    overridden: bool = False

    def probability(self, score: float) -> float:
        z = self.a * score + self.b
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def score_at(self, probability: float) -> float:
        """The raw score where the probability reaches `probability` (+-a huge number at 0 and 1)."""
        if probability <= 0.0:
            return -_BIG
        if probability >= 1.0:
            return _BIG
        return (math.log(probability / (1.0 - probability)) - self.b) / self.a

    @property
    def cutoff(self) -> float:
        """Automatic tags with a raw score at or above this are in force (same as probability >= threshold)."""
        return self.cutoff_at(self.threshold)

    def cutoff_at(self, threshold: float) -> float:
        """The raw-score cutoff of a threshold (probability), lowered by a few ulps: a threshold set at a photo's
        own probability keeps that photo, whatever the rounding of the probability -> score round trip."""
        score = self.score_at(threshold)
        return score - 1e-9 * max(1.0, abs(score))

    def uncertain(self, probability: float) -> bool:
        return abs(probability - self.threshold) < UNCERTAIN_BAND


@dataclass(frozen=True)
class ScoreStats:
    """A label's stored raw scores, summarised for the fallbacks: spread and the score at a given share."""

    std: float
    at_share: float | None = None  # the score that this label's prior share of photos reaches


def _centred(centre: float, spread: float) -> tuple[float, float]:
    a = _FALLBACK_SLOPE / max(spread, 1e-6)
    return a, -a * centre


def label_rules(
    meta: ModelMetadata | None,
    policy: ThresholdPolicy,
    stats: Mapping[str, ScoreStats] | None = None,
) -> dict[str, LabelRule]:
    """Every label's rule for the model `meta` under `policy`.

    A fitted calibration gives probabilities and the operating point's thresholds. Without one (a text-only
    model trained without renders) each label is centred where its caption share of the photos is reached
    (prior matching), and a model from before calibrations is centred on its stored raw threshold; both then
    default to probability 0.5. `stats` are the stored scores' summaries these fallbacks need.
    """
    if meta is None:
        return {}
    stats = stats or {}
    cal = meta.calibration
    defaults: Sequence[float]
    if cal is not None and cal.fitted:
        params = list(zip(cal.a, cal.b, strict=True))
        if policy.operating_point == "precision" and cal.tp:
            defaults = cal.precision_thresholds(policy.target_precision)
        else:
            defaults = cal.max_f1 or [0.5] * len(meta.labels)
    else:
        params = []
        for c, label in enumerate(meta.labels):
            s = stats.get(label, ScoreStats(1.0))
            prior_centre = s.at_share if cal is not None and cal.priors else None
            params.append(_centred(meta.thresholds[c] if prior_centre is None else prior_centre, s.std))
        defaults = [0.5] * len(meta.labels)
    rules = {}
    for label, (a, b), default in zip(meta.labels, params, defaults, strict=True):
        own = policy.overrides.get(label)
        base = own if own is not None else float(default)
        threshold = min(1.0, max(0.0, base + policy.global_offset))
        rules[label] = LabelRule(label, float(a), float(b), float(default), threshold, own is not None)
    return rules


def needs_score_stats(meta: ModelMetadata | None) -> bool:
    """True when the rules fall back on the stored scores (no fitted calibration)."""
    return meta is not None and (meta.calibration is None or not meta.calibration.fitted)
