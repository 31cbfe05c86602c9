"""`t2ipal synth` end to end on the tiny pipeline: captions file + label set -> images, rerun skips."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli.main import main
from engine.project import Project
from engine.synthesis import Manifest


def test_synth_cli_renders_labels_and_resumes(tiny_sd: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    captions = tmp_path / "captions.txt"
    captions.write_text("a dog on a sofa\ntwo cats and a dog\na bowl of soup\n", encoding="utf-8")
    argv = [
        "synth",
        "--project",
        str(tmp_path / "p"),
        "--captions",
        str(captions),
        "--labels",
        "dog,cat",
        "--model",
        str(tiny_sd),
        "--steps",
        "2",
        "-k",
        "2",
        "--batch-size",
        "3",
        "--no-progress",
        "--quality-filter",
        "--backbone",
        "tiny-test",
        "--pretrained",
        "none",
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "1 captions mention no label" in err and "4 made" in err and "4 scored" in err
    records = Manifest(Project(tmp_path / "p").open_db(), tmp_path / "p" / "synthetic").records()
    assert {r.labels for r in records} == {("dog",), ("dog", "cat")} or {r.labels for r in records} == {
        ("dog",),
        ("cat", "dog"),
    }
    assert all(r.quality_flagged is not None for r in records)
    assert main(argv[:-5]) == 0
    assert "0 made, 4 cached" in capsys.readouterr().err


def test_synth_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["synth", "--project", str(tmp_path / "p"), "--no-progress"]) == 1
    assert "has no label set yet" in capsys.readouterr().err
    assert main(["synth", "--project", str(tmp_path / "p"), "--labels", "dog,cat", "--no-progress"]) == 1
    assert "no caption of project" in capsys.readouterr().err
    captions = tmp_path / "c.txt"
    captions.write_text("a dog\n", encoding="utf-8")
    code = main(
        [
            "synth",
            "--project",
            str(tmp_path / "p"),
            "--captions",
            str(captions),
            "--labels",
            "dog,cat",
            "--model",
            "nobody-here/no-such-model",
            "--no-progress",
        ]
    )
    assert code == 1
    assert "t2ipal fetch sd nobody-here/no-such-model" in capsys.readouterr().err
