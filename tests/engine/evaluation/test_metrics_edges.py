"""Metric edge cases by hand and against scikit-learn: thresholds at a score, F1 of nothing right, the table."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from engine.errors import InputError
from engine.evaluation.metrics import (
    average_precision,
    calibrate_thresholds,
    evaluate_scores,
    precision_recall_f1,
)


def test_messages_name_what_is_wrong_exactly() -> None:
    with pytest.raises(InputError, match=r"^scores contain NaN or infinite values$"):
        average_precision(np.array([[0.1], [np.inf]]), np.array([[1], [0]]))
    with pytest.raises(InputError, match=r"^thresholds must be a scalar or have one value per class \(2\); "
                                         r"got \(3,\)$"):
        precision_recall_f1(np.zeros((2, 2)), np.zeros((2, 2)), thresholds=[0.1, 0.2, 0.3])
    with pytest.raises(InputError, match=r"^class names must be unique$"):
        evaluate_scores(np.zeros((2, 2)), np.zeros((2, 2)), ["cat", "cat"])


def test_integer_scores_rank_like_their_float_values() -> None:
    """Vote counts stored as uint8 (0 is the lowest, never wrapped to the top by a negation)."""
    scores = np.array([[0, 3], [2, 0], [1, 1], [3, 2]], np.uint8)
    labels = np.array([[0, 1], [1, 0], [0, 0], [1, 1]])
    as_float = scores.astype(np.float64)
    np.testing.assert_allclose(average_precision(scores, labels), average_precision(as_float, labels))
    np.testing.assert_allclose(average_precision(scores, labels),
                               [average_precision_score(labels[:, k], as_float[:, k]) for k in (0, 1)], atol=1e-7)
    np.testing.assert_allclose(calibrate_thresholds(scores, labels), [1.5, 1.5])


def test_a_perfect_ranking_is_at_most_one_and_no_positives_print_as_zero() -> None:
    scores = np.array([[0.9, 0.4], [0.2, 0.3], [0.1, 0.8]])
    labels = np.array([[1, 0], [0, 0], [0, 0]])
    ap = average_precision(scores, labels)
    assert 0.99999 < ap[0] <= 1.0  # 1 / (1 + 1e-8): the reference's guard never pushes AP above 1
    assert ap[1] == 0.0 and not np.signbit(ap[1])
    table = evaluate_scores(scores, labels, ["dog", "cat"], thresholds=0.5, topk=1).format_table()
    assert table.splitlines()[-1] == "cat    0.00"  # not "-0.00"


def test_the_whole_table_for_a_small_report() -> None:
    scores = np.array([[0.9, 0.1], [0.6, 0.7], [0.2, 0.4]])
    labels = np.array([[1, 0], [0, 1], [1, 1]])
    report = evaluate_scores(scores, labels, ["dog", "house cat"], thresholds=0.5)
    # dog: ranks 1 (pos), 2, 3 (pos): AP = (1 + 2/3) / 2; house cat: 0.7 (pos), 0.4 (pos): AP = 1
    ap_dog = average_precision_score([1, 0, 1], [0.9, 0.6, 0.2])
    assert report.per_class_ap["dog"] == pytest.approx(100 * ap_dog)
    assert report.per_class_ap["house cat"] == pytest.approx(100.0)
    assert report.topk == 3  # the default is top-3
    # >= 0.5: dog predicts images 0, 1 (Nc 1, Np 2, Ng 2); house cat predicts image 1 (1, 1, 2)
    assert report.format_table() == "\n".join([
        f"mAP {50 * (ap_dog + 1):6.2f}   (3 images, 2 classes)",
        "             CP     CR    CF1     OP     OR    OF1",
        "all       75.00  50.00  60.00  66.67  50.00  57.14",
        "top-3     75.00  50.00  60.00  66.67  50.00  57.14",
        "",
        "dog         83.33",
        "house cat  100.00",
    ])


def test_f1_is_zero_when_nothing_predicted_is_right() -> None:
    scores = np.array([[0.9, 0.8], [0.1, 0.2]])
    labels = np.array([[0, 0], [1, 1]])
    m = precision_recall_f1(scores, labels, thresholds=0.5)
    assert (m["cp"], m["cr"], m["cf1"], m["op"], m["or_"], m["of1"]) == (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def test_a_score_equal_to_its_threshold_is_predicted() -> None:
    scores = np.array([[0.5], [0.25]])
    labels = np.array([[1], [0]])
    m = precision_recall_f1(scores, labels, thresholds=0.5)
    assert m["op"] == pytest.approx(100.0) and m["or_"] == pytest.approx(100.0)


def test_overall_recall_with_a_single_positive() -> None:
    scores = np.array([[0.9, 0.1], [0.2, 0.3]])
    labels = np.array([[1, 0], [0, 0]])
    m = precision_recall_f1(scores, labels, thresholds=0.5)
    assert m["or_"] == pytest.approx(100.0) and m["cr"] == pytest.approx(50.0)


def test_threshold_sits_midway_to_the_next_lower_score() -> None:
    scores = np.array([[0.9], [0.7], [0.5], [0.1]])
    labels = np.array([[1], [1], [0], [0]])
    assert calibrate_thresholds(scores, labels)[0] == pytest.approx(0.6)  # between 0.7 and 0.5, not 0.1


def test_a_threshold_between_adjacent_floats_still_excludes_the_lower_score() -> None:
    """The midpoint of 0.5 and the next float above rounds to 0.5 itself: the upper score is used instead."""
    hi = np.nextafter(0.5, 1.0)
    scores = np.array([[hi], [0.5], [0.1]])
    labels = np.array([[1], [0], [0]])
    thr = calibrate_thresholds(scores, labels)[0]
    assert thr == hi
    assert (scores[:, 0] >= thr).tolist() == [True, False, False]
    assert precision_recall_f1(scores, labels, thr)["cf1"] == pytest.approx(100.0)
