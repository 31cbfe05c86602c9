"""Labelled CSV files and the TrainingSet: errors name file and line, the held-out split is stable."""

from __future__ import annotations

import numpy as np
import pytest

from engine.datasets.csv_sets import from_csv
from engine.datasets.training_set import TrainingSet
from engine.errors import InputError
from engine.labels.labelset import LabelSet


def test_bad_csv_inputs_name_file_and_line(tmp_path):
    (tmp_path / "c.csv").write_text("caption,labels\nhello,red\n,red\n")
    with pytest.raises(InputError, match="line 3"):
        from_csv(LabelSet.from_names(["red"]), tmp_path / "c.csv", None)
    (tmp_path / "d.csv").write_text("caption,labels\nhello,purple\n")
    with pytest.raises(InputError, match="unknown label 'purple'"):
        from_csv(LabelSet.from_names(["red"]), tmp_path / "d.csv", None)
    (tmp_path / "e.csv").write_text("text\nhello\n")
    with pytest.raises(InputError, match="header"):
        from_csv(LabelSet.from_names(["red"]), tmp_path / "e.csv", None)
    with pytest.raises(InputError):
        TrainingSet(LabelSet.from_names(["red"]), ["a"], np.zeros((2, 1), np.uint8))


def test_split_keeps_groups_together_and_is_stable(tmp_path):
    rows = "".join(f"caption {i},{'red' if i % 2 else 'blue'},g{i % 7}\n" for i in range(40))
    (tmp_path / "c.csv").write_text("caption,labels,group\n" + rows)
    ts = from_csv(LabelSet.from_names(["red", "blue"]), tmp_path / "c.csv", None)
    assert ts.labels.names == ["red", "blue"] and ts.caption_labels.sum() == 40
    train, held = ts.split(0.3, seed=1)
    again, _ = ts.split(0.3, seed=1)
    assert train.captions == again.captions and len(train.captions) + len(held.captions) == 40
    assert not set(train.caption_groups) & set(held.caption_groups)
