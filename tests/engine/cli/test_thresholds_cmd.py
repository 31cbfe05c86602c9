"""`t2ipal thresholds`: the CLI shows and changes the one threshold policy that query and export read."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import api
from engine.cli.main import main
from tests.engine.tagging.test_thresholds_through import MAX_F1, _csv, _expected, tagged_project  # noqa: F401


def _table(capsys: pytest.CaptureFixture, *argv: str) -> dict[str, list[str]]:
    assert main(["thresholds", *argv]) == 0
    lines = capsys.readouterr().out.splitlines()
    return {cells[0]: cells[1:] for cells in (line.split() for line in lines[2:])}


def test_show_set_reset_and_offset(tagged_project, tmp_path: Path, capsys) -> None:  # noqa: F811
    project, files = tagged_project
    root = str(project.root)
    rows = _table(capsys, "--project", root)
    assert {label: float(r[0]) for label, r in rows.items()} == pytest.approx(MAX_F1)  # computed = max-F1 points
    counts = api.label_counts(project, api.TagFilter())
    assert {label: int(r[-1]) for label, r in rows.items()} == {lab: counts.get(lab, 0) for lab in MAX_F1}

    rows = _table(capsys, "--project", root, "--set", "green", "0.3")
    assert rows["green"][1:3] == ["0.30", "0.30"]  # own and in force
    assert _csv(project, tmp_path / "a.csv") == _expected(project, files, {**MAX_F1, "green": 0.3})

    rows = _table(capsys, "--project", root, "--offset", "0.1", "--reset", "green")
    assert float(rows["red"][1]) == pytest.approx(MAX_F1["red"] + 0.1, abs=0.005)  # in force (no own value)
    assert len(rows["green"]) == 3  # green has no own value any more
    shifted = {label: min(1.0, v + 0.1) for label, v in MAX_F1.items()}
    assert _csv(project, tmp_path / "b.csv") == _expected(project, files, shifted)


def test_a_label_the_model_does_not_have_is_refused(tagged_project, capsys) -> None:  # noqa: F811
    project, _files = tagged_project
    assert main(["thresholds", "--project", str(project.root), "--set", "dgo", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "no label 'dgo'" in err and "red" in err
    assert main(["thresholds", "--project", str(project.root), "--set", "red", "1.5"]) == 1
    assert "[0.0, 1.0]" in capsys.readouterr().err
