"""User settings over QSettings: model ids or folders, cache, device, offline mode, theme, recent projects."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from engine.clip.config import DEFAULT_BACKBONE, DEFAULT_PRETRAINED
from engine.synthesis.diffusers_backend import DiffusersConfig

ORG = "T2I-PAL"
APP = "T2I-PAL Tagger"
MAX_RECENT = 8
DEVICES = ("auto", "cpu", "cuda")
THEMES = ("system", "light", "dark")


@dataclass
class Preferences:
    """What the preferences dialog edits; every field has a sensible offline default."""

    synthesis_model: str = DiffusersConfig.model  # hub id or a local folder
    clip_model: str = DEFAULT_BACKBONE  # open_clip model name
    clip_pretrained: str = DEFAULT_PRETRAINED  # tag, folder, "local-dir:…" or "hf-hub:…"
    cache_dir: str = ""  # empty: the hub's default cache
    device: str = "auto"
    offline: bool = True
    theme: str = "system"


def open_settings() -> QSettings:
    """INI settings in the user scope (tests and screenshots redirect them with QSettings.setPath)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


class AppSettings:
    """Typed access to the app's QSettings."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or open_settings()

    # -- preferences ------------------------------------------------------------------------------
    def preferences(self) -> Preferences:
        prefs = Preferences()
        for f in fields(Preferences):
            default = getattr(prefs, f.name)
            value = self.q.value(f"prefs/{f.name}", default)
            if isinstance(default, bool):
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            setattr(prefs, f.name, type(default)(value))
        if prefs.device not in DEVICES:
            prefs.device = "auto"
        if prefs.theme not in THEMES:
            prefs.theme = "system"
        return prefs

    def save_preferences(self, prefs: Preferences) -> None:
        for f in fields(Preferences):
            self.q.setValue(f"prefs/{f.name}", getattr(prefs, f.name))
        self.q.sync()
        apply_environment(prefs)

    # -- recent projects --------------------------------------------------------------------------
    def recent_projects(self) -> list[str]:
        value = self.q.value("recent_projects", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or [] if v] if isinstance(value, list) else []

    def add_recent(self, path: str | Path) -> list[str]:
        text = str(Path(path))
        recent = [text] + [p for p in self.recent_projects() if p != text]
        recent = recent[:MAX_RECENT]
        self.q.setValue("recent_projects", recent)
        return recent

    def clear_recent(self) -> None:
        self.q.setValue("recent_projects", [])

    # -- window -----------------------------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        value = self.q.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self.q.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)
        self.q.sync()

    def value(self, key: str, default: object = None) -> object:
        return self.q.value(key, default)

    def set_value(self, key: str, value: object) -> None:
        self.q.setValue(key, value)


def apply_environment(prefs: Preferences) -> None:
    """Offline mode and the cache folder are read by the hub libraries from the environment."""
    os.environ["HF_HUB_OFFLINE"] = "1" if prefs.offline else "0"
    if prefs.cache_dir:
        os.environ["HF_HOME"] = prefs.cache_dir
