"""The training config imports without torch/open_clip and validates its fields."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.errors import ConfigError
from engine.training.config import TrainConfig


def test_config_imports_without_torch() -> None:
    code = (
        "import sys, engine.clip.config, engine.training.config; "
        "print(sorted({'torch', 'open_clip'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "[]"


def test_validation_names_the_field() -> None:
    assert TrainConfig().epochs == 20
    with pytest.raises(ConfigError, match="warmup_epochs"):
        TrainConfig(epochs=2, warmup_epochs=2)
