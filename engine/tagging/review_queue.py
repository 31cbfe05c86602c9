"""The review queue's order: photos whose decision would teach the model most, near-duplicates spread out."""

from __future__ import annotations

import numpy as np

UNCERTAIN_WIDTH = 0.25  # a label counts as uncertain while its probability is within this of its threshold
DIVERSITY = 0.5  # how strongly a photo like one already queued is pushed back (0: pure uncertainty order)


def informativeness(probs: np.ndarray, thresholds: np.ndarray, width: float = UNCERTAIN_WIDTH) -> np.ndarray:
    """Per photo, the sum over labels of max(0, 1 - |p - t| / width): many labels near their thresholds rank first."""
    distance = np.abs(np.asarray(probs, np.float64) - np.asarray(thresholds, np.float64)[None, :])
    return np.clip(1.0 - distance / width, 0.0, None).sum(axis=1)


def queue_order(
    probs: np.ndarray, thresholds: np.ndarray, count: int | None = None, *, diversity: float = DIVERSITY
) -> list[int]:
    """Row indices of the `count` photos to review first (all when None).

    Greedy: each pick maximises informativeness x (1 - diversity x its highest cosine similarity, over the
    photos' probability-minus-threshold vectors, to a photo already picked), so ten near-identical photos
    do not fill the queue. Ties keep row order (stable).
    """
    probs = np.asarray(probs, np.float64)
    n = len(probs)
    count = n if count is None else min(int(count), n)
    if n == 0 or count <= 0:
        return []
    value = informativeness(probs, thresholds)
    centred = probs - np.asarray(thresholds, np.float64)[None, :]
    unit = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)
    closest = np.zeros(n)
    taken = np.zeros(n, bool)
    order: list[int] = []
    for _ in range(count):
        gain = np.where(taken, -np.inf, value * (1.0 - diversity * closest))
        pick = int(np.argmax(gain))
        order.append(pick)
        taken[pick] = True
        closest = np.maximum(closest, np.clip(unit @ unit[pick], 0.0, 1.0))
    return order
