"""onnxruntime session for an exported tagger: provider choice, metadata, batched scoring."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np

from engine.errors import ArtifactError, DependencyMissing, InputError, ModelNotFound
from engine.export.metadata import INPUT_NAME, OUTPUT_HEATMAPS, OUTPUT_SCORES, ModelMetadata
from engine.hashing import sha256_bytes

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
PROVIDER_CHOICES = ("auto", "cpu", "cuda")
# Chosen with bench/bench_tagging.py on a shared 2-core machine (docs/performance.md): full graph
# optimisation; intra-op threads that sleep instead of spinning between batches, so the decode threads
# (and other programs) get the cores while the model waits for its next batch.
GRAPH_OPTIMIZATION = "ORT_ENABLE_ALL"
ALLOW_SPINNING = False


def _ort():
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise DependencyMissing(
            "onnxruntime is not installed; install the [cpu] extra (or [gpu], never both)"
        ) from exc
    onnxruntime.disable_telemetry_events()  # besides ORT_DISABLE_TELEMETRY (engine/__init__.py)
    return onnxruntime


def gpu_present() -> bool:
    """Cheap evidence of an NVIDIA GPU without importing torch (STACK.md P7: ORT lists CUDA anyway)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def choose_providers(preference: str = "auto") -> list[str]:
    """Providers to request: CUDA first only when asked for (or auto and a GPU is really there)."""
    if preference not in PROVIDER_CHOICES:
        raise InputError(f"provider {preference!r} is not one of {', '.join(PROVIDER_CHOICES)}")
    available = _ort().get_available_providers()
    if preference == "cpu":
        return [CPU]
    if CUDA in available and (preference == "cuda" or gpu_present()):
        return [CUDA, CPU]
    if preference == "cuda":
        log.warning("CUDA requested but this onnxruntime has no CUDA provider (%s); using CPU", available)
    return [CPU]


def session_options(ort, threads: int, spinning: bool):
    """onnxruntime options for tagging: optimisation level, intra-op threads, spinning."""
    options = ort.SessionOptions()
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, GRAPH_OPTIMIZATION)
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.log_severity_level = 3
    return options


class TaggerSession:
    """An exported model ready to score batches: `.metadata`, `.providers`, `.scores(batch)`."""

    def __init__(
        self, path: str | Path, *, provider: str = "auto", threads: int = 0, sha256: str | None = None,
        spinning: bool | None = None,
    ) -> None:
        """Load `path`; with `sha256`, the bytes loaded must have that digest (read once: no swap in between).

        `threads`: onnxruntime intra-op threads (0: one per core); `spinning`: let idle threads busy-wait
        (None: `ALLOW_SPINNING`).
        """
        ort = _ort()
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelNotFound(f"model {self.path} not found; create it with `t2ipal export MODEL_DIR -o model.onnx`")
        source: str | bytes = str(self.path)
        self.verified_bytes: bytes | None = None  # the checked bytes the session was built from (with `sha256`)
        if sha256 is not None:
            source = self.path.read_bytes()
            if sha256_bytes(source) != sha256.lower():
                raise ArtifactError(
                    f"{self.path} does not match its recorded checksum: the file was changed or damaged "
                    "after export; export the model again"
                )
            self.verified_bytes = source
        options = session_options(ort, threads, ALLOW_SPINNING if spinning is None else spinning)
        self.requested = choose_providers(provider)
        try:
            self.session = ort.InferenceSession(source, options, providers=self.requested)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ArtifactError(f"{self.path} is not a loadable ONNX model: {exc}") from exc
        self.providers: list[str] = list(self.session.get_providers())
        if self.requested[0] == CUDA and self.providers[0] != CUDA:
            log.warning("CUDA provider could not start (missing CUDA/cuDNN libraries?); running on CPU")
        props = dict(self.session.get_modelmeta().custom_metadata_map)
        self.metadata = ModelMetadata.from_props(props, source=str(self.path))
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        if INPUT_NAME not in inputs or OUTPUT_SCORES not in outputs:
            raise ArtifactError(
                f"{self.path} has inputs {inputs} and outputs {outputs}; expected {INPUT_NAME!r} -> {OUTPUT_SCORES!r}"
            )
        self.has_heatmaps = OUTPUT_HEATMAPS in outputs
        self._check_label_count()

    def _check_label_count(self) -> None:
        """Refuse a model whose score output has another width than its metadata has labels."""
        n = len(self.metadata.labels)
        (dim,) = [o.shape[1] if len(o.shape) == 2 else None for o in self.session.get_outputs()
                  if o.name == OUTPUT_SCORES]
        if not isinstance(dim, int):  # symbolic width: score a dummy image to see it
            size = self.metadata.preprocess.size
            dim = int(self.scores(np.zeros((1, 3, size, size), np.float32)).shape[1])
        if dim != n:
            raise ArtifactError(
                f"{self.path} outputs {dim} scores per image but its metadata lists {n} labels; "
                "the file was assembled wrongly or edited; export the model again"
            )

    def scores(self, batch: np.ndarray) -> np.ndarray:
        """(B, 3, S, S) float32 -> (B, C) raw scores."""
        (out,) = self.session.run([OUTPUT_SCORES], {INPUT_NAME: np.ascontiguousarray(batch, np.float32)})
        return out

    def scores_and_heatmaps(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.has_heatmaps:
            raise ArtifactError(f"{self.path} has no {OUTPUT_HEATMAPS!r} output; re-export it")
        scores, heatmaps = self.session.run(
            [OUTPUT_SCORES, OUTPUT_HEATMAPS], {INPUT_NAME: np.ascontiguousarray(batch, np.float32)}
        )
        return scores, heatmaps
