"""Test doubles: a procedural backend (no torch) whose pixels depend only on the request seed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from PIL import Image

from engine.progress import CancelToken, check_cancel
from engine.synthesis.backend import RenderRequest


class ColourBackend:
    """Renders a flat colour from the seed; can sleep, cancel or crash after a number of images."""

    name = "colour"

    def __init__(self, size: int = 16, delay_s: float = 0.0, variant: str = "a") -> None:
        self.size = size
        self.delay_s = delay_s
        self.variant = variant
        self.calls: list[list[RenderRequest]] = []
        self.rendered = 0
        self.cancel_after: tuple[int, CancelToken] | None = None
        self.crash_after: int | None = None

    def params_key(self) -> dict[str, Any]:
        return {"model": "colour", "size": self.size, "variant": self.variant}

    def render(self, requests: Sequence[RenderRequest], *, cancel: CancelToken | None = None) -> list[Image.Image]:
        self.calls.append(list(requests))
        out = []
        for r in requests:
            check_cancel(cancel)
            if self.crash_after is not None and self.rendered >= self.crash_after:
                raise RuntimeError("simulated crash")
            if self.delay_s:
                time.sleep(self.delay_s)
            s = r.seed
            out.append(Image.new("RGB", (self.size, self.size), (s % 251, (s >> 8) % 251, (s >> 16) % 251)))
            self.rendered += 1
            if self.cancel_after is not None and self.rendered >= self.cancel_after[0]:
                self.cancel_after[1].set()
        return out


def captions(n: int) -> list[dict[str, Any]]:
    return [{"id": str(i), "text": f"a photo of thing number {i}", "labels": ["thing"]} for i in range(n)]
