""""Run all steps" shows its plan first; for the demo world's labels it plans the demo renderer and demo CLIP."""

from __future__ import annotations

from engine import api
from engine.labels import LabelSet
from t2ipal_gui import pipeline
from t2ipal_gui.dialogs import confirm as ask
from t2ipal_gui.pipeline import SynthesisSettings, TrainingSettings


def _project(tmp_path, labels, captions):
    project = api.create_project(tmp_path / "p", labels=LabelSet.from_names(labels, name="set"))
    api.add_captions(project, captions)
    return project


def test_demo_labels_plan_the_demo_renderer_and_clip(tmp_path):
    project = _project(tmp_path, ["circle", "square"], ["a red circle", "a blue square", "a circle and a square"])
    plan = pipeline.plan_for(project, None, None, [], tag=False)
    assert [name for name, _ in plan.stages] == ["synthesis", "training", "export"]
    assert plan.steps[0].startswith("Synthesis: up to 3 images (3 captions × 1) with the demo renderer")
    assert f"on CLIP {api.weights.DEMO_CLIP}" in plan.steps[1]
    assert plan.stages[0][1].keywords["backend"] == "demo"
    assert plan.stages[1][1].keywords["backbone"] == api.weights.demo_clip_config()
    # the panels' untouched defaults are replaced too; a model the person chose is kept
    synth, train = pipeline.settings_for(project, SynthesisSettings(), TrainingSettings())
    assert synth.backend == "demo" and train.backbone == api.weights.demo_clip_config()
    chosen = SynthesisSettings("diffusers", {"model": "/models/my-sd"})
    assert pipeline.settings_for(project, chosen, None)[0] is chosen


def test_other_labels_keep_the_real_models(tmp_path):
    project = _project(tmp_path, ["cat", "dog"], ["a cat", "a dog", "a cat and a dog", "a dog on a sofa"])
    plan = pipeline.plan_for(project, None, None, ["/photos"], tag=True)
    assert "4 captions × 1) with diffusers (its default model)" in plan.steps[0]
    assert plan.stages[0][1].keywords["backend"] == "diffusers"
    assert plan.steps[-1].startswith("Tagging: 1 folder")


def test_run_all_asks_with_the_plan_and_cancel_starts_nothing(window, tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(ask, "confirm", lambda parent, title, text, accept, *, informative="":
                        asked.append(informative) or False)
    project = _project(tmp_path, ["circle", "square"], ["a red circle", "a blue square"])
    assert window.open_project(project.root)
    window.oneclick.start()
    assert len(asked) == 1 and "with the demo renderer" in asked[0] and "1. Synthesis" in asked[0]
    assert window.oneclick.job is None and window.oneclick.run.isVisible()
