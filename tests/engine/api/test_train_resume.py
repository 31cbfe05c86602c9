"""api.train after an interrupted training: the same inputs resume; changed captions start over instead of failing."""

from __future__ import annotations

import pytest

from engine import api
from engine.clip.config import BackboneConfig
from engine.errors import Cancelled
from engine.progress import CancelToken
from engine.training import trainer
from engine.training.config import TrainConfig
from engine.training.job import checkpoint_dir_for

CAPTIONS = ["a red circle", "a blue square", "a yellow star", "a circle next to a square", "a green star",
            "two circles", "a square and a star", "three stars"]


def _cancel_in_second_epoch(monkeypatch, token: CancelToken) -> None:
    real = trainer._train_epoch

    def epoch(*args):  # type: ignore[no-untyped-def]
        if args[5] == 1:  # the first epoch is trained and checkpointed
            token.cancel()
        return real(*args)

    monkeypatch.setattr(trainer, "_train_epoch", epoch)


@pytest.mark.parametrize("captions_change", [False, True])
def test_a_training_interrupted_then_run_again(tmp_path, tiny_clip_file, monkeypatch, caplog, captions_change):
    project = api.create_project(tmp_path / "p")
    api.save_labels(project, api.resolve_labels("circle,square,star"))
    api.add_captions(project, CAPTIONS)
    backbone = BackboneConfig(model_name="tiny-test", pretrained=str(tiny_clip_file))
    cfg = TrainConfig(epochs=3, batch_size=4)
    token = CancelToken()
    _cancel_in_second_epoch(monkeypatch, token)
    with pytest.raises(Cancelled):
        api.train(project, backbone=backbone, train=cfg, device="cpu", cancel=token)
    monkeypatch.undo()
    assert checkpoint_dir_for(project.model_dir).is_dir() and not api.model_status(project).trained
    if captions_change:  # the person adds captions before training again: the checkpoint is of another setup
        api.add_captions(project, ["a star above a circle", "two squares"])
    with caplog.at_level("WARNING", logger="engine.training.checkpoint"):
        result = api.train(project, backbone=backbone, train=cfg, device="cpu")
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert result.resumed_from == (None if captions_change else 1)
    started_over = [m for m in caplog.messages if "training starts over" in m]
    assert len(started_over) == (1 if captions_change else 0)
    assert api.model_status(project).trained and not checkpoint_dir_for(project.model_dir).exists()
