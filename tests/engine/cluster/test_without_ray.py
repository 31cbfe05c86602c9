"""The cluster layer's cheap guarantees: configs validate, Ray stays optional, and only engine/cluster imports it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cluster.config import RayConfig
from engine.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def test_ray_config_validates_and_falls_back_to_the_jobs_batch_size() -> None:
    assert RayConfig().rows_per_call(32) == 32
    assert RayConfig(batch_size=8).rows_per_call(32) == 8
    with pytest.raises(ConfigError, match="actors"):
        RayConfig(actors=-1)
    with pytest.raises(ConfigError, match="cpus_per_actor"):
        RayConfig(cpus_per_actor=0.0)


def test_only_engine_cluster_imports_ray() -> None:
    pattern = re.compile(r"^\s*(import ray\b|from ray\b)", re.MULTILINE)
    offenders = [
        str(p.relative_to(REPO)) for p in sorted((REPO / "engine").rglob("*.py"))
        if pattern.search(p.read_text(encoding="utf-8")) and "cluster" not in p.relative_to(REPO / "engine").parts
    ]
    assert offenders == []


def test_the_cli_and_api_load_no_ray_until_a_ray_job_runs() -> None:
    code = "import sys, engine.api, engine.cli.main, engine.cluster.config; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_the_extra_ray_says_what_to_install(tmp_path: Path) -> None:
    # a `ray` package that fails to import stands in for a machine without the [cluster] extra
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "__init__.py").write_text("raise ImportError('no ray here')\n")
    code = (
        "from engine.cli.main import main; import sys; "
        "sys.exit(main(['tag', 'photos', '--model', 'm.onnx', '--db', 'd.db', '--ray']))"
    )
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert 'pip install "t2ipal-tagger[cluster]"' in out.stderr
