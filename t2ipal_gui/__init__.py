"""T2I-PAL Tagger desktop app (PySide6): a thin window over the engine; never imported by the engine."""

__all__ = ["__version__"]
__version__ = "0.1.0"
