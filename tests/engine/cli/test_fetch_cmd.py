"""`t2ipal fetch`: help, offline mode off only around the download, and a clear error when it fails (no network)."""

from __future__ import annotations

import os
import socket

import pytest

from engine.cli.main import main
from engine.weights import sd_patterns


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Any real connection attempt fails the test instead of reaching out."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"test tried to open a network connection: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def hub_offline(monkeypatch):
    """The package default: offline in the environment and in an already-imported hub constant."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return constants


def test_help_lists_both_kinds(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fetch", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "clip" in out and "sd" in out
    with pytest.raises(SystemExit) as exc:
        main(["fetch", "sd", "--help"])
    assert exc.value.code == 0 and "--variant" in capsys.readouterr().out


def test_sd_turns_offline_off_for_the_download_only(hub_offline, tmp_path, monkeypatch, capsys):
    import huggingface_hub

    seen = {}
    snapshot = tmp_path / "snapshot"
    (snapshot / "unet").mkdir(parents=True)
    (snapshot / "model_index.json").write_text("{}")
    (snapshot / "unet" / "diffusion_pytorch_model.fp16.safetensors").write_bytes(b"x" * 1000)

    def fake_snapshot_download(repo_id, **kwargs):
        seen.update(env=os.environ.get("HF_HUB_OFFLINE"), const=hub_offline.HF_HUB_OFFLINE, repo=repo_id, **kwargs)
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    code = main(["fetch", "sd", "stable-diffusion-v1-5/stable-diffusion-v1-5", "--variant", "fp16",
                 "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    assert seen["env"] == "0" and seen["const"] is False
    assert seen["repo"] == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert seen["cache_dir"] == str(tmp_path / "cache")
    assert "*/*.fp16.safetensors" in seen["allow_patterns"]
    assert str(snapshot) in capsys.readouterr().out
    # offline again afterwards, so nothing else in this process starts downloading
    assert os.environ["HF_HUB_OFFLINE"] == "1" and hub_offline.HF_HUB_OFFLINE is True


def test_clip_turns_offline_off_for_the_download_only(hub_offline, tmp_path, monkeypatch, capsys):
    import huggingface_hub

    seen = {}
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "open_clip_model.safetensors").write_bytes(b"y" * 2000)

    def fake_snapshot_download(repo_id, **kwargs):
        seen.update(env=os.environ.get("HF_HUB_OFFLINE"), const=hub_offline.HF_HUB_OFFLINE, repo=repo_id,
                    allow=kwargs["allow_patterns"], cache_dir=kwargs["cache_dir"])
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    code = main(["fetch", "clip", "RN50", "openai", "--cache-dir", str(tmp_path)])
    assert code == 0
    assert seen == {"env": "0", "const": False, "repo": "timm/resnet50_clip.openai",
                    "allow": ["open_clip_model.safetensors"], "cache_dir": str(tmp_path)}
    assert str(snapshot) in capsys.readouterr().out
    assert os.environ["HF_HUB_OFFLINE"] == "1" and hub_offline.HF_HUB_OFFLINE is True


def test_unknown_clip_tag_is_an_input_error_without_download(hub_offline, monkeypatch, capsys):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda *a, **k: pytest.fail("must not download"))
    assert main(["fetch", "clip", "RN50", "no-such-tag"]) == 1
    err = capsys.readouterr().err
    assert "no pretrained tag 'no-such-tag'" in err and "openai" in err


@pytest.mark.parametrize("what", ["sd", "clip"])
def test_download_failure_is_a_clear_error(what, hub_offline, monkeypatch, capsys):
    from huggingface_hub.errors import LocalEntryNotFoundError

    def fail(*args, **kwargs):
        raise LocalEntryNotFoundError("An error happened while trying to locate the file on the Hub.")

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fail)
    if what == "sd":
        argv = ["fetch", "sd", "stable-diffusion-v1-5/stable-diffusion-v1-5"]
    else:
        argv = ["fetch", "clip", "RN50", "openai"]
    monkeypatch.setenv("HF_ENDPOINT", "https://mirror.example")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "seems offline" in err and "HF_ENDPOINT" in err and "https://mirror.example" in err
    assert "check the network connection" in err.lower()
    assert os.environ["HF_HUB_OFFLINE"] == "1" and hub_offline.HF_HUB_OFFLINE is True


def test_sd_patterns_pick_component_weights_only():
    from huggingface_hub.utils import filter_repo_objects

    files = [
        "model_index.json", "v1-5-pruned.safetensors", "v1-5-pruned-emaonly.ckpt", "scheduler/scheduler_config.json",
        "tokenizer/merges.txt", "tokenizer/vocab.json", "text_encoder/model.safetensors",
        "text_encoder/model.fp16.safetensors", "text_encoder/pytorch_model.bin", "unet/diffusion_pytorch_model.bin",
        "unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
        "unet/diffusion_pytorch_model.non_ema.safetensors", "tokenizer_3/spiece.model",
    ]

    def chosen(variant):
        allow, ignore = sd_patterns(variant)
        return set(filter_repo_objects(files, allow_patterns=allow, ignore_patterns=ignore))

    full = chosen(None)
    assert {"model_index.json", "tokenizer/merges.txt", "text_encoder/model.safetensors",
            "unet/diffusion_pytorch_model.safetensors", "tokenizer_3/spiece.model"} <= full
    assert not any(f.endswith((".ckpt", ".bin")) or ".fp16." in f or "non_ema" in f for f in full)
    assert "v1-5-pruned.safetensors" not in full
    half = chosen("fp16")
    assert {"text_encoder/model.fp16.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors"} <= half
    assert "unet/diffusion_pytorch_model.safetensors" not in half and "v1-5-pruned.safetensors" not in half
