"""A project's stored captions and synthetic images become one training set; `t2ipal train --project` uses it."""

from __future__ import annotations

from engine.captions.store import CaptionStore
from engine.cli.main import main
from engine.demo.renderer import DemoRenderer
from engine.labels.labelset import LabelSet
from engine.project import Project
from engine.synthesis import SynthesisConfig, synthesize
from engine.training.project_data import training_set_from_project


def _project(tmp_path):
    project = Project(tmp_path / "p").create()
    labelset = LabelSet.from_dict({"name": "shapes", "labels": [
        {"name": "circle", "synonyms": ["ball"]}, {"name": "square", "synonyms": ["box"]}, {"name": "star"}]})
    labelset.save(project.labelset_path)
    with project.db() as db:
        store = CaptionStore(db)
        store.add_labelset(labelset)
        texts = ["a red ball", "a box and a star", "two circles", "a star", "a green square near a ball", "a dog"]
        (tmp_path / "c.txt").write_text("\n".join(texts) + "\n")
        store.import_file(tmp_path / "c.txt", "text", labelset)
        items = [{"text": c.text, "labels": list(c.labels), "id": c.id} for c in store.iter_captions("shapes")]
        synthesize(items, DemoRenderer(size=64), project, SynthesisConfig(images_per_caption=2), db=db)
    return project


def test_captions_and_their_renders_share_groups(tmp_path):
    ds = training_set_from_project(_project(tmp_path))
    assert len(ds.captions) == 5  # "a dog" mentions no label
    assert len(ds.image_paths) == 10
    assert set(ds.image_groups) == set(ds.caption_groups)
    row = ds.captions.index("a box and a star")
    assert ds.caption_labels[row].tolist() == [0, 1, 1]
    train, held = ds.split(0.5, seed=2)
    assert set(held.image_groups) <= set(held.caption_groups)
    assert not set(train.image_groups) & set(held.caption_groups)


def test_train_cli_on_a_project(tmp_path, tiny_clip_file, capsys):
    project = _project(tmp_path)
    code = main(["train", "--project", str(project.root), "--backbone", "tiny-test", "--pretrained",
                 str(tiny_clip_file), "--epochs", "1", "--n-ctx", "2", "--device", "cpu", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert (project.model_dir / "weights.safetensors").is_file()
