"""`t2ipal train` writes a model folder and `t2ipal eval` prints mAP, CF1 and OF1 (in-process CLI)."""

from __future__ import annotations

import pytest

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


def test_eval_reproduces_both_zero_shot_definitions_on_a_fake_voc(tiny_clip_file, tmp_path, capsys):
    """`t2ipal eval --zeroshot --variant zeroshot|zeroshot_global` prints the mAP of that definition's scores."""
    import json

    import numpy as np
    import torch
    from PIL import Image

    from engine.clip.backbone import BackboneConfig, load_backbone
    from engine.clip.config import ModelConfig
    from engine.clip.model import T2IPAL
    from engine.evaluation.datasets import VOC_CLASSES, load_voc2007
    from engine.evaluation.metrics import mean_average_precision
    from engine.imaging import preprocess_batch

    voc = tmp_path / "VOC2007"
    (voc / "JPEGImages").mkdir(parents=True)
    (voc / "ImageSets" / "Main").mkdir(parents=True)
    rng = np.random.default_rng(0)
    ids = [f"{i:06d}" for i in range(1, 13)]
    for cls in VOC_CLASSES:  # 12 images, every class with some positives, difficult (0) marks among them
        values = rng.choice(["1", "-1", "-1", "0"], size=len(ids))
        values[rng.integers(len(ids))] = "1"
        (voc / "ImageSets" / "Main" / f"{cls}_test.txt").write_text(
            "".join(f"{i} {v}\n" for i, v in zip(ids, values, strict=True)))
    for i in ids:
        Image.fromarray(rng.integers(0, 255, (80, 60, 3), dtype=np.uint8)).save(voc / "JPEGImages" / f"{i}.jpg")
    ds = load_voc2007(tmp_path)
    assert ds.labels.sum(axis=0).min() >= 1
    backbone = load_backbone(BackboneConfig(model_name="tiny-test", pretrained=str(tiny_clip_file)))
    batch = torch.from_numpy(preprocess_batch([str(p) for p in ds.image_paths], backbone.preprocess_spec))
    maps = {}
    for variant in ("zeroshot", "zeroshot_global"):
        with torch.no_grad():
            scores = T2IPAL(backbone, ds.prompt_names, ModelConfig(variant=variant))(batch).merged.numpy()
        report = tmp_path / f"{variant}.json"
        code = main(["eval", "--zeroshot", "--variant", variant, "--dataset", "voc2007", "--root", str(tmp_path),
                     "--backbone", "tiny-test", "--pretrained", str(tiny_clip_file), "--device", "cpu",
                     "--no-progress", "--json", str(report)])
        assert code == 0 and "(12 images, 20 classes)" in capsys.readouterr().out
        maps[variant] = json.loads(report.read_text())["map"]
        assert maps[variant] == pytest.approx(mean_average_precision(scores, ds.labels), abs=1e-3)
    assert maps["zeroshot"] != pytest.approx(maps["zeroshot_global"], abs=1e-3)  # two different rows


def test_eval_refuses_a_variant_that_needs_training(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["eval", "--zeroshot", "--variant", "t2ipal", "--dataset", "voc2007", "--root", str(tmp_path)])
    assert "invalid choice" in capsys.readouterr().err
