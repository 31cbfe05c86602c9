"""AP/mAP against scikit-learn, CF1/OF1 by hand, top-k, and threshold calibration."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from engine.errors import InputError
from engine.evaluation.metrics import (
    average_precision,
    calibrate_thresholds,
    evaluate_scores,
    mean_average_precision,
    precision_recall_f1,
)


def test_ap_matches_sklearn_without_ties() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(200, 7))  # continuous: no ties
    labels = (rng.random((200, 7)) < 0.3).astype(np.int64)
    labels[rng.random((200, 7)) < 0.1] = -1  # -1 (and 0) are negatives
    ap = average_precision(scores, labels)
    expected = [average_precision_score(labels[:, k] == 1, scores[:, k]) for k in range(7)]
    np.testing.assert_allclose(ap, expected, rtol=1e-6)
    assert mean_average_precision(scores, labels) == pytest.approx(100 * np.mean(expected), rel=1e-6)


def test_ap_hand_example_and_no_positive_class() -> None:
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    labels = np.array([[1, 0], [0, 0], [1, 0]])
    ap = average_precision(scores, labels)
    assert ap[0] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert ap[1] == 0.0  # no positives -> AP 0, counted in the mean
    assert mean_average_precision(scores, labels) == pytest.approx(100 * (5 / 6) / 2)


def test_a_tie_is_one_threshold_as_in_sklearn_whatever_the_order() -> None:
    scores = np.array([[0.5], [0.5]])
    assert average_precision(scores, np.array([[1], [0]]))[0] == pytest.approx(0.5)  # positive first
    assert average_precision(scores, np.array([[0], [1]]))[0] == pytest.approx(0.5)  # positive second
    assert average_precision_score([0, 1], [0.5, 0.5]) == pytest.approx(0.5)


def test_heavily_tied_scores_match_sklearn_and_ignore_the_image_order() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, size=(60, 8)).astype(np.float64)  # four score levels: ties everywhere
    labels = rng.integers(0, 2, size=(60, 8))
    labels[0, :] = 1  # every class has a positive
    ours = average_precision(scores, labels)
    reference = [average_precision_score(labels[:, k], scores[:, k]) for k in range(8)]
    np.testing.assert_allclose(ours, reference, atol=1e-7)
    for order in (np.arange(60)[::-1], rng.permutation(60)):
        np.testing.assert_allclose(average_precision(scores[order], labels[order]), ours, atol=1e-12)


def test_all_equal_scores_give_the_positive_rate() -> None:
    labels = np.array([[1, 0], [0, 1], [1, 1], [0, 1], [0, 1]])
    ours = average_precision(np.full((5, 2), 0.3), labels)
    np.testing.assert_allclose(ours, [2 / 5, 4 / 5], atol=1e-7)
    np.testing.assert_allclose(ours, [average_precision_score(labels[:, k], np.full(5, 0.3)) for k in (0, 1)],
                               atol=1e-7)


def test_a_class_without_positives_scores_zero_with_or_without_ties() -> None:
    labels = np.array([[1, 0], [0, 0], [1, 0]])
    for scores in (np.array([[0.9, 0.2], [0.1, 0.2], [0.5, 0.2]]), np.array([[0.9, 0.1], [0.1, 0.2], [0.5, 0.3]])):
        ap = average_precision(scores, labels)
        assert ap[1] == 0.0
        assert ap[0] == pytest.approx(average_precision_score(labels[:, 0], scores[:, 0]))
    with pytest.warns(UserWarning):  # scikit-learn agrees (and warns)
        assert average_precision_score(labels[:, 1], scores[:, 1]) == 0.0


def test_cf1_of1_hand_computed() -> None:
    scores = np.array([[0.9, 0.8, 0.1], [0.2, 0.7, 0.6], [0.6, 0.1, 0.3], [0.4, 0.9, 0.2]])
    labels = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0], [1, 0, 0]])
    m = precision_recall_f1(scores, labels, thresholds=0.5)
    # class 0: pred {0,2}, Nc 2, Np 2, Ng 3; class 1: pred {0,1,3}, Nc 2, Np 3, Ng 2; class 2: pred {1}, 1, 1, 1
    cp, cr = (1 + 2 / 3 + 1) / 3, (2 / 3 + 1 + 1) / 3
    op, or_ = 5 / 6, 5 / 6
    assert m["cp"] == pytest.approx(100 * cp)
    assert m["cr"] == pytest.approx(100 * cr)
    assert m["cf1"] == pytest.approx(100 * 2 * cp * cr / (cp + cr))
    assert m["op"] == pytest.approx(100 * op)
    assert m["or_"] == pytest.approx(100 * or_)
    assert m["of1"] == pytest.approx(100 * op)
    per_class = precision_recall_f1(scores, labels, thresholds=np.array([0.5, 0.75, 0.5]))
    assert per_class["op"] == pytest.approx(100 * 4 / 5)  # class 1 now predicts images 0 (right) and 3 (wrong)


def test_topk_keeps_k_best_per_image() -> None:
    scores = np.array([[0.9, 0.8, 0.7], [0.6, 0.95, 0.1]])
    labels = np.array([[0, 0, 1], [1, 1, 0]])
    m = precision_recall_f1(scores, labels, thresholds=0.5, topk=1)
    # top-1 predictions: image 0 -> class 0 (wrong), image 1 -> class 1 (right); 3 positives in all.
    # Class 2 predicts nothing; its Np = 0 counts as 1 in sum(Np), as in the reference: OP = 1 / 3.
    assert m["op"] == pytest.approx(100 / 3)
    assert m["or_"] == pytest.approx(100 / 3)
    assert m["cp"] == pytest.approx(100 * (0 + 1 + 0) / 3)
    assert m["cr"] == pytest.approx(100 * (0 + 1 + 0) / 3)
    # top-k still needs the threshold: with 0.99 nothing is predicted
    assert precision_recall_f1(scores, labels, thresholds=0.99, topk=3)["op"] == 0.0
    with pytest.raises(InputError):
        precision_recall_f1(scores, labels, topk=0)


def test_calibration_beats_fixed_threshold_on_held_out() -> None:
    rng = np.random.default_rng(1)
    n, c = 400, 5
    labels = (rng.random((n, c)) < 0.2).astype(np.int64)
    offsets = np.array([0.3, 0.5, 0.7, 0.2, 0.6])  # each class lives on its own score scale
    scores = offsets + 0.1 * labels + 0.05 * rng.normal(size=(n, c))
    thr = calibrate_thresholds(scores[:200], labels[:200])
    assert thr.shape == (c,)
    tuned = precision_recall_f1(scores[200:], labels[200:], thresholds=thr)["cf1"]
    fixed = precision_recall_f1(scores[200:], labels[200:], thresholds=0.5)["cf1"]
    assert tuned > fixed + 20


def test_calibration_edge_cases() -> None:
    scores = np.array([[0.9, 0.4, 0.5], [0.1, 0.4, 0.2], [0.5, 0.4, 0.3]])
    labels = np.array([[1, 1, 0], [0, 1, 0], [1, 1, 0]])
    thr = calibrate_thresholds(scores, labels)
    assert thr[0] == pytest.approx(0.3)  # midpoint between 0.5 and 0.1
    assert thr[1] == pytest.approx(0.4)  # all tied, all positive -> lowest score
    assert thr[2] > 0.5 and np.isfinite(thr[2])  # no positives -> just above the max, predicts nothing
    assert not (scores[:, 2] >= thr[2]).any()


def test_evaluate_scores_report() -> None:
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(30, 4))
    labels = (rng.random((30, 4)) < 0.4).astype(np.uint8)
    report = evaluate_scores(scores, labels, ["a", "b", "c", "d"], thresholds=0.0, topk=2)
    assert report.map == pytest.approx(mean_average_precision(scores, labels))
    assert list(report.per_class_ap) == ["a", "b", "c", "d"]
    top = precision_recall_f1(scores, labels, 0.0, topk=2)
    assert report.topk_of1 == pytest.approx(top["of1"]) and report.topk_or == pytest.approx(top["or_"])
    d = report.to_dict()
    assert d["topk"] == 2 and d["n_images"] == 30 and set(d["per_class_ap"]) == {"a", "b", "c", "d"}
    table = report.format_table()
    assert f"{report.map:6.2f}" in table and "top-2" in table and "OF1" in table
    with pytest.raises(InputError):
        evaluate_scores(scores, labels, ["a", "b", "c"])
    with pytest.raises(InputError):
        evaluate_scores(scores[:, :3], labels, ["a", "b", "c"])
    with pytest.raises(InputError):
        evaluate_scores(scores, labels, ["a", "b", "c", "d"], thresholds=np.zeros(3))


def test_class_without_positives_in_cr_and_or() -> None:
    scores = np.array([[0.9, 0.8], [0.2, 0.7]])
    labels = np.array([[1, 0], [1, 0]])
    m = precision_recall_f1(scores, labels, thresholds=0.5)
    assert m["cr"] == pytest.approx(100 * (1 / 2 + 0) / 2)  # class 1 (no positives) adds recall 0, not NaN
    assert m["or_"] == pytest.approx(100 * 1 / 2)  # sum Ng uses the real counts (2 + 0)
    assert m["op"] == pytest.approx(100 * 1 / 3)


def test_bad_inputs_are_refused_with_a_message_that_says_what_is_wrong() -> None:
    with pytest.raises(InputError, match=r"at least one image and one class; got scores of shape \(0, 2\)"):
        average_precision(np.zeros((0, 2)), np.zeros((0, 2)))
    with pytest.raises(InputError, match="must both be"):
        average_precision(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(InputError, match="NaN or infinite"):
        average_precision(np.array([[np.nan]]), np.array([[1]]))
    with pytest.raises(InputError, match="topk must be at least 1; got 0"):
        precision_recall_f1(np.zeros((2, 2)), np.zeros((2, 2)), topk=0)


def test_the_table_shows_every_column_and_each_class() -> None:
    report = evaluate_scores(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([[1, 0], [0, 1]]), ["dog", "house cat"],
                             thresholds=0.5, topk=1)
    lines = report.format_table().splitlines()
    assert lines[0] == "mAP 100.00   (2 images, 2 classes)"
    assert lines[1].split() == ["CP", "CR", "CF1", "OP", "OR", "OF1"]
    assert lines[2].split() == ["all"] + ["100.00"] * 6 and lines[3].split() == ["top-1"] + ["100.00"] * 6
    assert lines[-2:] == ["dog        100.00", "house cat  100.00"]


def test_low_precision_and_recall_still_give_their_f1() -> None:
    scores = np.array([[0.9], [0.8], [0.7], [0.6], [0.1], [0.1], [0.1], [0.1]])
    labels = np.array([[1], [0], [0], [0], [1], [1], [1], [0]])
    m = precision_recall_f1(scores, labels, thresholds=0.5)  # P = 1/4, R = 1/4: F1 = 1/4, not 0
    assert m["cf1"] == pytest.approx(25.0) and m["of1"] == pytest.approx(25.0)


def test_calibration_with_one_positive_and_with_ties() -> None:
    scores = np.array([[0.9, 0.9], [0.5, 0.5], [0.5, 0.5], [0.1, 0.1]])
    labels = np.array([[0, 1], [1, 1], [0, 0], [0, 0]])
    thr = calibrate_thresholds(scores, labels)
    assert thr[0] == pytest.approx(0.3)  # one positive is enough to place a threshold (the tie is kept whole)
    assert thr[1] == pytest.approx(0.3)  # a threshold never splits the tied 0.5s, even if that would score more


def test_top_k_also_applies_the_thresholds_and_names_bad_class_lists() -> None:
    scores = np.array([[0.9, 0.4], [0.3, 0.2]])
    labels = np.array([[1, 0], [0, 1]])
    report = evaluate_scores(scores, labels, ["a", "b"], thresholds=0.5, topk=1)
    assert report.topk_cp == pytest.approx(50.0) and report.topk_op == pytest.approx(50.0)  # 0.3 is under 0.5
    with pytest.raises(InputError, match="3 class names for 2 score columns"):
        evaluate_scores(scores, labels, ["a", "b", "c"])


def test_top_k_ties_keep_the_lower_class_index_with_many_classes() -> None:
    scores = np.array([[2, 1, 0, 0, 2, 3, 2, 2, 2, 3, 2, 0, 3, 0, 2, 1, 3]], float) / 3  # 17 classes, many ties
    labels = np.zeros_like(scores, dtype=int)
    labels[0, [5, 9, 12, 16, 0]] = 1  # the four 1.0s, then the first of the tied 2/3s
    m = precision_recall_f1(scores, labels, thresholds=0.0, topk=5)
    assert m["or_"] == pytest.approx(100.0)  # exactly the five labelled classes are predicted
