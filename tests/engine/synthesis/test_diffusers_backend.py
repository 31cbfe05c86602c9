"""The diffusers backend on a tiny random SD pipeline (2 steps, 64 px): seeds, cancel, resume, OOM, errors."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from engine.errors import Cancelled, ConfigError, EngineError, ModelNotFound
from engine.progress import CancelToken
from engine.project import Project
from engine.synthesis import Manifest, RenderRequest, SynthesisConfig, create_backend, synthesize
from engine.synthesis.diffusers_backend import DiffusersBackend, DiffusersConfig
from tests.engine.synthesis.fakes import captions


def _backend(model: Path, **kw: object) -> DiffusersBackend:
    return DiffusersBackend(DiffusersConfig(**{"model": str(model), "steps": 2, **kw}))  # type: ignore[arg-type]


def _arr(img: object) -> np.ndarray:
    return np.asarray(img, dtype=np.float64)


class CountingToken(CancelToken):
    """Sets itself on the n-th poll (so the cancel lands inside a denoising step)."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.polls = at, 0

    def raise_if_set(self) -> None:
        self.polls += 1
        if self.polls >= self.at:
            self.set()
        super().raise_if_set()


@pytest.fixture(scope="module")
def backend(tiny_sd: Path) -> DiffusersBackend:
    return _backend(tiny_sd)


def test_same_seed_same_pixels_independent_of_batching(tiny_sd: Path, backend: DiffusersBackend) -> None:
    reqs = [RenderRequest("a red square", 0, 11), RenderRequest("a blue circle", 0, 12)]
    a = backend.render(reqs)
    assert [im.size for im in a] == [(64, 64), (64, 64)] and a[0].mode == "RGB"
    b = _backend(tiny_sd).render(reqs)  # a fresh load
    assert all(np.array_equal(_arr(x), _arr(y)) for x, y in zip(a, b, strict=True))
    single = backend.render(reqs[1:])[0]
    assert np.abs(_arr(single) - _arr(a[1])).max() <= 2  # batching changes at most rounding
    other = backend.render([RenderRequest("a blue circle", 0, 13)])[0]
    assert np.abs(_arr(other) - _arr(a[1])).mean() > 1


def test_params_key_resolution_and_estimate(tiny_sd: Path, backend: DiffusersBackend) -> None:
    key = backend.params_key()
    assert key["model"] == str(tiny_sd.resolve()) and key["precision"] == "fp32" and key["steps"] == 2
    assert backend.resolution() == (64, 64)
    assert 0 < backend.estimate_seconds_per_image() < 60
    assert _backend(tiny_sd, steps=3).params_key() != key
    with pytest.raises(ConfigError, match="fp16 needs a CUDA"):
        _backend(tiny_sd, precision="fp16").params_key()
    with pytest.raises(ConfigError, match="multiple of 8"):
        DiffusersConfig(height=60)
    with pytest.raises(ConfigError, match="scheduler"):
        DiffusersConfig(scheduler="nope")
    made = create_backend("diffusers", preset="sd-turbo", model=str(tiny_sd))
    assert made.cfg.steps == 1 and made.cfg.guidance_scale == 0.0  # type: ignore[attr-defined]


def test_scheduler_and_negative_prompt(tiny_sd: Path, backend: DiffusersBackend) -> None:
    euler = _backend(tiny_sd, scheduler="euler_a")
    req = [RenderRequest("a cat", 0, 5)]
    img = euler.render(req)[0]
    assert type(euler.load().scheduler).__name__ == "EulerAncestralDiscreteScheduler"
    assert np.array_equal(_arr(img), _arr(euler.render(req)[0]))  # ancestral noise is seeded too
    neg = _backend(tiny_sd, negative_prompt="blurry").render(req)[0]
    assert np.abs(_arr(neg) - _arr(backend.render(req)[0])).mean() > 0


def test_synthesize_cancel_inside_step_then_resume(tiny_sd: Path, backend: DiffusersBackend, tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    cfg = SynthesisConfig(images_per_caption=2, batch_size=2)
    # polls per batch: runner (1) + before the pipeline (1) + 2 step callbacks -> poll 7 = step 1 of batch 2
    token = CountingToken(7)
    with pytest.raises(Cancelled):
        synthesize(captions(3), backend, project, cfg, cancel=token)
    files = sorted(project.synthetic_dir.rglob("*.png"))
    assert len(files) == 2 and not list(project.synthetic_dir.rglob("*.tmp"))
    manifest = Manifest(project.open_db(), project.synthetic_dir)
    assert manifest.verify(checksums=True).consistent

    result = synthesize(captions(3), backend, project, cfg)
    assert (result.made, result.skipped) == (4, 2)
    # the resumed images equal those of an uninterrupted run
    full = synthesize(captions(3), backend, Project(tmp_path / "q"), cfg)
    assert [r.sha256 for r in result.records] == [r.sha256 for r in full.records]
    report = manifest.verify(checksums=True)
    assert report.consistent and report.rows == 6


def test_out_of_memory_halves_the_batch(backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    reqs = [RenderRequest(f"thing {i}", 0, i) for i in range(4)]
    expected = backend.render(reqs)
    real_call, sizes = backend._call, []

    def flaky(pipe, requests, cancel):  # type: ignore[no-untyped-def]
        sizes.append(len(requests))
        if len(requests) > 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_call(pipe, requests, cancel)

    monkeypatch.setattr(backend, "_call", flaky)
    got = backend.render(reqs)
    assert sizes == [4, 2, 1, 1, 1, 1] and backend.batch_limit == 1
    assert all(np.abs(_arr(x) - _arr(y)).max() <= 2 for x, y in zip(got, expected, strict=True))

    def always(pipe, requests, cancel):  # type: ignore[no-untyped-def]
        raise RuntimeError("CUDA error: out of memory")

    monkeypatch.setattr(backend, "_call", always)
    with pytest.raises(EngineError, match="batch size 1"):
        backend.render(reqs[:1])
    backend.batch_limit = None


def test_offline_uncached_model_names_model_and_fetch_command(tmp_path: Path) -> None:
    b = DiffusersBackend(DiffusersConfig(model="nobody-here/no-such-model", cache_dir=str(tmp_path / "hf")))
    with pytest.raises(ModelNotFound) as info:
        b.load()
    msg = str(info.value)
    assert "t2ipal fetch sd nobody-here/no-such-model" in msg and str(tmp_path / "hf") in msg
    with pytest.raises(ModelNotFound, match="model_index.json"):
        DiffusersBackend(DiffusersConfig(model=str(tmp_path))).load()
    with pytest.raises(ModelNotFound, match="missing-folder"):
        DiffusersBackend(DiffusersConfig(model="./missing-folder")).load()


def test_large_model_on_cpu_warns_with_estimate(
    tiny_sd: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(DiffusersBackend, "_denoiser_params", lambda self: int(860e6))
    with caplog.at_level(logging.WARNING, logger="engine.synthesis"):
        b = _backend(tiny_sd)
        b.load()
    assert any("860 M parameters) on CPU" in r.getMessage() and "s per image" in r.getMessage() for r in caplog.records)
    assert b.estimate_seconds_per_image() > 1
