"""Which engine parts are installed, checked by file so nothing heavy (torch) is imported at start-up."""

from __future__ import annotations

from pathlib import Path

import engine

ENGINE_DIR = Path(engine.__file__).resolve().parent

# part name -> module files that must exist (relative to engine/)
PARTS: dict[str, tuple[str, ...]] = {
    "labels": ("labels/__init__.py",),
    "captions": ("captions/store.py",),
    "synthesis": ("synthesis/__init__.py",),
    "training": ("training/__init__.py", "clip/__init__.py"),
    "artifact": ("artifact.py",),
    "export": ("export/__init__.py",),
    "tagging": ("tagging/__init__.py",),
    "demo": ("demo/__init__.py",),
}

LABELS = {
    "labels": "label sets (engine/labels)",
    "captions": "captions (engine/captions)",
    "synthesis": "image synthesis (engine/synthesis)",
    "training": "training (engine/training)",
    "artifact": "model artifacts (engine/artifact.py)",
    "export": "ONNX export (engine/export)",
    "tagging": "tagging (engine/tagging)",
    "demo": "the demo world (engine/demo)",
}


def missing(*parts: str) -> list[str]:
    """Parts whose files are absent (an unknown name counts as missing)."""
    return [p for p in parts if p not in PARTS or not all((ENGINE_DIR / f).is_file() for f in PARTS[p])]


def describe_missing(parts: list[str]) -> str:
    names = ", ".join(LABELS.get(p, p) for p in parts)
    return f"Not available yet: this build has no {names}."
