"""Training checkpoints: head weights, SGD momentum, the best head and the loop state in one atomic file."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from engine.clip.model import T2IPAL
from engine.config import ConfigBase
from engine.hashing import sha1_hex

log = logging.getLogger(__name__)


def run_key(model: T2IPAL, train_cfg: ConfigBase, data_sizes: list[int]) -> str:
    """Identifies a training setup (model, training settings, classes, data sizes); a resume must match it."""
    blob = json.dumps([model.cfg.to_dict(), train_cfg.to_dict(), model.classnames, data_sizes], sort_keys=True)
    return sha1_hex(blob, 16)


@dataclass
class LoopState:
    """Where the epoch loop stands: epochs done, the best selection value and its epoch, the history so far."""

    epoch: int = 0
    best_map: float = -1.0
    best_epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


STATE_FILE = "state.safetensors"  # head, momentum, the best epoch's head and the loop state: one atomic file


def _head(model: T2IPAL) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone().contiguous() for k, v in model.head_state_dict().items()}


def _momentum(model: T2IPAL, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    out = {}
    for i, p in enumerate(model.head_parameters()):
        buf = opt.state.get(p, {}).get("momentum_buffer")
        if buf is not None:
            out[f"opt.{i}"] = buf.detach().clone().contiguous()
    return out


class Checkpoints:
    """One training run's checkpoint: a single file replaced atomically after every epoch.

    Weights, momentum, the best epoch's weights and the loop state are written together, so a kill at any
    moment leaves either the previous epoch's checkpoint or the new one, never a mix of the two.
    """

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key
        self._best: dict[str, torch.Tensor] | None = None

    def resume(self, model: T2IPAL, opt: torch.optim.Optimizer) -> LoopState | None:
        """Load the last epoch's head and momentum; None when there is no checkpoint of this setup to resume.

        A checkpoint of another setup (the project's captions, images or settings changed since the training was
        interrupted) cannot be resumed: the training starts over and overwrites it after its first epoch.
        """
        path = self.folder / STATE_FILE
        if not path.exists():
            if (self.folder / "last.json").exists():
                log.warning("%s holds a checkpoint of an older app version; training starts over", self.folder)
            return None
        with safe_open(str(path), framework="pt", device=str(model.backbone.device)) as fh:
            meta = json.loads((fh.metadata() or {}).get("state", "{}"))
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no items()
        if meta.get("run_key") != self.key:  # an interrupted training of other data or settings: not resumable
            log.warning("%s holds an interrupted training of another setup (other data or settings); training "
                        "starts over", self.folder)
            return None
        model.load_head_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})
        for i, p in enumerate(model.head_parameters()):
            if f"opt.{i}" in tensors:
                opt.state[p]["momentum_buffer"] = tensors[f"opt.{i}"].clone()
        best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        self._best = best or None
        return LoopState(meta["epoch"], meta["best_map"], meta["best_epoch"], meta["history"])

    def save(self, model: T2IPAL, opt: torch.optim.Optimizer, state: LoopState, improved: bool) -> None:
        """Write the epoch `state.epoch` just finished (also as the best one when it `improved`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        head = _head(model)
        if improved:
            self._best = {k: v.clone() for k, v in head.items()}
        tensors = {f"head.{k}": v for k, v in head.items()} | _momentum(model, opt)
        tensors |= {f"best.{k}": v for k, v in (self._best or {}).items()}
        meta = {"run_key": self.key, "epoch": state.epoch, "best_map": state.best_map, "best_epoch": state.best_epoch,
                "history": state.history}
        tmp = self.folder / (STATE_FILE + ".tmp")
        save_file(tensors, str(tmp), metadata={"state": json.dumps(meta)})
        os.replace(tmp, self.folder / STATE_FILE)

    def load_best(self, model: T2IPAL) -> None:
        """Put the best epoch's head back into `model` (nothing when no epoch was saved as best)."""
        if self._best:
            model.load_head_state_dict({k: v.clone() for k, v in self._best.items()})
