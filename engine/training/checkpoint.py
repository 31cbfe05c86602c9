"""Training checkpoints: head weights + SGD momentum per epoch (safetensors) and the loop's state (last.json)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from engine.clip.model import T2IPAL
from engine.config import ConfigBase
from engine.errors import ArtifactError


def run_key(model: T2IPAL, train_cfg: ConfigBase, data_sizes: list[int]) -> str:
    """Identifies a training setup (model, training settings, classes, data sizes); a resume must match it."""
    blob = json.dumps([model.cfg.to_dict(), train_cfg.to_dict(), model.classnames, data_sizes], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


@dataclass
class LoopState:
    """Where the epoch loop stands: epochs done, the best selection value and its epoch, the history so far."""

    epoch: int = 0
    best_map: float = -1.0
    best_epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


def save_head(path: Path, model: T2IPAL, opt: torch.optim.Optimizer, meta: dict[str, Any]) -> None:
    """Head weights and the optimiser's momentum buffers, written atomically."""
    tensors = {f"head.{k}": v.contiguous() for k, v in model.head_state_dict().items()}
    for i, p in enumerate(model.head_parameters()):
        buf = opt.state.get(p, {}).get("momentum_buffer")
        if buf is not None:
            tensors[f"opt.{i}"] = buf.detach().contiguous()
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"meta": json.dumps(meta)})
    os.replace(tmp, path)


def load_head(path: Path, model: T2IPAL, opt: torch.optim.Optimizer | None = None) -> None:
    """Head weights into `model` and, when `opt` is given, the momentum buffers into `opt`."""
    tensors = load_file(str(path), device=str(model.backbone.device))
    model.load_head_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})
    if opt is None:
        return
    for i, p in enumerate(model.head_parameters()):
        if f"opt.{i}" in tensors:
            opt.state[p]["momentum_buffer"] = tensors[f"opt.{i}"].clone()


class Checkpoints:
    """One training run's checkpoint folder: last.safetensors, best.safetensors and last.json."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key

    def resume(self, model: T2IPAL, opt: torch.optim.Optimizer) -> LoopState | None:
        """Load the last epoch's head and momentum; None when the folder holds no checkpoint yet."""
        state_file = self.folder / "last.json"
        if not state_file.exists():
            return None
        meta = json.loads(state_file.read_text())
        if meta.get("run_key") != self.key:
            raise ArtifactError(
                f"{self.folder} holds a checkpoint of a different training setup; choose another output folder "
                "or delete its checkpoints/ to start over"
            )
        load_head(self.folder / "last.safetensors", model, opt)
        return LoopState(meta["epoch"], meta["best_map"], meta["best_epoch"], meta["history"])

    def save(self, model: T2IPAL, opt: torch.optim.Optimizer, state: LoopState, improved: bool) -> None:
        """Write the epoch `state.epoch` just finished (also as the best one when it `improved`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if improved:
            save_head(self.folder / "best.safetensors", model, opt, {"epoch": state.epoch})
        save_head(self.folder / "last.safetensors", model, opt, {"epoch": state.epoch})
        meta = {"run_key": self.key, "epoch": state.epoch, "best_map": state.best_map, "best_epoch": state.best_epoch,
                "history": state.history}
        tmp = self.folder / "last.json.tmp"
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, self.folder / "last.json")

    def load_best(self, model: T2IPAL) -> None:
        """Put the best epoch's head back into `model` (nothing when no epoch was saved as best)."""
        if (self.folder / "best.safetensors").exists():
            load_head(self.folder / "best.safetensors", model)
