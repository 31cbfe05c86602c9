"""`TagScorer`: the Ray Data actor that loads the ONNX model once, decodes its rows' files and scores them."""

from __future__ import annotations

import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from engine.cluster.sources import is_uri, read_uri
from engine.tagging.decode import Decoded, DecodeError, decode_file
from engine.tagging.onnx_session import TaggerSession
from engine.tagging.runner import TagConfig

log = logging.getLogger(__name__)


def entry_row(path: str, size: int, mtime_ns: int, error: str | None) -> dict[str, Any]:
    """One input row; the path travels as bytes so names that are not UTF-8 survive Arrow."""
    return {"path": os.fsencode(path), "size": size, "mtime_ns": mtime_ns, "error": error or ""}


def _decode_uri(uri: str, cfg: TagConfig, spec: Any) -> Decoded:
    """Read a remote file and decode it exactly as a local one (same checksum, same pixels)."""
    try:
        data = read_uri(uri)
    except Exception as exc:  # any filesystem's own error type
        raise DecodeError(f"cannot read file: {exc}") from exc
    with tempfile.NamedTemporaryFile(suffix=os.path.splitext(uri)[1]) as tmp:
        tmp.write(data)
        tmp.flush()
        return decode_file(tmp.name, spec, draft=cfg.draft, max_pixels=cfg.max_pixels)


def decode_one(path: str, scan_error: str, cfg: TagConfig, spec: Any) -> Decoded | str:
    """A decoded image, or the short error stored in its row (one odd file never stops a batch)."""
    if scan_error:
        return scan_error
    try:
        if is_uri(path):
            return _decode_uri(path, cfg, spec)
        return decode_file(path, spec, draft=cfg.draft, max_pixels=cfg.max_pixels)
    except DecodeError as exc:
        return str(exc)
    except Exception as exc:
        log.exception("unexpected error decoding %s", path)
        return f"unexpected error: {type(exc).__name__}: {exc}"


class TagScorer:
    """Built once per actor: writes the shipped model to a local file and opens one onnxruntime session."""

    def __init__(self, model: Any, cfg: TagConfig, provider: str, threads: int) -> None:
        import ray

        data = ray.get(model) if isinstance(model, ray.ObjectRef) else model
        self._dir = tempfile.TemporaryDirectory(prefix="t2ipal-model-")
        path = os.path.join(self._dir.name, "model.onnx")
        with open(path, "wb") as fh:
            fh.write(data)
        self.cfg = cfg
        self.session = TaggerSession(path, provider=provider, threads=threads)
        self.spec = self.session.metadata.preprocess
        self.pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="decode")
        log.info("tagging actor ready on %s", self.session.providers)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        paths = [os.fsdecode(p) for p in batch["path"]]
        decoded = list(self.pool.map(lambda a: decode_one(a[0], a[1], self.cfg, self.spec),
                                     zip(paths, [str(e) for e in batch["error"]], strict=True)))
        ok = [i for i, d in enumerate(decoded) if isinstance(d, Decoded)]
        n_labels = len(self.session.metadata.labels)
        scores = np.zeros((len(paths), n_labels), np.float32)
        if ok:
            scores[ok] = self.session.scores(np.stack([decoded[i].array for i in ok]))  # type: ignore[union-attr]
        return {
            "path": batch["path"],
            "size": batch["size"],
            "mtime_ns": batch["mtime_ns"],
            "checksum": np.array([d.checksum if isinstance(d, Decoded) else "" for d in decoded], object),
            "width": np.array([d.width if isinstance(d, Decoded) else -1 for d in decoded], np.int64),
            "height": np.array([d.height if isinstance(d, Decoded) else -1 for d in decoded], np.int64),
            "error": np.array(["" if isinstance(d, Decoded) else d for d in decoded], object),
            "scores": scores,
            "provider": np.array([self.session.providers[0]] * len(paths), object),
        }
