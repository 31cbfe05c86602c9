"""`t2ipal train` writes a model folder and `t2ipal eval` prints mAP, CF1 and OF1 (in-process CLI)."""

from __future__ import annotations

from engine.cli.main import main
from tests.engine.training.test_job import _write_set


def test_train_then_eval(tiny_clip_file, tmp_path, capsys):
    _write_set(tmp_path, n=16)
    out = tmp_path / "model"
    code = main(["train", "--labels", "red,green,blue", "--captions", str(tmp_path / "captions.csv"),
                 "--images", str(tmp_path / "images.csv"), "--out", str(out), "--backbone", "tiny-test",
                 "--pretrained", str(tiny_clip_file), "--epochs", "2", "--n-ctx", "4", "--device", "cpu",
                 "--no-progress"])
    assert code == 0 and (out / "weights.safetensors").exists()
    code = main(["eval", "--model", str(out), "--images", str(tmp_path / "images.csv"), "--device", "cpu",
                 "--no-progress", "--json", str(tmp_path / "report.json")])
    text = capsys.readouterr().out
    assert code == 0 and "mAP" in text and "CF1" in text and "OF1" in text
    assert (tmp_path / "report.json").exists()


def test_errors_are_reported_not_raised(tmp_path, capsys):
    code = main(["train", "--labels", "red,green", "--captions", str(tmp_path / "missing.csv"),
                 "--out", str(tmp_path / "m"), "--backbone", "tiny-test", "--pretrained", "none"])
    assert code == 1
    assert "missing.csv does not exist" in capsys.readouterr().err


def test_zeroshot_eval_on_an_official_voc_layout(tiny_clip_file, tmp_path, capsys):
    """One command from a dataset in its official layout to the metric table (the paper's ZSCLIP row)."""
    import numpy as np
    from PIL import Image

    from tests.engine.evaluation.test_datasets import _write_voc

    voc = _write_voc(tmp_path)
    for i in ("000001", "000002", "000004"):
        Image.fromarray(np.full((80, 60, 3), int(i[-1]) * 40, np.uint8)).save(voc / "JPEGImages" / f"{i}.jpg")
    code = main(["eval", "--zeroshot", "--dataset", "voc2007", "--root", str(tmp_path), "--backbone", "tiny-test",
                 "--pretrained", str(tiny_clip_file), "--use-pos-embed", "--device", "cpu", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "mAP" in out and "(3 images, 20 classes)" in out and "aeroplane" in out
