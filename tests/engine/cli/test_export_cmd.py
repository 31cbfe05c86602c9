"""`t2ipal export MODEL_DIR -o out.onnx`: parity reported, sidecar checksum written, unverified folders refused;
a full disk or a folder the user may not write leaves the previous model.onnx and its checksum as they were."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.cli.main import main
from engine.export.checksum import checksum_path, read_checksum
from engine.hashing import sha256_file

pytest.importorskip("onnxruntime")
pytest.importorskip("torch")

LABELS = ["circle", "square", "star"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_backbone) -> Path:
    from engine.artifact import save_pretrained
    from engine.clip.config import ModelConfig
    from engine.clip.model import T2IPAL
    from engine.labels.labelset import LabelSet

    model = T2IPAL(tiny_backbone, LABELS, ModelConfig())
    labels = LabelSet.from_dict({"name": "shapes", "labels": [{"name": n} for n in LABELS]})
    return save_pretrained(model, tmp_path_factory.mktemp("artifact") / "model", labels, thresholds=[0.1, 0.2, 0.3])


@pytest.fixture(scope="module")
def previous(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model exported once by the command; tests copy it to check that a failed export leaves it alone."""
    out = tmp_path_factory.mktemp("prev") / "model.onnx"
    assert main(["export", str(model_dir), "-o", str(out)]) == 0
    return out


def _loads(path: Path) -> tuple[str, ...]:
    from engine.tagging.onnx_session import TaggerSession

    session = TaggerSession(path, provider="cpu", sha256=read_checksum(path))  # refuses a file not matching it
    size = session.metadata.preprocess.size
    scores, _ = session.scores_and_heatmaps(np.zeros((1, 3, size, size), np.float32))
    assert scores.shape == (1, len(LABELS))
    return session.metadata.labels


def test_file_mode_reports_parity_and_writes_the_sidecar(previous: Path, model_dir: Path, tmp_path: Path,
                                                         capsys) -> None:
    out = tmp_path / "sub" / "tagger.onnx"
    assert main(["export", str(model_dir), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}" in err and "3 labels" in err and "parity max |Δ|" in err
    delta = float(err.split("parity max |Δ| ")[1].split()[0])
    assert 0 <= delta <= 1e-4
    assert read_checksum(out) == sha256_file(out)
    assert checksum_path(out).read_text().split() == [sha256_file(out), "tagger.onnx"]  # `sha256sum -c` format
    assert _loads(out) == tuple(LABELS)
    assert sorted(p.name for p in out.parent.iterdir()) == ["tagger.onnx", "tagger.onnx.sha256"]


def test_a_folder_without_weights_checksum_is_refused_unless_trusted(model_dir: Path, tmp_path: Path,
                                                                      capsys) -> None:
    folder = Path(shutil.copytree(model_dir, tmp_path / "model"))
    config = json.loads((folder / "config.json").read_text())
    del config["weights_sha256"]
    (folder / "config.json").write_text(json.dumps(config))
    out = tmp_path / "out" / "m.onnx"
    assert main(["export", str(folder), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--trust-unverified" in err and str(folder) in err and "Traceback" not in err
    assert not out.exists() and not checksum_path(out).exists()
    assert main(["export", str(folder), "-o", str(out), "--trust-unverified"]) == 0
    assert read_checksum(out) == sha256_file(out)


def test_output_is_required_and_project_mode_takes_no_output(model_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["export", str(model_dir)]) == 1
    assert "MODEL_DIR -o model.onnx" in capsys.readouterr().err
    assert main(["export"]) == 1
    assert "give --project DIR, or MODEL_DIR -o model.onnx" in capsys.readouterr().err


def _copy_previous(previous: Path, folder: Path) -> tuple[Path, bytes, str]:
    folder.mkdir()
    out = folder / "model.onnx"
    shutil.copy(previous, out)
    shutil.copy(checksum_path(previous), checksum_path(out))
    return out, out.read_bytes(), checksum_path(out).read_text()


def _no_space(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise OSError(errno.ENOSPC, "No space left on device")


def _assert_previous_kept(out: Path, data: bytes, sidecar: str) -> None:
    assert out.read_bytes() == data and checksum_path(out).read_text() == sidecar
    assert sorted(p.name for p in out.parent.iterdir()) == ["model.onnx", "model.onnx.sha256"]  # no temp files
    assert _loads(out) == tuple(LABELS)


def test_full_disk_while_writing_the_graph_keeps_the_previous_model(previous: Path, model_dir: Path,
                                                                    tmp_path: Path, monkeypatch, capsys) -> None:
    import onnx

    out, data, sidecar = _copy_previous(previous, tmp_path / "exports")
    monkeypatch.setattr(onnx, "save", _no_space)
    code = main(["export", str(model_dir), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert str(out.parent) in err and "space" in err and "Traceback" not in err
    monkeypatch.undo()
    _assert_previous_kept(out, data, sidecar)


def test_full_disk_while_writing_the_checksum_keeps_model_and_checksum_matching(previous: Path, model_dir: Path,
                                                                                tmp_path: Path, monkeypatch) -> None:
    from engine import api
    from engine.errors import StorageError

    out, data, sidecar = _copy_previous(previous, tmp_path / "exports")
    real_write_text = Path.write_text

    def write_text(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if ".sha256" in self.name:
            _no_space()
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    with pytest.raises(StorageError, match="space") as info:
        api.export_folder(model_dir, out)
    assert str(out.parent) in str(info.value)
    monkeypatch.undo()
    _assert_previous_kept(out, data, sidecar)


def test_a_folder_the_user_may_not_write_is_named(model_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    from engine.export import onnx_export

    def denied(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(onnx_export.tempfile, "mkstemp", denied)  # root ignores real permissions
    out = tmp_path / "locked" / "model.onnx"
    code = main(["export", str(model_dir), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and str(out.parent) in err and "permission denied" in err.lower() and "Traceback" not in err
    assert not out.exists()
