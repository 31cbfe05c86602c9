"""Training killed with SIGKILL at a checkpoint write resumes, on the next `api.train`, to the uninterrupted model."""

from __future__ import annotations

from pathlib import Path

import pytest
from safetensors import safe_open

from engine import api
from engine.clip.config import BackboneConfig
from engine.training.config import TrainConfig
from engine.training.job import checkpoint_dir_for
from tests.sigkill import dying_at_commit, run_child

CAPTIONS = ["a red circle", "a blue square", "a yellow star", "a circle next to a square", "a green star",
            "two circles", "a square and a star", "three stars"]
EPOCHS = 3
# the child: trains the project with os.replace (as called by the checkpoint writer) killing the process with
# SIGKILL just before or just after its Nth checkpoint commit; the other os.replace calls are left alone
CHILD = dying_at_commit("engine.training.checkpoint") + """
from engine import api
from engine.clip.config import BackboneConfig
from engine.training.config import TrainConfig
root, clip, epochs = sys.argv[3], sys.argv[4], int(sys.argv[5])
api.train(api.open_project(root), backbone=BackboneConfig(model_name="tiny-test", pretrained=clip),
          train=TrainConfig(epochs=epochs, batch_size=4), device="cpu")
"""


def _project(root: Path):  # type: ignore[no-untyped-def]
    project = api.create_project(root)
    api.save_labels(project, api.resolve_labels("circle,square,star"))
    api.add_captions(project, CAPTIONS)
    return project


def _train(project, clip: Path):  # type: ignore[no-untyped-def]
    return api.train(project, backbone=BackboneConfig(model_name="tiny-test", pretrained=str(clip)),
                     train=TrainConfig(epochs=EPOCHS, batch_size=4), device="cpu")


def _weights(model_dir: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(model_dir.glob("*.safetensors")):
        with safe_open(str(path), "pt") as f:
            out |= {f"{path.name}:{k}": f.get_tensor(k).numpy().tobytes() for k in sorted(f.keys())}
    return out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_clip_file):  # type: ignore[no-untyped-def]
    project = _project(tmp_path_factory.mktemp("straight") / "p")
    result = _train(project, tiny_clip_file)
    assert result.resumed_from is None
    return _weights(project.model_dir), result.history


@pytest.mark.parametrize(("kill_at", "when", "resumes_at"), [(1, "after", 1), (2, "before", 1), (2, "after", 2)])
def test_a_killed_training_resumes_to_the_uninterrupted_model(tmp_path, tiny_clip_file, uninterrupted, kill_at, when,
                                                             resumes_at):
    project = _project(tmp_path / "p")
    child = run_child(CHILD, kill_at, when, str(project.root), str(tiny_clip_file), str(EPOCHS))
    assert child.returncode == -9, child.stderr[-2000:]  # killed, not failed
    assert not api.model_status(project).trained  # no half model recorded
    assert checkpoint_dir_for(project.model_dir).is_dir()

    result = _train(project, tiny_clip_file)  # the person starts the training again
    weights, history = uninterrupted
    assert result.resumed_from == resumes_at
    assert result.history == history
    assert _weights(project.model_dir) == weights  # bit for bit the model of a run never killed
    assert api.model_status(project).trained and not checkpoint_dir_for(project.model_dir).exists()
