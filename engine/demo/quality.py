"""Quality gates of the demo CLIP: zero-shot mAP, linear probe, and the CLIP-like modality gap."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine.demo import world
from engine.errors import DependencyMissing
from engine.evaluation.metrics import mean_average_precision  # the one mAP of the project (METHOD.md §6)

log = logging.getLogger(__name__)

GATE_ZERO_SHOT_MAP = 40.0
GATE_LINEAR_PROBE_MAP = 85.0
GATE_GAP_MARGIN = 0.05  # mean image-image cosine minus mean matched image-text cosine
GATE_CENTROID_DISTANCE = 0.6
PROMPT = "a photo of a {}."
PROBE_C_GRID = (0.1, 1.0, 10.0)


@dataclass(frozen=True)
class QualityReport:
    zero_shot_map: float
    linear_probe_map: float
    probe_c: float
    image_image_cos: float
    text_text_cos: float
    matched_image_text_cos: float
    unmatched_image_text_cos: float
    centroid_distance: float
    n_test: int
    n_probe: int
    split: str
    style: float

    @property
    def gap_margin(self) -> float:
        return self.image_image_cos - self.matched_image_text_cos

    def gates(self) -> dict[str, bool]:
        return {
            "zero_shot_map": self.zero_shot_map >= GATE_ZERO_SHOT_MAP,
            "linear_probe_map": self.linear_probe_map >= GATE_LINEAR_PROBE_MAP,
            "gap_margin": self.gap_margin >= GATE_GAP_MARGIN,
            "centroid_distance": self.centroid_distance >= GATE_CENTROID_DISTANCE,
        }

    @property
    def passed(self) -> bool:
        return all(self.gates().values())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["gap_margin"] = self.gap_margin
        out["gates"] = self.gates()
        out["thresholds"] = {
            "zero_shot_map": GATE_ZERO_SHOT_MAP,
            "linear_probe_map": GATE_LINEAR_PROBE_MAP,
            "gap_margin": GATE_GAP_MARGIN,
            "centroid_distance": GATE_CENTROID_DISTANCE,
        }
        out["passed"] = self.passed
        return out

    def lines(self) -> list[str]:
        g = self.gates()

        def mark(key: str) -> str:
            return "pass" if g[key] else "FAIL"

        return [
            f"quality on {self.n_test} '{self.split}' images (style {self.style}); probe trained on {self.n_probe}",
            f"  zero-shot mAP            {self.zero_shot_map:6.2f}  (gate >= {GATE_ZERO_SHOT_MAP})"
            f"  {mark('zero_shot_map')}",
            f"  linear probe mAP         {self.linear_probe_map:6.2f}  (gate >= {GATE_LINEAR_PROBE_MAP},"
            f" C={self.probe_c})  {mark('linear_probe_map')}",
            f"  image-image cosine       {self.image_image_cos:6.3f}",
            f"  text-text cosine         {self.text_text_cos:6.3f}",
            f"  matched image-text cos   {self.matched_image_text_cos:6.3f}",
            f"  unmatched image-text cos {self.unmatched_image_text_cos:6.3f}",
            f"  gap margin (ii - matched) {self.gap_margin:5.3f}  (gate >= {GATE_GAP_MARGIN})  {mark('gap_margin')}",
            f"  centroid distance        {self.centroid_distance:6.3f}  (gate >= {GATE_CENTROID_DISTANCE})"
            f"  {mark('centroid_distance')}",
        ]


def encode_images(model: Any, images: np.ndarray, spec: Any = None, batch_size: int = 256) -> np.ndarray:
    """uint8 (N, S, S, 3) -> normalised global features (N, D) through `model.encode_image`."""
    import torch

    mean = np.asarray(spec.mean if spec else (0.48145466, 0.4578275, 0.40821073), np.float32)
    std = np.asarray(spec.std if spec else (0.26862954, 0.26130258, 0.27577711), np.float32)
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = (images[start : start + batch_size].astype(np.float32) / 255.0 - mean) / std
            t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
            f = model.encode_image(t).float()
            out.append(torch.nn.functional.normalize(f, dim=-1).numpy())
    return np.concatenate(out)


def encode_texts(model: Any, tokenizer: Any, texts: list[str], batch_size: int = 512) -> np.ndarray:
    import torch

    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            f = model.encode_text(tokenizer(texts[start : start + batch_size])).float()
            out.append(torch.nn.functional.normalize(f, dim=-1).numpy())
    return np.concatenate(out)


def _mean_offdiag_cos(x: np.ndarray) -> float:
    n = len(x)
    s = x.sum(0)
    return float((s @ s - (x * x).sum()) / (n * (n - 1)))


def modality_gap(img: np.ndarray, txt: np.ndarray) -> dict[str, float]:
    """Four mean cosines and the centroid distance of matched (image, caption) feature pairs."""
    n = len(img)
    matched = float((img * txt).sum(1).mean())
    all_pairs = float(img.sum(0) @ txt.sum(0) / (n * n))
    unmatched = (all_pairs * n * n - matched * n) / (n * (n - 1))
    return {
        "image_image_cos": _mean_offdiag_cos(img),
        "text_text_cos": _mean_offdiag_cos(txt),
        "matched_image_text_cos": matched,
        "unmatched_image_text_cos": float(unmatched),
        "centroid_distance": float(np.linalg.norm(img.mean(0) - txt.mean(0))),
    }


def linear_probe(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray) -> tuple[float, Any]:
    """One-vs-rest logistic regression; C chosen on (val_x, val_y). Returns (C, fitted classifier)."""
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
    except ImportError as exc:
        raise DependencyMissing("the demo CLIP's linear-probe gate needs scikit-learn: "
                                "pip install 't2ipal-tagger[demo]' (or scikit-learn==1.9.1)") from exc

    best: tuple[float, float, Any] | None = None
    for c in PROBE_C_GRID:
        clf = OneVsRestClassifier(LogisticRegression(C=c, max_iter=2000)).fit(train_x, train_y)
        score = mean_average_precision(clf.decision_function(val_x), val_y)
        if best is None or score > best[0]:
            best = (score, c, clf)
    assert best is not None  # noqa: S101 - the grid is not empty
    return best[1], best[2]


@dataclass
class EvalSet:
    images: np.ndarray
    labels: np.ndarray
    captions: list[str]


def eval_sets(n_test: int, n_probe: int, *, split: str = "test", seed: int = 0, style: float = world.STYLE_PHOTO,
              processes: int = 1) -> tuple[EvalSet, EvalSet, EvalSet]:
    """(evaluation split, probe training split, probe validation split for C), all photo style and disjoint."""
    ev = EvalSet(*world.render_split(split, n_test, seed=seed, style=style, processes=processes))
    probe = EvalSet(*world.render_split("probe", n_probe, seed=seed, style=style, processes=processes))
    # C is chosen on a slice of the probe stream beyond the training images (never on the evaluated split)
    probe_val = EvalSet(*world.render_split("probe", max(50, n_probe // 4), start=n_probe, seed=seed, style=style))
    return ev, probe, probe_val


def measure_quality(
    model: Any,
    tokenizer: Any,
    *,
    n_test: int = 1000,
    n_probe: int = 2000,
    split: str = "test",
    seed: int = 0,
    style: float = world.STYLE_PHOTO,
    sets: tuple[EvalSet, EvalSet, EvalSet] | None = None,
) -> QualityReport:
    """The four gates on `split` (photo style). `split="val"` is the held-out split used while tuning."""
    ev, probe, probe_val = sets or eval_sets(n_test, n_probe, split=split, seed=seed, style=style)
    was_training = bool(getattr(model, "training", False))
    model.eval()
    try:
        img = encode_images(model, ev.images)
        txt = encode_texts(model, tokenizer, ev.captions)
        cls_txt = encode_texts(model, tokenizer, [PROMPT.format(n) for n in world.CLASS_NAMES])
        zs = mean_average_precision(img @ cls_txt.T, ev.labels)
        c, clf = linear_probe(encode_images(model, probe.images), probe.labels,
                              encode_images(model, probe_val.images), probe_val.labels)
        lp = mean_average_precision(clf.decision_function(img), ev.labels)
    finally:
        model.train(was_training)
    gap = modality_gap(img, txt)
    return QualityReport(
        zero_shot_map=zs,
        linear_probe_map=lp,
        probe_c=c,
        n_test=len(ev.images),
        n_probe=len(probe.images),
        split=split,
        style=float(style),
        **gap,
    )
