"""Learning from decisions through the CLI and the API: review queue, decide, retrain; every decision is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine import api
from engine.cli.main import main
from tests.engine.api.test_cli_flow import _run, trained_project  # noqa: F401  - the fixture


def _tagged(root: Path, capsys: pytest.CaptureFixture) -> Any:
    project = api.open_project(root)
    _run(capsys, "tag", str(project.synthetic_dir), "--project", str(root), "--no-progress")
    return project


def test_review_decide_and_retrain_keep_every_decision(trained_project: Path, capsys) -> None:  # noqa: F811
    project = _tagged(trained_project, capsys)
    queue = api.review_queue(project, limit=4)
    assert len(queue) == 4 and len({q.path for q in queue}) == 4
    listed = _run(capsys, "review", "--project", str(trained_project), "--next", "3")
    assert queue[0].path in listed and "0 decisions since the last training" in listed
    first, second = queue[0].path, queue[1].path
    _run(capsys, "review", "--project", str(trained_project), "--confirm", first, "circle")
    _run(capsys, "review", "--project", str(trained_project), "--reject", first, "star")
    said = _run(capsys, "review", "--project", str(trained_project), "--add", second, "square")
    assert "3 decisions since the last training" in said
    assert first not in [q.path for q in api.review_queue(project, limit=20)]  # decided photos leave the queue
    before = {lab: s for lab, s, _ in api.image_tags(project, second)}
    said = _run(capsys, "train", "--project", str(trained_project), "--with-decisions", "--epochs", "2",
                "--no-progress")
    assert "retrained on 2 reviewed photos (3 decisions)" in said and "re-tagged 10 photos" in said
    tags = {lab: (s, src) for lab, s, src in api.image_tags(project, first)}
    assert tags["circle"][1] == "confirmed" and tags["star"][1] == "rejected"
    after = {lab: (s, src) for lab, s, src in api.image_tags(project, second)}
    assert after["square"][1] == "manual"
    assert any(after[lab][0] != before[lab] for lab in ("circle", "star"))  # the new model's scores
    assert api.decisions_since_training(project) == 0
    status = api.model_status(project)
    assert status.exported and status.summary["sizes"]["reviewed_photos"] == 2
    assert status.summary["warm_start"]
    api.undo(project, api.decide(project, second, "circle", "rejected"))
    assert api.decisions_since_training(project) == 0  # undone: nothing new to learn


def test_retrain_without_decisions_says_what_to_do(trained_project: Path, capsys) -> None:  # noqa: F811
    _tagged(trained_project, capsys)
    assert main(["train", "--project", str(trained_project), "--with-decisions", "--no-progress"]) == 1
    assert "confirm or reject some tags" in capsys.readouterr().err
