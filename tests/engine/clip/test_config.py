"""The CLIP configs import without torch/open_clip and keep their defaults in one place."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.clip.config import DEFAULT_BACKBONE, DEFAULT_PRETRAINED, VARIANTS, BackboneConfig, ModelConfig
from engine.errors import ConfigError

PROBE = (
    "import sys, engine.clip.config, engine.training.config; "
    "heavy = [m for m in ('torch', 'open_clip') if m in sys.modules]; "
    "print(','.join(heavy)); sys.exit(1 if heavy else 0)"
)


def test_configs_import_without_torch() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"importing the configs pulled in: {done.stdout.strip()} {done.stderr[-500:]}"


def test_defaults_come_from_the_module_constants() -> None:
    cfg = BackboneConfig()
    assert (cfg.model_name, cfg.pretrained) == (DEFAULT_BACKBONE, DEFAULT_PRETRAINED) == ("RN50", "openai")


def test_variant_properties() -> None:
    assert ModelConfig().branches == ("image", "text") and ModelConfig().adapter == "local"
    assert not ModelConfig(variant="zeroshot").learned
    assert set(VARIANTS) >= {"zeroshot", "taidpt", "t2i", "t2ipal"}
    with pytest.raises(ConfigError, match="variant"):
        ModelConfig(variant="nope")


def test_old_modules_reexport_the_same_classes() -> None:
    from engine.clip import backbone, model

    assert backbone.BackboneConfig is BackboneConfig and model.ModelConfig is ModelConfig
