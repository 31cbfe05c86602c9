"""Checkpoint edges: a new nested output folder, a checkpoint before any step, a run key stable across installs."""

from __future__ import annotations

import hashlib
import json

import torch

from engine.clip.config import ModelConfig
from engine.clip.model import T2IPAL
from engine.training import checkpoint
from engine.training.config import TrainConfig

NAMES = ["red", "green", "blue"]


def _model(backbone) -> T2IPAL:  # noqa: ANN001
    return T2IPAL(backbone, NAMES, ModelConfig(n_ctx=2), seed=5)


def _step(model: T2IPAL, opt: torch.optim.Optimizer) -> None:
    opt.zero_grad()
    sum((p * p).sum() for p in model.head_parameters()).backward()
    opt.step()


def test_a_checkpoint_in_a_new_nested_folder_is_written_and_resumed(tiny_backbone, tmp_path) -> None:
    """The output folder of a first training run does not exist yet, nor its parents."""
    model = _model(tiny_backbone)
    opt = torch.optim.SGD(model.head_parameters(), lr=0.1, momentum=0.9)
    _step(model, opt)
    folder = tmp_path / "runs" / "first" / "checkpoints"
    checkpoint.Checkpoints(folder, "key").save(model, opt, checkpoint.LoopState(1, 55.0, 1, [{"map": 55.0}]), True)
    assert sorted(p.name for p in folder.iterdir()) == [checkpoint.STATE_FILE]
    resumed = _model(tiny_backbone)
    opt2 = torch.optim.SGD(resumed.head_parameters(), lr=0.1, momentum=0.9)
    state = checkpoint.Checkpoints(folder, "key").resume(resumed, opt2)
    assert state == checkpoint.LoopState(1, 55.0, 1, [{"map": 55.0}])
    for p, q in zip(model.head_parameters(), resumed.head_parameters(), strict=True):
        assert torch.equal(p, q)


def test_a_checkpoint_written_before_any_step_holds_no_momentum(tiny_backbone, tmp_path) -> None:
    """Saved before the optimizer ever stepped (no state yet): written, and resumed without momentum."""
    model = _model(tiny_backbone)
    opt = torch.optim.SGD(model.head_parameters(), lr=0.1, momentum=0.9)
    checkpoint.Checkpoints(tmp_path, "key").save(model, opt, checkpoint.LoopState(), improved=False)
    resumed = _model(tiny_backbone)
    opt2 = torch.optim.SGD(resumed.head_parameters(), lr=0.1, momentum=0.9)
    loader = checkpoint.Checkpoints(tmp_path, "key")
    assert loader.resume(resumed, opt2) == checkpoint.LoopState(0, -1.0, 0, [])
    assert all("momentum_buffer" not in opt2.state[p] for p in resumed.head_parameters())
    before = [p.clone() for p in resumed.head_parameters()]
    _step(resumed, opt2)  # the first step after the resume is a plain SGD step: p - lr * 2p
    for p, b in zip(resumed.head_parameters(), before, strict=True):
        torch.testing.assert_close(p, b - 0.1 * 2 * b)


class _Reordered:
    """A training config whose fields come out in another order (as after a refactor of the dataclass)."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg

    def to_dict(self) -> dict:
        return dict(reversed(list(self.cfg.to_dict().items())))


def test_the_run_key_is_stable_across_installs(tiny_backbone) -> None:
    """The key is stored in the checkpoint: it must not depend on field order, and keeps its 16 hex digits,
    so a checkpoint written by an earlier install of the same setup still resumes."""
    model = _model(tiny_backbone)
    cfg = TrainConfig(epochs=4, batch_size=32, lr=0.01, warmup_epochs=1, seed=3)
    key = checkpoint.run_key(model, cfg, [96, 96])
    assert checkpoint.run_key(model, _Reordered(cfg), [96, 96]) == key  # type: ignore[arg-type]
    blob = json.dumps([model.cfg.to_dict(), cfg.to_dict(), NAMES, [96, 96]], sort_keys=True)
    assert key == hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]
    assert len(key) == 16 and int(key, 16) >= 0
