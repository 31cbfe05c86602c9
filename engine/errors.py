"""The engine's error hierarchy: short named classes whose messages say what to do."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ConfigError(EngineError, ValueError):
    """A configuration value is invalid; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class InputError(EngineError, ValueError):
    """Bad user input (a file, a folder, a label set); the message says where and what to fix."""


class ModelNotFound(EngineError, FileNotFoundError):
    """Weights or a model folder are missing; the message says what to download and where."""


class ArtifactError(EngineError):
    """A saved model folder is incomplete, corrupt or does not match what was expected."""


class ExportError(EngineError):
    """ONNX export failed or the exported graph does not match the torch model."""


class Cancelled(EngineError):
    """A job stopped because its cancel token was set; its persisted state is consistent."""


class DependencyMissing(EngineError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class StorageError(EngineError):
    """The project database or a file cache could not be written or read consistently."""
