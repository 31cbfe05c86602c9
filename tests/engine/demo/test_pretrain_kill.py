"""Demo CLIP pretraining killed with SIGKILL at a file write resumes to exactly the uninterrupted artifact."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from safetensors import safe_open

from engine.demo import pretrain
from engine.demo.pretrain import PretrainConfig, pretrain_demo_clip
from tests.sigkill import dying_at_commit, run_child

ARTIFACT = ("model.safetensors", "open_clip_config.json", "recipe.json", "quality.json")
# every committed write of a tiny run, in order: the corpus chunk, stage 1's and stage 2's checkpoint and progress
# sidecar after each of their two steps, then the artifact's four files
WRITES = ["chunk_0000000_0000016.npz", *["checkpoint.safetensors", "progress.json"] * 4, *ARTIFACT]
# the child: pretrains with os.replace (as called by engine.demo.pretrain) killing the process with SIGKILL just
# before or just after the Nth commit
CHILD = dying_at_commit("engine.demo.pretrain") + """
import json
from engine.demo import pretrain
pretrain.pretrain_demo_clip(pretrain.PretrainConfig(**json.loads(sys.argv[3])))
"""


def _settings(root: Path) -> dict:
    return dict(corpus_size=16, steps=2, batch_size=8, warmup_steps=1, scale_ramp_steps=1, refine_steps=2,
                refine_warmup_steps=1, checkpoint_every=1, val_every=0, n_eval=10, n_probe=10, eval_split="val",
                threads=1, render_processes=1, out_dir=str(root / "out"), work_dir=str(root / "work"))


def _content(path: Path) -> object:
    """A file's content; a safetensors file as its metadata and tensors (its header's key order may vary)."""
    if path.suffix != ".safetensors":
        return path.read_bytes()
    with safe_open(str(path), "pt") as f:
        return f.metadata(), {k: f.get_tensor(k).numpy().tobytes() for k in sorted(f.keys())}


def _files(root: Path) -> dict[str, object]:
    return {str(p.relative_to(root)): _content(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("straight")
    committed: list[str] = []
    real = os.replace

    def counting(src, dst):  # type: ignore[no-untyped-def]
        committed.append(Path(dst).name)
        real(src, dst)

    pretrain.os.replace = counting  # type: ignore[assignment]
    try:
        result = pretrain_demo_clip(PretrainConfig(**_settings(root)))
    finally:
        pretrain.os.replace = real  # type: ignore[assignment]
    assert committed == WRITES and result.steps == 4 and result.resumed_from == 0
    return _files(root)


def _step(checkpoint: Path) -> int:
    with safe_open(str(checkpoint), "pt") as f:
        return int(f.metadata()["step"])


def _left_by_the_kill(root: Path, kill_at: int) -> None:
    """What the killed run leaves: only whole files under their final names; the uncommitted write as a temp file."""
    work, out = root / "work", root / "out"
    stage1 = next(work.glob("*/checkpoint.safetensors"), None)
    if kill_at == 1:  # the corpus chunk was written but not committed: a rerun renders it again
        assert [p.name for p in work.rglob("*") if p.is_file()] == [".chunk_0000000.tmp.npz"]
        assert not out.exists()
    elif kill_at == 2:  # stage 1's first checkpoint is committed (weights and optimiser), its sidecar not yet
        assert stage1 is not None and _step(stage1) == 1
        assert sorted(p.name for p in stage1.parent.iterdir()) == ["checkpoint.safetensors"]
        assert not out.exists()
    else:  # half of the artifact's files are in place, each complete; the rest wait in the temp folder
        assert sorted(p.name for p in out.iterdir()) == ["model.safetensors", "open_clip_config.json"]
        assert pretrain.load_demo_clip(out) is not None and json.loads((out / "open_clip_config.json").read_text())
        assert sorted(p.name for p in (root / ".out.tmp").iterdir()) == ["quality.json", "recipe.json"]


@pytest.mark.parametrize(("kill_at", "when", "resumed_from"), [(1, "before", 0), (2, "after", 1), (11, "after", 4)],
                         ids=["chunk-uncommitted", "mid-stage-1-checkpoint-without-sidecar", "half-the-artifact"])
def test_a_killed_pretraining_resumes_to_the_uninterrupted_artifact(tmp_path: Path, uninterrupted: dict[str, object],
                                                                    kill_at: int, when: str, resumed_from: int) -> None:
    settings = _settings(tmp_path)
    child = run_child(CHILD, kill_at, when, json.dumps(settings))
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    _left_by_the_kill(tmp_path, kill_at)

    result = pretrain_demo_clip(PretrainConfig(**settings))
    assert (result.steps, result.resumed_from) == (4, resumed_from)
    files = _files(tmp_path)
    assert sorted(files) == sorted(uninterrupted)  # no temp file or folder left, nothing missing
    varying = {"out/recipe.json"} | {k for k in files if k.endswith("progress.json")}  # timings of this run
    assert {k: v for k, v in files.items() if k not in varying} == \
        {k: v for k, v in uninterrupted.items() if k not in varying}  # weights, quality, checkpoints, corpus
    recipe, straight = (json.loads(f["out/recipe.json"]) for f in (files, uninterrupted))  # type: ignore[arg-type]
    assert recipe.pop("run")["resumed_from_step"] == resumed_from and straight.pop("run")["resumed_from_step"] == 0
    assert recipe == straight
