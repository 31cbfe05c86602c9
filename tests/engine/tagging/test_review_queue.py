"""The review queue: labels near their thresholds first, near-duplicates pushed back."""

from __future__ import annotations

import numpy as np

from engine.tagging.review_queue import informativeness, queue_order


def test_photos_near_their_thresholds_come_first() -> None:
    thresholds = np.array([0.5, 0.5])
    probs = np.array([[0.99, 0.01], [0.52, 0.48], [0.6, 0.02], [0.95, 0.45]])
    assert informativeness(probs, thresholds).argmax() == 1
    assert queue_order(probs, thresholds, diversity=0.0) == [1, 3, 2, 0]


def test_near_duplicates_are_spread_out() -> None:
    thresholds = np.array([0.5, 0.5, 0.5])
    dup = [0.55, 0.45, 0.1]
    probs = np.array([dup, dup, dup, [0.1, 0.42, 0.6]])
    assert queue_order(probs, thresholds, 2, diversity=0.0) == [0, 1]
    assert queue_order(probs, thresholds, 2) == [0, 3]  # the second copy waits behind a different photo
    assert queue_order(probs[:0], thresholds) == []
