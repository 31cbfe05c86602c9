"""The renderer interface (`SynthesisBackend`), its request type and a registry of backends by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from engine.errors import ConfigError

if TYPE_CHECKING:
    from PIL import Image

    from engine.progress import CancelToken


@dataclass(frozen=True)
class RenderRequest:
    """One image to render: the caption text, which image of that caption, and its seed.

    `labels` and `key` (the caption's text hash) are extra context; a renderer may ignore them.
    """

    caption: str
    index: int
    seed: int
    labels: tuple[str, ...] = ()
    key: str = ""


@runtime_checkable
class SynthesisBackend(Protocol):
    """A text-to-image renderer.

    - `name`: short backend name ("diffusers", "demo", ...), stored in the manifest.
    - `params_key()`: a JSON-able dict of everything that changes the pixels (model, steps, size...);
      its hash names the cache folder, so a changed value makes new images beside the old ones.
      Do not put batch size or device in it.
    - `render(requests, cancel=...)`: one RGB PIL image per request, in order. The pixels must depend
      only on the request (its seed) and `params_key()`, not on how requests are batched. Poll
      `cancel.raise_if_set()` (raises `engine.errors.Cancelled`) as often as is cheap.
    """

    name: str

    def params_key(self) -> dict[str, Any]: ...

    def render(self, requests: Sequence[RenderRequest], *, cancel: CancelToken | None = None) -> list[Image.Image]: ...


BackendFactory = Callable[..., SynthesisBackend]


def diffusers_backend(**options: Any) -> SynthesisBackend:
    """The diffusers text-to-image backend (torch and diffusers are imported only here)."""
    from engine.synthesis.diffusers_backend import DiffusersBackend

    return DiffusersBackend.from_options(**options)


# name -> factory; higher layers add theirs with `register_backend` (the demo world registers "demo")
_REGISTRY: dict[str, BackendFactory] = {"diffusers": diffusers_backend}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make `create_backend(name, **options)` call `factory(**options)`; a later call replaces it."""
    _REGISTRY[name] = factory


def available_backends() -> list[str]:
    return sorted(_REGISTRY)


def create_backend(name: str, **options: Any) -> SynthesisBackend:
    """Build a registered backend; factories import their heavy modules on first use (no torch at import)."""
    factory = _REGISTRY.get(name)
    if factory is None:
        raise ConfigError("backend", f"unknown synthesis backend {name!r}; known: {', '.join(available_backends())}")
    return factory(**options)
