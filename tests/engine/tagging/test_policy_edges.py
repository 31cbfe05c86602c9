"""The threshold policy's edges: a calibration that does not fit its labels, and the uncertain band's border."""

from __future__ import annotations

import pytest

from engine.evaluation.calibration import Calibration
from engine.export.metadata import ModelMetadata
from engine.imaging import PreprocessSpec
from engine.tagging.policy import LabelRule, ThresholdPolicy, label_rules

LABELS = ("dog", "cat")


def _meta(calibration: Calibration) -> ModelMetadata:
    # built in code (as a trainer does), so nothing but label_rules checks the calibration against the labels
    return ModelMetadata(labels=LABELS, thresholds=(0.0, 0.0), preprocess=PreprocessSpec(size=16),
                         model_checksum="x", calibration=calibration)


@pytest.mark.parametrize("calibration", [
    Calibration(a=(10.0, 4.0, 1.0), b=(-5.0, -1.0), max_f1=(0.4, 0.6)),  # one slope too many
    Calibration(a=(10.0, 4.0), b=(-5.0, -1.0, 0.0), max_f1=(0.4, 0.6)),  # one offset too many
    Calibration(a=(10.0, 4.0, 1.0), b=(-5.0, -1.0, 0.0), max_f1=(0.4, 0.6, 0.5)),  # a third label's curve
    Calibration(a=(10.0, 4.0), b=(-5.0, -1.0), max_f1=(0.4, 0.6, 0.5)),  # a threshold too many
    Calibration(a=(10.0,), b=(-5.0,), max_f1=(0.4,)),  # "cat" has no curve at all
], ids=["a", "b", "all", "max_f1", "short"])
def test_a_calibration_that_does_not_fit_the_labels_is_refused_not_shifted(calibration: Calibration) -> None:
    # silently zipping would give "cat" the wrong curve or drop it, and so move which photos carry each tag
    with pytest.raises(ValueError):
        label_rules(_meta(calibration), ThresholdPolicy())


def test_a_fitting_calibration_gives_every_label_its_own_curve() -> None:
    rules = label_rules(_meta(Calibration(a=(10.0, 4.0), b=(-5.0, -1.0), max_f1=(0.4, 0.6))), ThresholdPolicy())
    assert [(r.label, r.a, r.b, r.threshold) for r in rules.values()] == [("dog", 10.0, -5.0, 0.4),
                                                                          ("cat", 4.0, -1.0, 0.6)]


def test_the_uncertain_band_is_open_at_exactly_0_1() -> None:
    # a threshold of 0 (every automatic tag in force): 0.1 - 0.0 is exactly 0.1 in floating point
    rule = LabelRule("dog", 1.0, 0.0, 0.5, 0.0, overridden=True)
    assert not rule.uncertain(0.1) and rule.uncertain(0.0999) and rule.uncertain(0.0)
    at_one = LabelRule("dog", 1.0, 0.0, 0.5, 1.0, overridden=True)  # nothing in force: 1.0 - 0.9 < 0.1 in floats
    assert at_one.uncertain(0.9) and not at_one.uncertain(0.85)


def test_a_threshold_at_a_photos_own_probability_keeps_that_photo() -> None:
    # probability -> score rounds up for some scores (7 and 12 of these 13 with glibc's exp and log): the cutoff
    # must still keep the photo
    rule = LabelRule("dog", 10.0, -5.0, 0.5, 0.5)
    scores = [0.3 + 0.5 * ((i * 7919) % 101) / 101 + i * 1e-4 for i in range(13)]
    assert any(rule.score_at(rule.probability(s)) > s for s in scores)  # the round trip alone would drop a photo
    for s in scores:
        assert s >= rule.cutoff_at(rule.probability(s)) > s - 1e-8
    assert rule.cutoff_at(0.5) == rule.cutoff == pytest.approx(0.5 - 1e-9, abs=1e-15)
