"""Demo CLIP pretraining: a tiny run writes the artifact, and an interrupted run resumes to the same weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from engine.demo.pretrain import PretrainConfig, pretrain_demo_clip
from engine.errors import Cancelled
from engine.progress import CancelToken, ProgressEvent


def _cfg(tmp: Path, name: str) -> PretrainConfig:
    return PretrainConfig(corpus_size=48, steps=4, batch_size=16, warmup_steps=1, scale_ramp_steps=2,
                          checkpoint_every=2, val_every=0, n_eval=30, n_probe=30, eval_split="val",
                          out_dir=str(tmp / name / "out"), work_dir=str(tmp / name / "work"))


def test_interrupted_pretraining_resumes_to_identical_weights(tmp_path: Path) -> None:
    full = pretrain_demo_clip(_cfg(tmp_path, "a"))
    assert full.steps == 4 and full.resumed_from == 0
    out = Path(full.out_dir)
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "open_clip_config.json", "recipe.json",
                                                "quality.json"}
    recipe = json.loads((out / "recipe.json").read_text())
    assert recipe["tokenizer"] == "demo-words" and recipe["parameters"] > 100_000
    assert set(json.loads((out / "quality.json").read_text())["gates"]) == {
        "zero_shot_map", "linear_probe_map", "gap_margin", "centroid_distance"}

    cancel = CancelToken()

    def stop_at_two(event: ProgressEvent) -> None:
        if event.stage == "pretrain" and event.done >= 2:
            cancel.set()

    cfg_b = _cfg(tmp_path, "b")
    with pytest.raises(Cancelled):
        pretrain_demo_clip(cfg_b, progress=stop_at_two, cancel=cancel)
    resumed = pretrain_demo_clip(cfg_b)
    assert resumed.resumed_from == 2
    a = load_file(str(out / "model.safetensors"))
    b = load_file(str(Path(resumed.out_dir) / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a)
