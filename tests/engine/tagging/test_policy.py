"""The threshold policy: which probability each label's score means and which automatic tags are in force."""

from __future__ import annotations

import math

import pytest

from engine.config import ConfigError
from engine.evaluation.calibration import Calibration
from engine.export.metadata import ModelMetadata
from engine.imaging import PreprocessSpec
from engine.tagging.policy import LabelRule, ScoreStats, ThresholdPolicy, label_rules, needs_score_stats

LABELS = ("dog", "cat")
# held-out curves on the 101-point grid: dog reaches precision 0.9 from 0.30, cat only from 0.70
_TP = ((10,) * 30 + (9,) * 71, (10,) * 70 + (5,) * 31)
_FP = ((10,) * 30 + (1,) * 71, (10,) * 70 + (0,) * 31)
CAL = Calibration(a=(10.0, 4.0), b=(-5.0, -1.0), max_f1=(0.4, 0.6), tp=_TP, fp=_FP, positives=(10, 10))


def _meta(calibration: Calibration | None = CAL, thresholds: tuple[float, ...] = (0.0, 0.0)) -> ModelMetadata:
    return ModelMetadata(labels=LABELS, thresholds=thresholds, preprocess=PreprocessSpec(size=16),
                         model_checksum="x", calibration=calibration)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_a_fitted_calibration_gives_its_probabilities_and_max_f1_thresholds() -> None:
    rules = label_rules(_meta(), ThresholdPolicy())
    dog, cat = rules["dog"], rules["cat"]
    assert (dog.a, dog.b, cat.a, cat.b) == (10.0, -5.0, 4.0, -1.0)
    assert (dog.default, dog.threshold, cat.default, cat.threshold) == (0.4, 0.4, 0.6, 0.6)
    assert dog.label == "dog" and cat.label == "cat"
    assert dog.overridden is False and cat.overridden is False
    assert dog.probability(0.7) == pytest.approx(_sigmoid(2.0))
    assert dog.probability(-100.0) == pytest.approx(0.0, abs=1e-12)  # no overflow far below
    assert dog.probability(100.0) == 1.0  # nor far above
    assert dog.probability(0.2) == pytest.approx(_sigmoid(-3.0))


def test_the_precision_operating_point_uses_the_held_out_curve() -> None:
    rules = label_rules(_meta(), ThresholdPolicy(operating_point="precision", target_precision=0.9))
    assert rules["dog"].threshold == pytest.approx(0.30)
    assert rules["cat"].threshold == pytest.approx(0.70)
    no_curve = Calibration(a=CAL.a, b=CAL.b, max_f1=CAL.max_f1)  # no held-out curve stored: max-F1 instead
    rules = label_rules(_meta(no_curve), ThresholdPolicy(operating_point="precision"))
    assert (rules["dog"].threshold, rules["cat"].threshold) == (0.4, 0.6)


def test_no_max_f1_thresholds_default_to_one_half() -> None:
    rules = label_rules(_meta(Calibration(a=CAL.a, b=CAL.b)), ThresholdPolicy())
    assert (rules["dog"].threshold, rules["cat"].threshold) == (0.5, 0.5)


def test_overrides_replace_the_default_and_the_offset_moves_every_label_within_0_1() -> None:
    rules = label_rules(_meta(), ThresholdPolicy(overrides={"cat": 0.9}, global_offset=0.05))
    assert rules["dog"].threshold == pytest.approx(0.45) and not rules["dog"].overridden
    assert rules["cat"].threshold == pytest.approx(0.95) and rules["cat"].overridden
    assert rules["cat"].default == 0.6  # the override does not hide the model's own threshold
    high = label_rules(_meta(), ThresholdPolicy(overrides={"cat": 0.95}, global_offset=0.2))
    low = label_rules(_meta(), ThresholdPolicy(global_offset=-0.5))
    assert high["cat"].threshold == 1.0 and low["dog"].threshold == 0.0
    zero = label_rules(_meta(), ThresholdPolicy(overrides={"dog": 0.0}))
    assert zero["dog"].threshold == 0.0 and zero["dog"].overridden  # an override of 0 is an override


def test_the_cutoff_keeps_exactly_the_scores_at_or_above_the_threshold() -> None:
    rule = label_rules(_meta(), ThresholdPolicy())["dog"]  # threshold 0.4
    cut = rule.cutoff
    assert cut == pytest.approx((math.log(0.4 / 0.6) + 5.0) / 10.0, abs=1e-8)
    assert cut < rule.score_at(0.4)  # lowered a little: a photo exactly at the threshold stays
    assert rule.probability(cut + 1e-6) >= 0.4 > rule.probability(cut - 1e-6)
    assert rule.score_at(0.0) == -1e300 and rule.score_at(1.0) == 1e300
    assert rule.score_at(-0.1) == -1e300 and rule.score_at(1.1) == 1e300
    big = LabelRule("x", 1.0, 0.0, 0.5, 1.0)
    assert big.cutoff == pytest.approx(1e300)  # a threshold of 1 keeps nothing
    assert LabelRule("x", 1.0, 0.0, 0.5, 0.0).cutoff == pytest.approx(-1e300)
    small = LabelRule("x", 1.0, -0.5, 0.5, 0.5)  # score_at(0.5) = 0.5: lowered by 1e-9, not 1e-9 * 0.5
    assert small.cutoff == pytest.approx(0.5 - 1e-9, abs=1e-15)
    far = LabelRule("x", 1.0, -1000.0, 0.5, 0.5)  # score_at(0.5) = 1000: lowered by 1e-6
    assert far.cutoff == pytest.approx(1000.0 - 1e-6, abs=1e-12)
    neg = LabelRule("x", 1.0, 1000.0, 0.5, 0.5)  # score_at(0.5) = -1000: still lowered, never raised
    assert neg.cutoff == pytest.approx(-1000.0 - 1e-6, abs=1e-12)


def test_uncertain_means_within_the_band_around_the_threshold() -> None:
    rule = LabelRule("x", 1.0, 0.0, 0.5, 0.5)
    assert rule.uncertain(0.45) and rule.uncertain(0.55)
    assert not rule.uncertain(0.65) and not rule.uncertain(0.35)
    assert not rule.uncertain(0.6 + 1e-9) and rule.uncertain(0.6 - 1e-9)


def test_a_text_only_model_is_centred_where_its_caption_share_is_reached() -> None:
    cal = Calibration(priors=(0.2, 0.5))
    stats = {"dog": ScoreStats(std=0.5, at_share=0.3), "cat": ScoreStats(std=2.0, at_share=-1.0)}
    rules = label_rules(_meta(cal, thresholds=(9.0, 9.0)), ThresholdPolicy(), stats)
    dog, cat = rules["dog"], rules["cat"]
    assert dog.a == pytest.approx(4.0) and dog.b == pytest.approx(-1.2)  # slope 2 / spread, centre 0.3
    assert cat.a == pytest.approx(1.0) and cat.b == pytest.approx(1.0)
    assert dog.probability(0.3) == pytest.approx(0.5) and dog.threshold == 0.5 and dog.default == 0.5
    assert needs_score_stats(_meta(cal))


def test_a_model_from_before_calibrations_is_centred_on_its_raw_thresholds() -> None:
    stats = {"dog": ScoreStats(std=0.5, at_share=7.0)}  # at_share is ignored without priors
    rules = label_rules(_meta(None, thresholds=(0.25, 1.5)), ThresholdPolicy(), stats)
    assert rules["dog"].probability(0.25) == pytest.approx(0.5) and rules["dog"].a == pytest.approx(4.0)
    assert rules["cat"].probability(1.5) == pytest.approx(0.5) and rules["cat"].a == pytest.approx(2.0)  # std 1
    no_priors = label_rules(_meta(Calibration(), thresholds=(0.25, 1.5)), ThresholdPolicy(), stats)
    assert no_priors["dog"].probability(0.25) == pytest.approx(0.5)
    flat = label_rules(_meta(None), ThresholdPolicy(), {"dog": ScoreStats(std=0.0)})
    assert flat["dog"].a == pytest.approx(2e6)  # a zero spread does not divide by zero
    assert needs_score_stats(_meta(None)) and not needs_score_stats(_meta())
    assert not needs_score_stats(None) and label_rules(None, ThresholdPolicy()) == {}


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"operating_point": "recall"}, "operating_point"), ({"target_precision": 1.5}, "target_precision"),
    ({"target_precision": -0.1}, "target_precision"), ({"global_offset": 1.5}, "global_offset"),
    ({"global_offset": -1.5}, "global_offset"), ({"overrides": {"dog": 1.2}}, "threshold of 'dog'"),
    ({"overrides": {"dog": -0.2}}, "threshold of 'dog'"),
])
def test_an_impossible_policy_is_refused_naming_the_setting(kwargs: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ThresholdPolicy(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == named and str(caught.value).startswith(f"{named}: ")


def test_the_edges_of_a_policy_are_allowed() -> None:
    ThresholdPolicy(operating_point="precision", target_precision=1.0, global_offset=-1.0, overrides={"a": 1.0})
    ThresholdPolicy(target_precision=0.0, global_offset=1.0, overrides={"a": 0.0})
