"""T2I-PAL Tagger desktop app (PySide6): a thin window over the engine; never imported by the engine."""

import engine  # noqa: F401  # sets the offline environment (no hub, no telemetry) before any library loads

__all__ = ["__version__"]
__version__ = "0.1.0"
