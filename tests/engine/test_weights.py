"""Fetching weights end to end against a fake hub on 127.0.0.1: the real huggingface_hub download code runs."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from engine.api import weights
from engine.errors import Cancelled, InputError
from engine.progress import CancelToken
from tests.fake_hub import serve, tiny_diffusers_repo


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Connections go to 127.0.0.1 only; anything else fails the test instead of reaching out."""
    real_connect = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"test tried to reach {address}")
        return real_connect(self, address)

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"test tried to look up {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_fetch_sd_downloads_the_component_weights_into_the_cache(tmp_path):
    events = []
    with serve({"org/tiny-sd": tiny_diffusers_repo()}) as hub:
        result = weights.fetch_sd("org/tiny-sd", cache_dir=str(tmp_path), endpoint=hub.url, progress=events.append)
    files = {p.relative_to(result.path).as_posix() for p in Path(result.path).rglob("*")
             if p.is_file()}
    assert files == {"model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                     "tokenizer/vocab.json"}
    assert (tmp_path / "models--org--tiny-sd").is_dir()
    assert not any("fp16" in r or r.endswith((".bin", ".ckpt")) for r in hub.requests if r.startswith("GET /org"))
    assert events[-1].done == events[-1].total >= 50_000
    cached = weights.list_cached_models(str(tmp_path))
    assert [(m.repo_id, m.kind, m.files) for m in cached] == [("org/tiny-sd", "text-to-image", 4)]


def test_fetch_sd_variant_takes_the_half_precision_files(tmp_path):
    with serve({"org/tiny-sd": tiny_diffusers_repo()}) as hub:
        result = weights.fetch_sd("org/tiny-sd", variant="fp16", cache_dir=str(tmp_path), endpoint=hub.url)
    assert (tmp_path / "models--org--tiny-sd").is_dir()
    assert "unet/diffusion_pytorch_model.fp16.safetensors" in {
        p.relative_to(result.path).as_posix() for p in Path(result.path).rglob("*")}
    assert result.what == "text-to-image model org/tiny-sd (fp16)"


def test_cancel_stops_the_download(tmp_path):
    cancel = CancelToken()

    def cancel_on_first_bytes(event):
        cancel.set()

    with serve({"org/tiny-sd": tiny_diffusers_repo()}) as hub, pytest.raises(Cancelled):
        weights.fetch_sd("org/tiny-sd", cache_dir=str(tmp_path), endpoint=hub.url,
                         progress=cancel_on_first_bytes, cancel=cancel)
    assert not (tmp_path / "models--org--tiny-sd" / "snapshots").exists() or not any(
        p.name == "diffusion_pytorch_model.safetensors"
        for p in (tmp_path / "models--org--tiny-sd" / "snapshots").rglob("*"))


def test_never_download_refuses_before_any_request(tmp_path):
    with serve({"org/tiny-sd": tiny_diffusers_repo()}) as hub:
        with pytest.raises(InputError, match="Never download"):
            weights.fetch_sd("org/tiny-sd", cache_dir=str(tmp_path), endpoint=hub.url, allow_download=False)
        assert hub.requests == []


def test_missing_repo_is_a_model_not_found_naming_the_endpoint(tmp_path):
    from engine.errors import ModelNotFound

    with serve({}) as hub, pytest.raises(ModelNotFound) as exc:
        weights.fetch_sd("org/nothing", cache_dir=str(tmp_path), endpoint=hub.url)
    assert hub.url in str(exc.value)


def test_fetched_clip_is_where_open_clip_looks_offline(tmp_path, tiny_clip_file):
    import open_clip

    cfg = open_clip.get_pretrained_cfg("RN50", "openai")
    repo_id = cfg["hf_hub"].rstrip("/")
    repo = {"open_clip_model.safetensors": tiny_clip_file.read_bytes(), "open_clip_pytorch_model.bin": b"pickle",
            "README.md": b"# not fetched"}
    events = []
    with serve({repo_id: repo}) as hub:
        result = weights.fetch_clip("RN50", "openai", cache_dir=str(tmp_path), endpoint=hub.url,
                                    progress=events.append)
        fetched = [r for r in hub.requests if r.startswith("GET /timm")]
    assert [r.rsplit("/", 1)[-1] for r in fetched] == ["open_clip_model.safetensors"]
    assert result.files == 1 and events[-1].done == tiny_clip_file.stat().st_size
    # offline now: open_clip resolves the same tag to the fetched file without any request
    found = open_clip.download_pretrained(cfg, cache_dir=str(tmp_path))
    assert found.endswith("open_clip_model.safetensors")
    assert [(m.repo_id, m.kind) for m in weights.list_cached_models(str(tmp_path))] == [(repo_id, "clip")]


def test_unknown_clip_tag_is_an_input_error_without_download(tmp_path):
    with serve({}) as hub, pytest.raises(InputError, match="no pretrained tag 'nope'"):
        weights.fetch_clip("RN50", "nope", cache_dir=str(tmp_path), endpoint=hub.url)
    assert hub.requests == []
