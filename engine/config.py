"""Dataclass config base: dict/JSON round trip, a documented merge order, and field validators."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Self

from engine.errors import ConfigError


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Convert JSON values (lists, nested dicts) to the annotated type where it is unambiguous."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return hint.from_dict(value) if hasattr(hint, "from_dict") else hint(**value)  # type: ignore[operator]
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        if len(args) == 1:
            return _coerce(name, value, args[0])
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class ConfigBase:
    """Mixin for frozen dataclass configs.

    Merge order, everywhere: dataclass defaults -> config file (`from_json`) -> GUI/CLI overrides
    (`replace`). Each step re-runs `__post_init__` validation.
    """

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        if not isinstance(data, dict):
            raise ConfigError(cls.__name__, f"expected a mapping, got {type(data).__name__}")
        hints = _field_types(cls)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(unknown[0], f"unknown field for {cls.__name__}; known: {', '.join(sorted(names))}")
        kwargs = {k: _coerce(k, v, hints[k]) for k, v in data.items()}
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ConfigError(cls.__name__, str(exc)) from exc

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(value) and isinstance(value, ConfigBase):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, path: str | Path) -> Self:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(str(path), "config file not found") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(str(path), f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from exc
        return cls.from_dict(data)

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def replace(self, **overrides: Any) -> Self:
        """A copy with some fields changed (None values are ignored, so CLI defaults can pass through)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        names = {f.name for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        for key in clean:
            if key not in names:
                raise ConfigError(key, f"unknown field for {type(self).__name__}")
        return dataclasses.replace(self, **clean)  # type: ignore[type-var]


def require_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, f"must be a number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(name, f"must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


def require_int(name: str, value: Any, *, minimum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(name, f"must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be >= {minimum}, got {value!r}")


def require_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, f"must be a number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(name, f"must lie in [{low}, {high}], got {value!r}")


def require_choice(name: str, value: Any, choices: typing.Iterable[Any]) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise ConfigError(name, f"{value!r} is not one of {', '.join(map(repr, choices))}")
