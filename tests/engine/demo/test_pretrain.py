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
                          refine_steps=4, refine_warmup_steps=1, checkpoint_every=2, val_every=0, n_eval=30,
                          n_probe=30, eval_split="val",
                          out_dir=str(tmp / name / "out"), work_dir=str(tmp / name / "work"))


@pytest.mark.parametrize("stop_after", [2, 6], ids=["in-stage-1", "in-stage-2"])
def test_interrupted_pretraining_resumes_to_identical_weights(tmp_path: Path, stop_after: int) -> None:
    full = pretrain_demo_clip(_cfg(tmp_path, "a"))
    assert full.steps == 8 and full.resumed_from == 0
    out = Path(full.out_dir)
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "open_clip_config.json", "recipe.json",
                                                "quality.json"}
    recipe = json.loads((out / "recipe.json").read_text())
    assert recipe["tokenizer"] == "demo-words" and recipe["parameters"] > 100_000
    assert set(json.loads((out / "quality.json").read_text())["gates"]) == {
        "zero_shot_map", "linear_probe_map", "gap_margin", "centroid_distance"}

    cancel = CancelToken()

    def stop(event: ProgressEvent) -> None:
        if event.stage == "pretrain" and event.done >= stop_after:
            cancel.set()

    cfg_b = _cfg(tmp_path, "b")
    with pytest.raises(Cancelled):
        pretrain_demo_clip(cfg_b, progress=stop, cancel=cancel)
    resumed = pretrain_demo_clip(cfg_b)
    assert resumed.resumed_from == stop_after
    a = load_file(str(out / "model.safetensors"))
    b = load_file(str(Path(resumed.out_dir) / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a)


def test_stage_two_changes_the_weights_and_shares_stage_one(tmp_path: Path) -> None:
    one = _cfg(tmp_path, "c").replace(refine_steps=0)
    two = _cfg(tmp_path, "c").replace(out_dir=str(tmp_path / "c" / "out2"), val_every=2, n_val=20)
    assert one.stage1_key() == two.stage1_key() and one.training_key() != two.training_key()
    pretrain_demo_clip(one)
    result = pretrain_demo_clip(two)
    assert result.resumed_from == 4  # stage 1 came from the first run's checkpoint
    a = load_file(str(Path(one.out_dir) / "model.safetensors"))
    b = load_file(str(Path(two.out_dir) / "model.safetensors"))
    assert any(not (a[k] == b[k]).all() for k in a)
    curve = json.loads((Path(two.out_dir) / "recipe.json").read_text())["run"]["val_curve"]
    assert [(p["stage"], p["step"]) for p in curve] == [("stage 2", 6), ("stage 2", 8)]


def test_partial_scene_keeps_a_non_empty_proper_subset() -> None:
    import numpy as np

    from engine.demo import world

    rng = np.random.default_rng(0)
    scenes = [world.sample_scene(rng, 0.0) for _ in range(200)]
    parts = [world.partial_scene(s, rng, 1.0) for s in scenes]
    for scene, part in zip(scenes, parts, strict=True):
        if len(scene.objects) == 1:
            assert part is scene
        else:
            assert 1 <= len(part.objects) < len(scene.objects)
            assert set(part.objects) <= set(scene.objects)
    assert all(world.partial_scene(s, rng, 0.0) is s for s in scenes)


def test_a_head_shared_in_stage_one_splits_when_stage_two_does_not_share(tmp_path: Path) -> None:
    from safetensors import safe_open

    cfg = _cfg(tmp_path, "d").replace(aux_shared_head=True, refine_shared_head=False)
    pretrain_demo_clip(cfg)
    work = Path(cfg.work_dir) / cfg.stage1_key()
    with safe_open(str(work / "checkpoint.safetensors"), "pt") as f:
        assert not any(k.startswith("head_txt.") for k in f.keys())  # noqa: SIM118 - stored once, as head_img
    with safe_open(str(work / f"refine-{cfg.training_key()}" / "checkpoint.safetensors"), "pt") as f:
        img, txt = f.get_tensor("head_img.weight"), f.get_tensor("head_txt.weight")
    assert not (img == txt).all()  # the text tower's head trained on its own in stage 2
