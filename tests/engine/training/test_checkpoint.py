"""A training killed at any moment of writing its checkpoint resumes to exactly the uninterrupted weights."""

from __future__ import annotations

import os

import pytest
import torch

from engine.clip.config import ModelConfig
from engine.clip.model import T2IPAL
from engine.training import checkpoint
from engine.training.config import TrainConfig
from engine.training.trainer import fit

from .test_trainer import NAMES, _checksum, _data

CFG = TrainConfig(epochs=4, batch_size=32, lr=0.01, warmup_epochs=1, seed=3)


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs (BaseException, so no handler in the engine catches it)."""


def _model(backbone) -> T2IPAL:  # noqa: ANN001
    return T2IPAL(backbone, NAMES, ModelConfig(n_ctx=2), seed=5)


def _replaces_in_a_run(backbone, data, folder) -> int:  # noqa: ANN001
    calls = 0
    real = os.replace

    def counting(src, dst):  # noqa: ANN001
        nonlocal calls
        calls += 1
        real(src, dst)

    checkpoint.os.replace = counting  # type: ignore[assignment]
    try:
        fit(_model(backbone), data, CFG, checkpoint_dir=folder)
    finally:
        checkpoint.os.replace = real  # type: ignore[assignment]
    return calls


@pytest.mark.parametrize("when", ["before", "after"])
def test_kill_around_every_checkpoint_write_resumes_exactly(tiny_backbone, tmp_path, when: str) -> None:
    data = _data(tiny_backbone.embed_dim)
    straight = _model(tiny_backbone)
    fit(straight, data, CFG, checkpoint_dir=tmp_path / "straight")
    writes = _replaces_in_a_run(tiny_backbone, data, tmp_path / "count")
    assert writes >= CFG.epochs
    real = os.replace
    for k in range(1, writes):
        calls = 0

        def dying(src, dst, k=k):  # noqa: ANN001
            nonlocal calls
            calls += 1
            if calls == k and when == "before":
                raise Killed
            real(src, dst)
            if calls == k:
                raise Killed

        folder = tmp_path / f"{when}-{k}"
        checkpoint.os.replace = dying  # type: ignore[assignment]
        try:
            with pytest.raises(Killed):
                fit(_model(tiny_backbone), data, CFG, checkpoint_dir=folder)
        finally:
            checkpoint.os.replace = real  # type: ignore[assignment]
        resumed = _model(tiny_backbone)
        fit(resumed, data, CFG, checkpoint_dir=folder)
        assert _checksum(resumed) == _checksum(straight), f"killed {when} write {k}"
        for a, b in zip(resumed.head_parameters(), straight.head_parameters(), strict=True):
            assert torch.equal(a, b)


def test_a_checkpoint_of_another_setup_is_not_resumed(tiny_backbone, tmp_path, caplog) -> None:
    """Resuming with other settings, classes or data sizes would silently mix two trainings: it starts over."""
    data = _data(tiny_backbone.embed_dim)
    model = _model(tiny_backbone)
    key = checkpoint.run_key(model, CFG, [96, 96])
    other_keys = {
        checkpoint.run_key(model, TrainConfig(epochs=4, batch_size=32, lr=0.02, warmup_epochs=1, seed=3), [96, 96]),
        checkpoint.run_key(model, CFG, [96, 97]),
        checkpoint.run_key(T2IPAL(tiny_backbone, NAMES[:3], ModelConfig(n_ctx=2), seed=5), CFG, [96, 96]),
        checkpoint.run_key(T2IPAL(tiny_backbone, NAMES, ModelConfig(n_ctx=4), seed=5), CFG, [96, 96]),
    }
    assert key not in other_keys and len(other_keys) == 4
    assert checkpoint.run_key(_model(tiny_backbone), CFG, [96, 96]) == key  # the same setup: the same key
    fit(model, data, CFG, checkpoint_dir=tmp_path / "run")
    fresh = _model(tiny_backbone)
    start = {k: v.clone() for k, v in fresh.head_state_dict().items()}
    opt = torch.optim.SGD(fresh.head_parameters(), lr=0.01, momentum=0.9)
    with caplog.at_level("WARNING", logger="engine.training.checkpoint"):
        assert checkpoint.Checkpoints(tmp_path / "run", next(iter(other_keys))).resume(fresh, opt) is None
    assert caplog.messages == [f"{tmp_path / 'run'} holds an interrupted training of another setup (other data or "
                               "settings); training starts over"]
    assert all(torch.equal(v, start[k]) for k, v in fresh.head_state_dict().items())  # nothing of the other run
    assert not opt.state
    assert (tmp_path / "run" / checkpoint.STATE_FILE).is_file()  # left until the new run's first epoch replaces it


def _step(model: T2IPAL, opt: torch.optim.Optimizer) -> None:
    opt.zero_grad()
    sum((p * p).sum() for p in model.head_parameters()).backward()
    opt.step()


def test_a_resume_restores_the_loop_state_and_the_best_epochs_head(tiny_backbone, tmp_path) -> None:
    """After a resume the run still knows its best epoch, history and weights, so it finishes on the best head."""
    model = _model(tiny_backbone)
    opt = torch.optim.SGD(model.head_parameters(), lr=0.1, momentum=0.9)
    saver = checkpoint.Checkpoints(tmp_path, "key")
    _step(model, opt)
    best_head = {k: v.clone() for k, v in model.head_state_dict().items()}
    history = [{"epoch": 1.0, "map": 70.0}, {"epoch": 2.0, "map": 60.0}]
    saver.save(model, opt, checkpoint.LoopState(1, 70.0, 1, history[:1]), improved=True)
    _step(model, opt)
    last_head = {k: v.clone() for k, v in model.head_state_dict().items()}
    saver.save(model, opt, checkpoint.LoopState(2, 70.0, 1, history), improved=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [checkpoint.STATE_FILE]

    resumed = _model(tiny_backbone)
    opt2 = torch.optim.SGD(resumed.head_parameters(), lr=0.1, momentum=0.9)
    loader = checkpoint.Checkpoints(tmp_path, "key")
    assert loader.resume(resumed, opt2) == checkpoint.LoopState(2, 70.0, 1, history)
    for k, v in resumed.head_state_dict().items():
        assert torch.equal(v, last_head[k])
    loader.load_best(resumed)
    for k, v in resumed.head_state_dict().items():
        assert torch.equal(v, best_head[k]), k
    for p, q in zip(model.head_parameters(), resumed.head_parameters(), strict=True):
        assert torch.equal(opt.state[p]["momentum_buffer"], opt2.state[q]["momentum_buffer"])


def test_no_checkpoint_an_old_one_or_a_foreign_file(tiny_backbone, tmp_path, caplog) -> None:
    model = _model(tiny_backbone)
    opt = torch.optim.SGD(model.head_parameters(), lr=0.1, momentum=0.9)
    assert checkpoint.Checkpoints(tmp_path / "none", "key").resume(model, opt) is None
    old = tmp_path / "old"
    old.mkdir()
    (old / "last.json").write_text("{}")
    with caplog.at_level("WARNING", logger="engine.training.checkpoint"):
        assert checkpoint.Checkpoints(old, "key").resume(model, opt) is None
    assert f"{old} holds a checkpoint of an older app version; training starts over" in caplog.messages
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    checkpoint.save_file({"x": torch.zeros(1)}, str(foreign / checkpoint.STATE_FILE))  # no state metadata
    with caplog.at_level("WARNING", logger="engine.training.checkpoint"):
        assert checkpoint.Checkpoints(foreign, "key").resume(model, opt) is None
    assert caplog.messages[-1] == (f"{foreign} holds an interrupted training of another setup (other data or "
                                   "settings); training starts over")
