"""ONNX export: metadata inside, dynamic batch, parity with torch (also through the tagger's image path)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import ExportError
from engine.export.metadata import ModelMetadata
from engine.imaging import PreprocessSpec
from engine.labels.labelset import LabelSet

torch = pytest.importorskip("torch")

LABELS = ["dog", "cat", "animal"]


@pytest.fixture(scope="module")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (tiny, random) T2I-PAL model folder written by engine.artifact.save_pretrained."""
    from engine.artifact import save_pretrained
    from engine.clip.backbone import load_backbone
    from engine.clip.config import BackboneConfig, ModelConfig
    from engine.clip.model import T2IPAL
    from engine.clip.random_init import save_random_clip

    root = tmp_path_factory.mktemp("artifact")
    ckpt = save_random_clip("tiny-test", root / "clip.safetensors", seed=3)
    backbone = load_backbone(BackboneConfig(model_name="tiny-test", pretrained=str(ckpt)))
    model = T2IPAL(backbone, LABELS, ModelConfig())
    labels = LabelSet.from_dict({"name": "t", "labels": [
        {"name": n, "parent": "animal" if n in ("dog", "cat") else None} for n in LABELS]})
    return save_pretrained(model, root / "model", labels, thresholds=[0.1, 0.2, 0.3])


@pytest.fixture(scope="module")
def exported(artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    from engine.export.onnx_export import export_onnx

    return export_onnx(artifact_dir, tmp_path_factory.mktemp("onnx") / "model.onnx")


def test_export_writes_metadata_and_dynamic_batch(exported, artifact_dir: Path) -> None:
    import onnx
    import onnxruntime as ort

    from engine.artifact import ModelArtifact

    assert exported.max_abs_diff_scores <= 1e-4 and exported.max_abs_diff_heatmaps <= 1e-4
    model = onnx.load(str(exported.path))
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["labels"]) == LABELS
    assert json.loads(props["hierarchy"]) == {"dog": "animal", "cat": "animal", "animal": None}
    assert json.loads(props["thresholds"]) == pytest.approx([0.1, 0.2, 0.3])
    art = ModelArtifact.from_pretrained(artifact_dir)
    assert json.loads(props["model_checksum"]) == art.checksum
    assert json.loads(props["preprocess"])["size"] == art.preprocess_spec.size
    assert json.loads(props["backbone"])["model_name"] == "tiny-test"
    assert json.loads(props["app_version"]) and json.loads(props["created"]).startswith("20")
    meta = ModelMetadata.from_props(props)
    assert meta.ancestors("dog") == ["animal"] and meta.heatmap_grid is not None
    # no constant inputs besides the images: class embeddings and prototypes are in the graph
    assert [i.name for i in model.graph.input] == ["images"]
    session = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"])
    s = meta.preprocess.size
    for batch in (1, 5):
        scores, heat = session.run(None, {"images": np.zeros((batch, 3, s, s), np.float32)})
        assert scores.shape == (batch, 3) and heat.shape == (batch, 3, *meta.heatmap_grid)


def test_same_image_through_torch_and_onnx_tagger(exported, artifact_dir: Path, tmp_path: Path) -> None:
    """Training-side preprocessing + torch TaggerModule vs the tagger (decode + onnxruntime) from the DB."""
    from engine.artifact import ModelArtifact
    from engine.imaging import preprocess_batch
    from engine.tagging.runner import TagConfig, tag_folders
    from engine.tagging.store import TagStore

    rng = np.random.default_rng(0)
    paths = []
    for i, size in enumerate([(90, 70), (64, 64), (50, 120)]):
        p = tmp_path / "photos" / f"p{i}.png"
        p.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(p)
        paths.append(str(p))
    art = ModelArtifact.from_pretrained(artifact_dir)
    module = art.tagger_module()
    with torch.no_grad():
        torch_scores = module(torch.from_numpy(preprocess_batch(paths, art.preprocess_spec)))[0].numpy()
    tag_folders([tmp_path / "photos"], exported.path, tmp_path / "t.db", TagConfig())
    with TagStore.open(tmp_path / "t.db") as store:
        for i, p in enumerate(paths):
            tags = store.tags_of(p)
            onnx_scores = np.array([tags[label][0] for label in LABELS])
            np.testing.assert_allclose(onnx_scores, torch_scores[i], atol=1e-4, rtol=0)


class _BatchSpecialised(torch.nn.Module):
    """Traces fine but bakes the example batch size in: the parity check must catch it."""

    def forward(self, images):
        b = images.shape[0]
        mean = images.mean(dim=(2, 3))
        scores = mean * (1.0 if b == 2 else 3.0)
        return scores, images[:, :, :4, :4] * 2.0


class _Good(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, images):
        heat = self.conv(images)
        return heat.mean(dim=(2, 3)), heat


def _meta() -> ModelMetadata:
    return ModelMetadata(labels=("a", "b", "c"), thresholds=(0.0, 0.0, 0.0), preprocess=PreprocessSpec(size=16),
                         model_checksum="test")


def test_parity_failure_raises_and_writes_nothing(tmp_path: Path) -> None:
    from engine.export.onnx_export import export_onnx

    out = tmp_path / "bad.onnx"
    with pytest.raises(ExportError, match="differs from torch"):
        export_onnx(_BatchSpecialised(), out, metadata=_meta())
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_generic_module_export_and_bare_module_needs_metadata(tmp_path: Path) -> None:
    from engine.export.onnx_export import export_onnx
    from engine.tagging.onnx_session import TaggerSession

    torch.manual_seed(0)
    with pytest.raises(ExportError, match="metadata"):
        export_onnx(_Good(), tmp_path / "x.onnx")
    result = export_onnx(_Good(), tmp_path / "good.onnx", metadata=_meta())
    session = TaggerSession(result.path, provider="cpu")
    assert session.metadata.labels == ("a", "b", "c") and session.metadata.heatmap_grid == (16, 16)
    scores, heat = session.scores_and_heatmaps(np.ones((4, 3, 16, 16), np.float32))
    assert scores.shape == (4, 3) and heat.shape == (4, 3, 16, 16)
    with pytest.raises(ExportError, match="expected"):
        export_onnx(_Good(), tmp_path / "y.onnx", metadata=ModelMetadata(
            labels=("a", "b"), thresholds=(0.0, 0.0), preprocess=PreprocessSpec(size=16), model_checksum="t"))


def test_export_writes_a_checksum_sidecar(exported) -> None:
    from engine.export.checksum import read_checksum
    from engine.hashing import sha256_file

    assert read_checksum(exported.path) == sha256_file(exported.path)


def test_model_folder_without_weights_checksum_needs_trust(artifact_dir: Path, tmp_path: Path) -> None:
    import shutil

    from engine.artifact import ModelArtifact
    from engine.errors import ArtifactError

    folder = Path(shutil.copytree(artifact_dir, tmp_path / "model"))
    config = json.loads((folder / "config.json").read_text())
    del config["weights_sha256"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ArtifactError, match="--trust-unverified"):
        ModelArtifact.from_pretrained(folder)
    assert ModelArtifact.from_pretrained(folder, trust_unverified=True).labels == LABELS
