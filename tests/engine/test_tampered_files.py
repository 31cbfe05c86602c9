"""Corrupt or tampered files: a clear, named error through the API and the CLI, and nothing is modified."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from engine import api
from engine.cli.main import main
from engine.errors import ArtifactError, InputError, StorageError

pytest.importorskip("torch")

LABELS = ["circle", "square", "star"]


@pytest.fixture(scope="module")
def good_model(tmp_path_factory: pytest.TempPathFactory, tiny_backbone) -> Path:
    from engine.artifact import save_pretrained
    from engine.clip.config import ModelConfig
    from engine.clip.model import T2IPAL
    from engine.labels.labelset import LabelSet

    model = T2IPAL(tiny_backbone, LABELS, ModelConfig())
    labels = LabelSet.from_dict({"name": "shapes", "labels": [{"name": n} for n in LABELS]})
    return save_pretrained(model, tmp_path_factory.mktemp("good") / "model", labels, thresholds=[0.5, 0.5, 0.5])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _truncate_weights(folder: Path) -> None:
    path = folder / "weights.safetensors"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


TAMPERINGS = {
    "config.json not JSON": (lambda f: (f / "config.json").write_text('{"format": "t2ipal-'), "corrupt"),
    "config.json a list": (lambda f: (f / "config.json").write_text("[1, 2]"), "config.json"),
    "labels.json not JSON": (lambda f: (f / "labels.json").write_text("{labels"), "corrupt"),
    "labels.json not UTF-8": (lambda f: (f / "labels.json").write_bytes(b'{"name": "\xff\xfe"}'), "labels.json"),
    "weights truncated": (_truncate_weights, "damaged"),
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_a_tampered_model_folder_is_refused_by_name_and_left_as_it_is(name: str, good_model: Path, tmp_path: Path,
                                                                      capsys) -> None:
    from engine.artifact import ModelArtifact

    folder = Path(shutil.copytree(good_model, tmp_path / "model"))
    tamper, says = TAMPERINGS[name]
    tamper(folder)
    before = _snapshot(folder)
    with pytest.raises(ArtifactError, match=says) as info:
        ModelArtifact.from_pretrained(folder)
    assert str(folder) in str(info.value)
    out = tmp_path / "out.onnx"
    assert main(["export", str(folder), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(folder) in err and "Traceback" not in err
    assert not out.exists()
    assert _snapshot(folder) == before


def _project_with(tmp_path: Path, db_bytes: bytes | None = None) -> Path:
    root = tmp_path / "proj"
    api.create_project(root, labels=api.resolve_labels("circle,square,star"))
    if db_bytes is not None:
        (root / "project.db").unlink()
        for extra in root.glob("project.db-*"):
            extra.unlink()
        (root / "project.db").write_bytes(db_bytes)
    return root


def test_a_project_database_that_is_not_a_database_is_named_and_untouched(tmp_path: Path, capsys) -> None:
    root = _project_with(tmp_path, b"these are my holiday notes, not a database\n" * 50)
    before = (root / "project.db").read_bytes()
    with pytest.raises(StorageError, match="not a usable SQLite database") as info:
        api.open_project(root)
    assert str(root / "project.db") in str(info.value)
    assert main(["query", "--project", str(root)]) == 1
    err = capsys.readouterr().err
    assert "not a usable SQLite database" in err and "Traceback" not in err
    assert (root / "project.db").read_bytes() == before
    assert not (root / "project.db-wal").exists()


def test_a_project_database_from_a_newer_app_is_refused_untouched(tmp_path: Path, capsys) -> None:
    root = _project_with(tmp_path)
    con = sqlite3.connect(root / "project.db")
    con.execute("UPDATE schema_versions SET version = version + 5 WHERE area = 'tags'")
    con.commit()
    con.close()
    before = (root / "project.db").read_bytes()
    with pytest.raises(StorageError, match="newer than this app"):
        api.open_project(root)
    assert main(["tag", str(tmp_path), "--project", str(root), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "update T2I-PAL Tagger" in err and "Traceback" not in err
    assert (root / "project.db").read_bytes() == before


def test_a_project_labels_file_that_is_corrupt_is_named(tmp_path: Path, capsys) -> None:
    root = _project_with(tmp_path)
    (root / "labels.json").write_text('{"name": "shapes", "labels": [')
    before = (root / "labels.json").read_bytes()
    with pytest.raises(InputError, match="malformed JSON") as info:
        api.load_labels(api.open_project(root))
    assert str(root / "labels.json") in str(info.value)
    assert main(["synth", "--project", str(root), "--backend", "demo", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert str(root / "labels.json") in err and "malformed JSON" in err and "Traceback" not in err
    assert (root / "labels.json").read_bytes() == before  # left for the user to fix, never replaced
    assert not list((root / "synthetic").rglob("*.png"))
