"""Model weights in the Hugging Face cache: list what is there, fetch CLIP or text-to-image models with progress."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import hub
from engine.errors import ConfigError, EngineError, InputError, ModelNotFound
from engine.progress import CancelToken, ProgressCallback, ProgressReporter, check_cancel

log = logging.getLogger(__name__)

DEFAULT_SD = "stable-diffusion-v1-5/stable-diffusion-v1-5"
# Weight variants diffusers repos ship beside the default files; all but the chosen one are skipped.
KNOWN_VARIANTS = ("fp16", "bf16", "fp32", "non_ema", "ema_only")
KINDS = ("clip", "text-to-image", "other")
NEVER_DOWNLOAD = (
    "downloads are off (“Never download” in Preferences, or HF_HUB_OFFLINE=1): untick “Never download” "
    "on a connected machine, or run `t2ipal fetch …` there and copy the Hugging Face cache over"
)


@dataclass(frozen=True)
class CachedModel:
    """One repository in the hub cache: what kind of model it holds, its size and its newest snapshot."""

    repo_id: str
    kind: str  # one of KINDS
    size_bytes: int
    path: str  # the newest snapshot folder
    files: int


@dataclass(frozen=True)
class FetchResult:
    """Where a fetched model lies, and how much of it is on disk."""

    what: str
    path: str
    files: int
    size_bytes: int


def _kind(files: set[str]) -> str:
    names = {Path(f).name for f in files}
    if "model_index.json" in files:
        return "text-to-image"
    if "open_clip_config.json" in names or any(n.startswith("open_clip_") for n in names):
        return "clip"
    return "other"


def list_cached_models(cache_dir: str | None = None) -> list[CachedModel]:
    """The models in the hub cache (CLIP and text-to-image first), without touching the network."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(hub.cache_dir(cache_dir))
    except CacheNotFound:
        return []
    models = []
    for repo in info.repos:
        if repo.repo_type != "model" or not repo.revisions:
            continue
        newest = max(repo.revisions, key=lambda r: r.last_modified)
        files = {str(f.file_path.relative_to(newest.snapshot_path)) for f in newest.files}
        models.append(CachedModel(repo.repo_id, _kind(files), repo.size_on_disk, str(newest.snapshot_path),
                                  len(files)))
    return sorted(models, key=lambda m: (KINDS.index(m.kind), m.repo_id.lower()))


@contextlib.contextmanager
def online() -> Iterator[None]:
    """Turn Hugging Face offline mode off for this process (env and, if loaded, the hub's constant); restore after."""
    before_env = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "0"
    constants = sys.modules.get("huggingface_hub.constants")
    before_const = getattr(constants, "HF_HUB_OFFLINE", None) if constants is not None else None
    if constants is not None:
        constants.HF_HUB_OFFLINE = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if before_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = before_env
        if constants is not None:
            constants.HF_HUB_OFFLINE = before_const  # type: ignore[attr-defined]
        elif "huggingface_hub.constants" in sys.modules:  # first imported while online: read the restored env
            loaded = sys.modules["huggingface_hub.constants"]
            loaded.HF_HUB_OFFLINE = hub.offline(before_env or "")  # type: ignore[attr-defined]


def _endpoint(endpoint: str | None) -> str:
    return endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


def download_error(what: str, exc: BaseException, endpoint: str | None = None) -> EngineError:
    """A download failure as a one-line, actionable error."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    cause = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    if type(exc).__name__ in ("RepositoryNotFoundError", "GatedRepoError"):
        return ModelNotFound(
            f"could not download {what}: the repository was not found at {_endpoint(endpoint)} or needs a login "
            f"(accept its licence on the website, then `hf auth login`). Cause: {cause}"
        )
    return ModelNotFound(
        f"could not download {what}: this machine seems offline or cannot reach {_endpoint(endpoint)}. Check the "
        f"network connection (and proxy), or HF_ENDPOINT if you use a mirror. Cause: {cause}"
    )


def _caused_by_io(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, OSError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def folder_size(path: Path) -> tuple[int, int]:
    """(files, bytes) under `path` (a file counts as one)."""
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else ([path] if path.is_file() else [])
    return len(files), sum(p.stat().st_size for p in files)


def _byte_bar(reporter: ProgressReporter, cancel: CancelToken | None) -> type:
    """A tqdm look-alike for huggingface_hub's `tqdm_class`: forwards bytes to `reporter`, raises on cancel."""
    lock = threading.Lock()

    class Bar:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.counts_bytes = kwargs.get("unit") == "B" and not str(kwargs.get("desc", "")).startswith("Download")
            self.total = kwargs.get("total")
            self.n = 0

        def __enter__(self) -> Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, n: int | float | None = 1) -> None:
            check_cancel(cancel)
            self.n += int(n or 0)
            if self.counts_bytes:
                with lock:
                    reporter.total = int(self.total or 0) or None
                    reporter.advance(int(n or 0), "downloading")

        def __setattr__(self, name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        def refresh(self, *args: Any, **kwargs: Any) -> None:
            return None

        close = clear = set_description = set_description_str = set_postfix_str = refresh

    return Bar


def _require_online(allow_download: bool, what: str) -> None:
    if not allow_download:
        raise InputError(f"cannot fetch {what}: {NEVER_DOWNLOAD}")


def fetch_sd(
    model_id: str,
    *,
    variant: str | None = None,
    revision: str | None = None,
    cache_dir: str | None = None,
    endpoint: str | None = None,
    allow_download: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FetchResult:
    """Download a diffusers model snapshot (configs, tokenizer files, safetensors weights) into the cache."""
    what = f"text-to-image model {model_id}" + (f" ({variant})" if variant else "")
    _require_online(allow_download, what)
    path = _snapshot(model_id, sd_patterns(variant), revision=revision, cache_dir=cache_dir, endpoint=endpoint,
                     what=what, progress=progress, cancel=cancel)
    files, size = folder_size(Path(path))
    return FetchResult(what, path, files, size)


def sd_patterns(variant: str | None) -> tuple[list[str], list[str]]:
    """(allow, ignore) patterns: configs, tokenizer files and the components' safetensors, no single-file ckpts."""
    allow = ["*.json", "*.txt", "*/*.model"]
    if variant:
        allow.append(f"*/*.{variant}.safetensors")
        ignore = [f"*.{v}.safetensors" for v in KNOWN_VARIANTS if v != variant]
    else:
        allow.append("*/*.safetensors")
        ignore = [f"*.{v}.safetensors" for v in KNOWN_VARIANTS]
    return allow, ignore


def _snapshot(
    repo_id: str,
    patterns: tuple[list[str] | None, list[str] | None],
    *,
    revision: str | None,
    cache_dir: str | None,
    endpoint: str | None,
    what: str,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> str:
    reporter = ProgressReporter(progress, "Downloading", None)
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None  # read now: the hub's constant is fixed at import
    check_cancel(cancel)
    with online():
        import huggingface_hub

        try:
            path = huggingface_hub.snapshot_download(
                repo_id, revision=revision, cache_dir=cache_dir, endpoint=endpoint, allow_patterns=patterns[0],
                ignore_patterns=patterns[1], tqdm_class=_byte_bar(reporter, cancel), max_workers=4,
            )
        except (OSError, ConnectionError) as exc:
            raise download_error(what, exc, endpoint) from exc
        except ValueError as exc:
            raise InputError(f"{repo_id!r} is not a valid Hugging Face model id: {exc}") from exc
        except Exception as exc:  # httpx errors are neither OSError nor ValueError
            if type(exc).__module__.startswith(("httpx", "huggingface_hub")):
                raise download_error(what, exc, endpoint) from exc
            raise
    reporter.report("done", force=True)
    return str(path)


def _clip_files(model: str, tag: str | None) -> tuple[str, list[str]]:
    """(hub repo, weight files open_clip looks for, safetensors first) for `model`/`tag` or `hf-hub:ORG/REPO`."""
    import open_clip
    from open_clip.constants import HF_CONFIG_NAME, HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

    if model.startswith("hf-hub:"):
        return model.removeprefix("hf-hub:"), [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME, HF_CONFIG_NAME]
    if model not in open_clip.list_models():
        raise ConfigError("model", f"{model!r} is not a known open_clip model; see `open_clip.list_models()`")
    tags = open_clip.list_pretrained_tags_by_model(model)
    if not tag:
        raise InputError(f"give a pretrained TAG for {model}: one of {', '.join(tags) or '(none known)'}")
    if tag not in tags:
        raise InputError(f"{model} has no pretrained tag {tag!r}; known tags: {', '.join(tags) or '(none)'}")
    cfg: Any = open_clip.get_pretrained_cfg(model, tag) or {}
    repo, filename = os.path.split(str(cfg.get("hf_hub", "")))
    if not repo:
        raise InputError(f"{model}/{tag} is not on the Hugging Face hub; download its checkpoint file yourself and "
                         "give its path as the CLIP weights")
    filename = filename or HF_WEIGHTS_NAME
    safe = HF_SAFE_WEIGHTS_NAME if filename == HF_WEIGHTS_NAME else str(Path(filename).with_suffix(".safetensors"))
    return repo, [safe, filename]


def fetch_clip(
    model: str,
    tag: str | None = None,
    *,
    cache_dir: str | None = None,
    endpoint: str | None = None,
    allow_download: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FetchResult:
    """Download open_clip weights (`RN50 openai`, or `hf-hub:ORG/REPO`) into the cache: the safetensors file when
    the repo has one, else the file open_clip falls back to; the next `load_backbone` finds them offline."""
    what = f"CLIP weights {model}" + (f"/{tag}" if tag else "")
    _require_online(allow_download, what)
    from engine import torch_ready

    torch_ready()
    from engine.clip.backbone import _register_configs

    _register_configs(None)
    repo, files = _clip_files(model, tag)
    weights = [f for f in files if not f.endswith(".json")]
    extra = [f for f in files if f.endswith(".json")]
    path = ""
    for weight in weights:  # safetensors first; the fallback file only when the repo has no safetensors
        path = _snapshot(repo, ([weight, *extra], None), revision=None, cache_dir=cache_dir, endpoint=endpoint,
                         what=what, progress=progress, cancel=cancel)
        if (Path(path) / weight).is_file():
            break
    else:
        raise ModelNotFound(f"could not download {what}: the repository {repo} has none of {', '.join(weights)}")
    files_n, size = folder_size(Path(path))
    return FetchResult(what, path, files_n, size)
