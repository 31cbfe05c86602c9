"""The train job end to end on tiny files: cached features reused, model folder written, save -> load exact."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from engine.artifact import ModelArtifact
from engine.clip.config import ModelConfig
from engine.datasets.csv_sets import from_csv
from engine.errors import ArtifactError
from engine.imaging import preprocess_batch
from engine.labels.labelset import LabelSet
from engine.training.config import TrainConfig
from engine.training.features import FeatureCache, file_key
from engine.training.job import train_model

COLORS = {"red": (230, 30, 30), "green": (30, 200, 40), "blue": (40, 60, 230)}


def _write_set(root, n=24, seed=0):
    rng = np.random.default_rng(seed)
    names = list(COLORS)
    (root / "img").mkdir(parents=True, exist_ok=True)
    rows_img, rows_cap = ["path,labels,group"], ["caption,labels,group"]
    for i in range(n):
        idx = sorted(rng.choice(3, size=int(rng.integers(1, 3)), replace=False))
        arr = np.full((64, 64, 3), 128, np.uint8)
        for j, c in enumerate(idx):
            arr[:, j * 32 : (j + 1) * 32] = COLORS[names[c]]
        Image.fromarray(arr).save(root / "img" / f"{i}.png")
        labels = ";".join(names[c] for c in idx)
        rows_img.append(f"img/{i}.png,{labels},g{i}")
        rows_cap.append(f"a {' and a '.join(names[c] for c in idx)} thing,{labels},g{i}")
    (root / "images.csv").write_text("\n".join(rows_img) + "\n")
    (root / "captions.csv").write_text("\n".join(rows_cap) + "\n")
    return from_csv(LabelSet.from_names(names), root / "captions.csv", root / "images.csv")


def test_job_writes_a_model_that_reloads_to_identical_scores(tiny_backbone_cfg, tiny_backbone, tmp_path):
    ds = _write_set(tmp_path)
    out = tmp_path / "models" / "m1"
    result = train_model(ds, out, backbone_cfg=tiny_backbone_cfg, model_cfg=ModelConfig(n_ctx=4),
                         train_cfg=TrainConfig(epochs=2, batch_size=8, lr=0.01, heldout_fraction=0.25),
                         cache_dir=tmp_path / "cache", device="cpu", backbone=tiny_backbone)
    assert (out / "config.json").is_file() and not (tmp_path / "models" / "m1.checkpoints").exists()
    art = ModelArtifact.from_pretrained(out)
    assert art.labels == list(COLORS) and len(art.thresholds) == 3
    assert json.loads((out / "config.json").read_text())["summary"]["best_epoch"] == result.best_epoch
    x = torch.from_numpy(preprocess_batch(ds.image_paths[:4], art.preprocess_spec))
    reloaded = art.load_model(backbone=tiny_backbone)
    module = art.tagger_module(backbone=tiny_backbone)
    scores, heat = module(x)
    torch.testing.assert_close(scores, reloaded(x).merged, atol=1e-5, rtol=1e-5)
    assert heat.shape == (4, 3, *tiny_backbone.grid)


def test_feature_cache_is_reused_across_runs(tiny_backbone, tmp_path):
    ds = _write_set(tmp_path, n=6)
    events = []
    cache = FeatureCache(tmp_path / "cache", tiny_backbone)
    first = cache.image_features(ds.image_paths, progress=events.append)
    unique = {file_key(p) for p in ds.image_paths}  # identical files share one cache entry
    assert events and events[-1].total == len(unique) and first.g.shape[0] == 6
    events.clear()
    second = FeatureCache(tmp_path / "cache", tiny_backbone).image_features(ds.image_paths, progress=events.append)
    assert all(e.total == 0 for e in events)  # nothing recomputed
    torch.testing.assert_close(first.local, second.local)
    half = FeatureCache(tmp_path / "cache", tiny_backbone, fp16=True).image_features(ds.image_paths[:2])
    assert half.g.dtype == torch.float16


def test_split_keeps_a_caption_and_its_renders_together(tmp_path):
    ds = _write_set(tmp_path, n=40)
    train, held = ds.split(0.3, seed=1)
    assert 0 < len(held.captions) < 40
    assert set(held.caption_groups) == set(held.image_groups)
    assert not set(train.image_groups) & set(held.image_groups)


def test_damaged_or_foreign_model_folders_are_refused(tiny_backbone_cfg, tiny_backbone, tmp_path):
    ds = _write_set(tmp_path, n=8)
    out = tmp_path / "m"
    train_model(ds, out, backbone_cfg=tiny_backbone_cfg, model_cfg=ModelConfig(variant="zeroshot"),
                train_cfg=TrainConfig(epochs=1), cache_dir=tmp_path / "c", device="cpu", backbone=tiny_backbone)
    with open(out / "weights.safetensors", "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(ArtifactError, match="checksum"):
        ModelArtifact.from_pretrained(out)
    (out / "labels.json").unlink()
    with pytest.raises(ArtifactError, match="labels.json is missing"):
        ModelArtifact.from_pretrained(out)


def test_text_only_variants_are_calibrated_on_heldout_images_not_captions(tiny_backbone_cfg, tiny_backbone,
                                                                           tmp_path):
    from engine.evaluation.calibration import Calibration, sigmoid

    ds = _write_set(tmp_path)
    out = tmp_path / "models" / "zs"
    result = train_model(ds, out, backbone_cfg=tiny_backbone_cfg, model_cfg=ModelConfig(variant="taidpt_csc", n_ctx=2),
                         train_cfg=TrainConfig(epochs=1, batch_size=8, heldout_fraction=0.25),
                         cache_dir=tmp_path / "cache", device="cpu", backbone=tiny_backbone)
    assert result.heldout_branch == "text"  # selection may use captions ...
    cal = Calibration.from_dict(json.loads((out / "config.json").read_text())["calibration"], 3)
    assert cal is not None and cal.fitted and cal.fitted_on == "heldout_images"  # ... calibration never does
    _, heldout = ds.split(0.25, TrainConfig().seed)
    assert cal.n_images == len(heldout.image_paths) > 0 and len(cal.priors) == 3 and all(a > 0 for a in cal.a)
    art = ModelArtifact.from_pretrained(out)
    x = torch.from_numpy(preprocess_batch(heldout.image_paths, art.preprocess_spec))
    scores = art.tagger_module(backbone=tiny_backbone)(x)[0].detach().numpy()
    raw_thr = np.asarray(art.thresholds)  # the raw max-F1 thresholds sit on the images' score scale
    assert np.all(raw_thr >= scores.min(axis=0) - 1e-6) and np.all(raw_thr <= np.nextafter(scores.max(axis=0), 9))
    probs = sigmoid(scores * np.asarray(cal.a) + np.asarray(cal.b))
    assert probs.shape == scores.shape and np.all((probs > 0) & (probs < 1))
