"""Model artifact folders: config.json + weights.safetensors + labels.json; loaded without unpickling."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import __version__
from engine.clip.config import BackboneConfig, ModelConfig
from engine.errors import ArtifactError, InputError
from engine.hashing import sha256_file
from engine.imaging import PreprocessSpec

if TYPE_CHECKING:
    import torch

    from engine.clip.backbone import ClipBackbone
    from engine.clip.inference import TaggerModule
    from engine.clip.model import T2IPAL
    from engine.labels.labelset import LabelSet

FORMAT = "t2ipal-model"
FORMAT_VERSION = 1
CONFIG_FILE, WEIGHTS_FILE, LABELS_FILE = "config.json", "weights.safetensors", "labels.json"
CONSTANT_KEYS = ("const.class_global", "const.class_local", "const.alpha", "const.inv_tau")


def read_labels(data: Any, *, source: str) -> LabelSet:
    """labels.json as a LabelSet: the label-set format, or the older `{names, prompt_names, parents}` one."""
    from engine.labels.labelset import LabelSet

    if isinstance(data, dict) and "names" in data and "labels" not in data:
        names = [str(n) for n in data["names"]]
        prompts = [str(p) for p in (data.get("prompt_names") or names)]
        parents = dict(data.get("parents") or {})
        if len(prompts) != len(names):
            raise ArtifactError(f"{source}: prompt_names and names differ in length")
        labels = [{"name": n, "prompt": p, "parent": parents.get(n)} for n, p in zip(names, prompts, strict=True)]
        data = {"name": "model", "labels": labels}
    try:
        return LabelSet.from_dict(data, source=source)
    except InputError as exc:
        raise ArtifactError(str(exc)) from exc


def save_pretrained(
    model: T2IPAL,
    folder: str | Path,
    labels: LabelSet,
    *,
    thresholds: list[float] | None = None,
    summary: dict[str, Any] | None = None,
    calibration: dict[str, Any] | None = None,
) -> Path:
    """Write the folder atomically (a temp folder renamed into place); returns its path."""
    from safetensors.torch import save_file

    folder = Path(folder)
    if len(labels.names) != len(model.classnames):
        raise ArtifactError(f"{len(labels.names)} labels for a model of {len(model.classnames)} classes")
    n = len(labels.names)
    thresholds = list(thresholds) if thresholds else [0.0] * n
    if len(thresholds) != n:
        raise ArtifactError(f"{len(thresholds)} thresholds for {n} classes")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        tensors = {f"head.{k}": v.detach().cpu().contiguous() for k, v in model.head_state_dict().items()}
        tensors.update({f"const.{k}": v.contiguous() for k, v in model.constants().items()})
        save_file(tensors, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT})
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "backbone": model.backbone.cfg.to_dict(),
            "backbone_fingerprint": model.backbone.fingerprint,
            "model": model.cfg.to_dict(),
            "preprocess": model.backbone.preprocess_spec.to_dict(),
            "grid": list(model.backbone.grid),
            "thresholds": [float(t) for t in thresholds],
            "weights_sha256": sha256_file(tmp / WEIGHTS_FILE),
            "summary": summary or {},
        }
        if calibration is not None:  # engine.evaluation.calibration.Calibration.to_dict()
            config["calibration"] = calibration
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        (tmp / LABELS_FILE).write_text(labels.to_json() + "\n", encoding="utf-8")
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


@dataclass
class ModelArtifact:
    """A loaded model folder; torch and open_clip are imported only when the model itself is built."""

    folder: Path
    config: dict[str, Any]
    labelset: LabelSet
    tensors: dict[str, torch.Tensor]

    @classmethod
    def from_pretrained(cls, folder: str | Path, *, trust_unverified: bool = False) -> ModelArtifact:
        """Load a model folder; one whose config.json records no weights checksum needs `trust_unverified`."""
        from safetensors.torch import load_file

        folder = Path(folder)
        for name in (CONFIG_FILE, WEIGHTS_FILE, LABELS_FILE):
            if not (folder / name).is_file():
                raise ArtifactError(f"{folder} is not a T2I-PAL model folder: {name} is missing")
        try:
            config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
            raw_labels = json.loads((folder / LABELS_FILE).read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ArtifactError(f"{folder}: config.json or labels.json is corrupt ({exc})") from exc
        if not isinstance(config, dict):
            raise ArtifactError(f"{folder}/config.json is corrupt (a JSON {type(config).__name__}, not an object)")
        labels = read_labels(raw_labels, source=str(folder / LABELS_FILE))
        if config.get("format") != FORMAT:
            raise ArtifactError(f"{folder}/config.json is not a {FORMAT} config")
        if int(config.get("format_version", 0)) > FORMAT_VERSION:
            raise ArtifactError(f"{folder} was written by a newer T2I-PAL Tagger; update the app")
        if not config.get("weights_sha256") and not trust_unverified:
            raise ArtifactError(
                f"{folder}/config.json records no weights_sha256, so {WEIGHTS_FILE} cannot be verified; "
                "use a model folder saved by T2I-PAL Tagger, or pass --trust-unverified if you trust it"
            )
        if config.get("weights_sha256") and sha256_file(folder / WEIGHTS_FILE) != config["weights_sha256"]:
            raise ArtifactError(f"{folder}/{WEIGHTS_FILE} does not match its checksum; the file is damaged")
        try:
            tensors = load_file(str(folder / WEIGHTS_FILE))  # safetensors: never unpickles
        except Exception as exc:  # SafetensorError: a damaged header or body
            raise ArtifactError(f"{folder}/{WEIGHTS_FILE} is not a valid safetensors file ({exc}); "
                                "the file is damaged") from exc
        missing = [k for k in CONSTANT_KEYS if k not in tensors]
        if missing:
            raise ArtifactError(f"{folder}/{WEIGHTS_FILE} lacks {', '.join(missing)}")
        n = len(labels.names)
        if tensors["const.class_global"].shape[0] != n or len(config.get("thresholds", [])) != n:
            raise ArtifactError(f"{folder}: weights, thresholds and labels disagree on the number of classes")
        return cls(folder, config, labels, tensors)

    # ---- metadata ----------------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        return list(self.labelset.names)

    @property
    def parents(self) -> dict[str, str | None]:
        return dict(self.labelset.parents)

    @property
    def thresholds(self) -> list[float]:
        return [float(t) for t in self.config["thresholds"]]

    @property
    def preprocess_spec(self) -> PreprocessSpec:
        return PreprocessSpec.from_dict(self.config["preprocess"])

    @property
    def backbone_cfg(self) -> BackboneConfig:
        return BackboneConfig.from_dict(self.config["backbone"])

    @property
    def model_cfg(self) -> ModelConfig:
        return ModelConfig.from_dict(self.config["model"])

    @property
    def checksum(self) -> str:
        return str(self.config.get("weights_sha256", ""))

    # ---- building ----------------------------------------------------------------------------------
    def load_backbone(self, *, device: str = "cpu", precision: str = "fp32") -> ClipBackbone:
        from engine.clip.backbone import load_backbone

        backbone = load_backbone(self.backbone_cfg, device=device, precision=precision)
        expected = self.config.get("backbone_fingerprint")
        if expected and backbone.fingerprint != expected:
            raise ArtifactError(
                f"{self.folder} was trained on different CLIP weights ({self.backbone_cfg.model_name}/"
                f"{self.backbone_cfg.pretrained}); its scores would be meaningless with these"
            )
        return backbone

    def load_model(self, *, device: str = "cpu", precision: str = "fp32", backbone: Any = None) -> T2IPAL:
        """The trainable model with its learned state (for evaluation, fine-tuning or re-export)."""
        from engine.clip.model import T2IPAL

        backbone = backbone or self.load_backbone(device=device, precision=precision)
        model = T2IPAL(backbone, self.labelset.prompt_names, self.model_cfg)
        head = {k[5:]: v.to(backbone.device) for k, v in self.tensors.items() if k.startswith("head.")}
        try:
            model.load_head_state_dict(head)
        except KeyError as exc:
            raise ArtifactError(f"{self.folder}: {exc}") from exc
        return model.eval()

    def tagger_module(self, *, device: str = "cpu", precision: str = "fp32", backbone: Any = None) -> TaggerModule:
        """Images -> (scores, heatmaps) from the stored constants; the text tower is never run."""
        from engine.clip.inference import TaggerModule, tagger_settings

        backbone = backbone or self.load_backbone(device=device, precision=precision)
        consts = {k[6:]: v for k, v in self.tensors.items() if k.startswith("const.")}
        return TaggerModule(backbone, consts, **tagger_settings(self.model_cfg)).eval()
