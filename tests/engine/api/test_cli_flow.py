"""The whole CLI flow over one project: the label set is given once, each step finds what the last one stored."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine import api
from engine.cli.main import main
from engine.errors import EngineError

SHAPES = "circle,square,star"
TEXTS = ["a red circle", "a circle and a star", "two squares", "a star", "a green square near a circle", "a dog"]


def _run(capsys: pytest.CaptureFixture, *argv: str) -> str:
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out + out.err


@pytest.fixture()
def trained_project(tmp_path: Path, tiny_clip_file: Path, capsys: pytest.CaptureFixture) -> Path:
    root = tmp_path / "shapes"
    captions = tmp_path / "captions.txt"
    captions.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    _run(capsys, "init", str(root), "--labels", SHAPES)
    _run(capsys, "captions", "import", str(captions), "--project", str(root), "--no-progress", "--min-count", "1")
    said = _run(capsys, "synth", "--project", str(root), "--backend", "demo", "-k", "2", "--no-progress")
    assert "10 made" in said
    _run(capsys, "train", "--project", str(root), "--backbone", "tiny-test", "--pretrained", str(tiny_clip_file),
         "--epochs", "1", "--n-ctx", "2", "--device", "cpu", "--no-progress")
    _run(capsys, "export", "--project", str(root))
    return root


def test_init_captions_synth_train_export_tag_query(trained_project: Path, tmp_path: Path, capsys) -> None:
    project = api.open_project(trained_project)
    status = api.model_status(project)
    assert status.trained and status.exported and status.record.labels == ("circle", "square", "star")
    assert status.record.onnx_path == project.onnx_path
    photos = project.synthetic_dir  # any folder of images will do
    said = _run(capsys, "tag", str(photos), "--project", str(trained_project), "--no-progress")
    assert "10 tagged, 0 errors" in said
    listed = _run(capsys, "query", "--project", str(trained_project), "--format", "table").splitlines()
    assert {line.split("\t")[1] for line in listed if "\t" in line} == {"circle", "square", "star"}
    out = tmp_path / "tags.csv"
    _run(capsys, "tags", "export", "--project", str(trained_project), "--format", "csv", "-o", str(out))
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["path"] for r in rows}) == 10


def test_a_stale_model_is_refused_before_any_file_is_read(trained_project: Path, tmp_path: Path, capsys) -> None:
    project = api.open_project(trained_project)
    api.save_labels(project, api.resolve_labels("circle,square,star,triangle"))
    assert main(["tag", str(project.synthetic_dir), "--project", str(trained_project), "--no-progress"]) == 1
    assert "retrain" in capsys.readouterr().err
    assert api.tagged_count(project) == 0


def test_labels_are_stored_once_and_never_silently_replaced(tmp_path: Path, capsys) -> None:
    root = tmp_path / "p"
    _run(capsys, "init", str(root), "--labels", "dog,cat")
    captions = tmp_path / "c.txt"
    captions.write_text("a dog\n", encoding="utf-8")
    assert main(["captions", "import", str(captions), "-p", str(root), "-l", "car,bus", "--no-progress"]) == 1
    assert "--replace-labels" in capsys.readouterr().err
    assert api.load_labels(api.open_project(root)).names == ["dog", "cat"]
    _run(capsys, "init", str(root), "--labels", "car,bus", "--replace-labels")
    assert api.load_labels(api.open_project(root)).names == ["car", "bus"]


def test_commands_explain_what_is_missing(tmp_path: Path, capsys) -> None:
    assert main(["train", "--project", str(tmp_path / "nowhere"), "--no-progress"]) == 1
    assert "t2ipal init" in capsys.readouterr().err
    root = tmp_path / "empty"
    _run(capsys, "init", str(root), "--labels", "dog,cat")
    assert main(["export", "--project", str(root)]) == 1
    assert "no trained model" in capsys.readouterr().err
    assert main(["tag", str(tmp_path), "--project", str(root), "--no-progress"]) == 1
    assert "no exported model" in capsys.readouterr().err
    assert main(["train", "--project", str(root), "--no-progress"]) == 1
    assert "import or generate captions" in capsys.readouterr().err


def test_train_checks_its_inputs_before_importing_torch(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom engine.cli.main import main\n"
        f"rc = main(['train', '--project', {str(tmp_path / 'nowhere')!r}, '--no-progress'])\n"
        "print(rc, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "False"]


def test_a_project_model_changed_after_export_is_refused(trained_project: Path, capsys) -> None:
    project = api.open_project(trained_project)
    data = bytearray(project.onnx_path.read_bytes())
    data[-64:] = bytes(64)  # the file changed on disk after `t2ipal export` recorded its checksum
    project.onnx_path.write_bytes(bytes(data))
    assert main(["tag", str(project.synthetic_dir), "--project", str(trained_project), "--no-progress"]) == 1
    assert "checksum" in capsys.readouterr().err
    assert api.tagged_count(project) == 0
    with pytest.raises(EngineError, match="checksum"):
        api.explain(project, next(project.synthetic_dir.rglob("*.png")), "circle")
