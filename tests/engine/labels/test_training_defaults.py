"""Per-label-set training defaults live in the label-set file (bundled nuswide: TaI-DPT's NUS-WIDE values)."""

from __future__ import annotations

import json

import pytest

from engine.clip.config import ModelConfig
from engine.errors import ConfigError, InputError
from engine.labels.labelset import LabelSet
from engine.training.config import TrainConfig


def test_bundled_nuswide_carries_taidpt_nus_temperature_and_lr():
    defaults = LabelSet.bundled("nuswide").training_defaults
    assert ModelConfig(variant="t2ipal").for_labelset(defaults).image_inv_tau == 4.0
    assert TrainConfig().for_variant("taidpt", defaults).lr == 1e-3  # TaI-DPT's NUS-WIDE lr
    assert TrainConfig().for_variant("t2ipal", defaults).lr == 2e-3  # only TaI-DPT's recipe changes
    voc = LabelSet.bundled("voc2007").training_defaults
    assert voc == {} and ModelConfig().for_labelset(voc).image_inv_tau == 40.0
    assert ModelConfig(inv_tau_image=10.0).for_labelset(defaults).image_inv_tau == 10.0  # explicit wins


def test_a_label_set_file_round_trips_its_defaults(tmp_path):
    data = {"name": "mine", "labels": ["dog", "cat"],
            "training_defaults": {"model": {"inv_tau_image": 8.0}, "variants": {"taidpt": {"train": {"lr": 0.01}}}}}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    ls = LabelSet.from_file(path)
    ls.save(tmp_path / "again.json")
    again = LabelSet.from_file(tmp_path / "again.json")
    assert again.training_defaults == data["training_defaults"]
    assert TrainConfig().for_variant("taidpt", again.training_defaults).lr == 0.01


@pytest.mark.parametrize("bad", [[1], {"optimizer": {}}, {"model": 3}])
def test_malformed_training_defaults_are_refused(bad):
    with pytest.raises(InputError, match="training_defaults"):
        LabelSet.from_dict({"name": "x", "labels": ["a"], "training_defaults": bad})


def test_unknown_fields_in_the_defaults_are_named():
    with pytest.raises(ConfigError, match="inv_tau"):
        ModelConfig().for_labelset({"model": {"inv_tau": 3.0}})
    with pytest.raises(ConfigError, match="epochs"):
        TrainConfig().for_variant("taidpt", {"train": {"epochs": 3}})


def test_training_a_nuswide_style_set_uses_its_temperature(tiny_backbone, tmp_path):
    """The loading path end to end: label-set file -> train_model -> the model folder's config."""
    from engine.artifact import ModelArtifact
    from engine.datasets.csv_sets import from_csv
    from tests.engine.training.test_job import _write_set

    _write_set(tmp_path, n=8)
    labels = LabelSet.from_dict({"name": "c", "labels": ["red", "green", "blue"],
                                 "training_defaults": {"model": {"inv_tau_image": 4.0}}})
    from engine.training.job import train_model

    train_model(from_csv(labels, tmp_path / "captions.csv", tmp_path / "images.csv"), tmp_path / "m",
                backbone_cfg=tiny_backbone.cfg, model_cfg=ModelConfig(variant="t2ipal", n_ctx=2),
                train_cfg=TrainConfig(epochs=1), cache_dir=tmp_path / "cache", backbone=tiny_backbone)
    art = ModelArtifact.from_pretrained(tmp_path / "m")
    assert art.model_cfg.inv_tau_image == 4.0 and art.config["summary"]["train"]["lr"] == 2e-3
    assert float(art.tensors["const.inv_tau"]) == pytest.approx(4.0)
