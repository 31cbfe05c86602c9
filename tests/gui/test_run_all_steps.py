""""Run all steps" end to end on a tiny project, and Cancel from a panel: what the bar, the panels and Browse show."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import pytest

from t2ipal_gui.dialogs import confirm as ask

if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("open_clip") is None:
    pytest.skip("needs onnxruntime and open_clip", allow_module_level=True)

CAPTIONS = ["a red circle", "a blue square", "a yellow star", "a circle next to a square", "a green star",
            "two circles"]
JOB_TIMEOUT = 90_000


def _project(window, tmp_path: Path):
    from engine import api

    assert window.open_project(tmp_path / "proj", create=True)
    project = window.ctx.project
    api.save_labels(project, api.resolve_labels("circle,square,star"))
    api.add_captions(project, CAPTIONS)
    window.ctx.data_changed.emit("labels")
    window.ctx.data_changed.emit("captions")
    return project


def _photos(folder: Path, n: int = 3) -> Path:
    from engine.demo.renderer import render_caption

    folder.mkdir()
    for i, caption in enumerate(["a red circle", "a blue square and a star", "a yellow star"][:n]):
        render_caption(caption, seed=100 + i, size=64).save(folder / f"photo{i}.png")
    return folder


def _gate_stages(monkeypatch) -> dict[str, threading.Event]:
    """Each stage starts only once the bar shows its chip: progress is coalesced (latest event wins), so without
    this a fast stage may finish before the GUI thread draws it, and the test would depend on timing."""
    from engine import api

    shown = {stage: threading.Event() for stage in ("synthesis", "training", "export", "tagging")}
    for stage, name in (("synthesis", "synthesize"), ("training", "train"), ("export", "export"), ("tagging", "tag")):
        real = getattr(api, name)

        def gated(*args, _real=real, _stage=stage, **kwargs):  # type: ignore[no-untyped-def]
            assert shown[_stage].wait(30), f"the bar never showed the {_stage} chip"
            return _real(*args, **kwargs)

        monkeypatch.setattr(api, name, gated)
    return shown


def _demo_synthesis_and_tiny_training(window, clip_file):  # type: ignore[no-untyped-def]
    """The Synthesis panel set to one demo render per caption, the Training panel to the tiny CLIP."""
    synth = window.show_panel("synthesis")
    synth.backend.setCurrentText("demo")
    synth.per_caption.setValue(1)
    train = window.show_panel("training")
    train.clip_model.setText("tiny-test")
    train.pretrained.setText(str(clip_file))
    return synth, train


def test_run_all_steps_advances_the_chips_in_order_and_every_panel_shows_the_result(window, qtbot, tmp_path,
                                                                                      tiny_clip_file, monkeypatch):
    project = _project(window, tmp_path)
    shown = _gate_stages(monkeypatch)
    synth, train = _demo_synthesis_and_tiny_training(window, tiny_clip_file)
    train.epochs.setValue(1)
    tagging = window.show_panel("tagging")
    assert tagging.folders.add_folder(_photos(tmp_path / "photos"))

    bar = window.oneclick
    assert bar.run.isVisible() and bar.run.isEnabled() and not bar.cancel.isVisible()
    asked: list[str] = []
    monkeypatch.setattr(ask, "confirm", lambda parent, title, text, accept, *, informative="":
                        asked.append(informative) or True)  # the person reads the plan and presses Start
    stages: list[str] = []
    bar.run.click()
    assert len(asked) == 1 and "demo renderer" in asked[0] and "tiny-test" in asked[0], asked
    job = bar.job
    assert job is not None and bar.cancel.isVisible() and not bar.run.isVisible()

    def seen(_event) -> None:  # type: ignore[no-untyped-def]
        if bar.current and (not stages or stages[-1] != bar.current):
            stages.append(bar.current)
            assert bar.chips[bar.current].text().startswith("● ")  # the running stage is marked
            shown[bar.current].set()

    job.progress.connect(seen)
    with qtbot.waitSignal(job.done, timeout=JOB_TIMEOUT):
        pass
    assert job.state == "finished", f"{job.error}\n{job.traceback}"
    assert stages == ["synthesis", "training", "export", "tagging"]
    assert bar.status.text() == "All steps done"
    assert bar.run.isVisible() and not bar.cancel.isVisible()
    assert all(not chip.text().startswith("●") for chip in bar.chips.values())

    assert job.result["synthesis"].made == len(CAPTIONS)
    assert job.result["tagging"].tagged == 3 and job.result["tagging"].errors == 0
    assert (project.exports_dir / "model.onnx").is_file()
    qtbot.waitUntil(lambda: train.summary.text().startswith("Trained t2ipal"), timeout=5000)
    assert "exported for tagging" in train.summary.text() and train.export_row.start.isEnabled()
    assert tagging.model_text.text().startswith("exports/model.onnx (tiny-test, 3 labels")
    browse = window.show_panel("browse")
    qtbot.waitUntil(lambda: browse.count_label.text() == "3 of 3 photos", timeout=5000)
    assert browse.label_list.count() == 3
    assert browse.model.wait(5000)
    assert not window.ctx.runner.busy


def test_cancel_synthesis_from_its_panel_says_cancelled_and_the_next_run_resumes(window, qtbot, tmp_path,
                                                                                  monkeypatch):
    from engine import api
    from engine.demo.renderer import DemoRenderer
    from engine.synthesis import Manifest

    project = _project(window, tmp_path)
    synth = window.show_panel("synthesis")
    synth.backend.setCurrentText("demo")
    synth.per_caption.setValue(1)
    synth.job_row.start.click()
    with qtbot.waitSignal(synth.job_row.job.done, timeout=JOB_TIMEOUT):
        pass
    assert synth.job_row.job.state == "finished"

    real_render, rendering = DemoRenderer.render, threading.Event()

    def render_until_cancelled(self, requests, *, cancel=None):  # type: ignore[no-untyped-def]
        rendering.set()
        assert cancel is not None and cancel._event.wait(30), "the panel's Cancel never reached the job"
        return real_render(self, requests, cancel=cancel)

    monkeypatch.setattr(DemoRenderer, "render", render_until_cancelled)
    synth.per_caption.setValue(2)  # one more image per caption
    synth.job_row.start.click()
    job = synth.job_row.job
    assert not synth.job_row.start.isEnabled() and synth.job_row.cancel.isEnabled()
    qtbot.waitUntil(rendering.is_set, timeout=JOB_TIMEOUT)
    with qtbot.waitSignal(job.done, timeout=JOB_TIMEOUT):
        synth.job_row.cancel.click()
    assert job.state == "cancelled"
    assert synth.job_row.status.text() == "Cancelled — start again to resume"
    assert synth.job_row.start.isEnabled() and not synth.job_row.cancel.isEnabled()
    with project.db() as db:
        report = Manifest(db, project.synthetic_dir).verify(checksums=True)
    assert report.consistent and report.rows == len(CAPTIONS)  # the first run's images, nothing half-written
    assert len(list(project.synthetic_dir.rglob("*.png"))) == len(CAPTIONS)

    monkeypatch.undo()
    synth.job_row.start.click()
    with qtbot.waitSignal(synth.job_row.job.done, timeout=JOB_TIMEOUT):
        pass
    result = synth.job_row.job.result
    assert synth.job_row.job.state == "finished" and synth.job_row.status.text() == "Done"
    assert (result.made, result.skipped) == (len(CAPTIONS), len(CAPTIONS))
    assert len(api.synthetic_images(project)) == 2 * len(CAPTIONS)


def test_cancel_from_the_bar_during_training_keeps_the_images_and_the_panels_show_them(window, qtbot, tmp_path,
                                                                                        tiny_clip_file, monkeypatch):
    project = _project(window, tmp_path)
    shown = _gate_stages(monkeypatch)
    synth, train = _demo_synthesis_and_tiny_training(window, tiny_clip_file)
    monkeypatch.setattr(ask, "confirm", lambda *a, **k: True)
    bar = window.oneclick
    window.show_panel("synthesis")
    assert synth.preview_count.text() == ""  # no image yet
    bar.run.click()
    job = bar.job
    assert job is not None

    def seen(_event) -> None:  # type: ignore[no-untyped-def]
        if bar.current == "synthesis":
            shown["synthesis"].set()
        elif bar.current == "training" and not shown["training"].is_set():
            bar.cancel.click()  # the person cancels while the training chip is lit; training starts only after
            shown["training"].set()

    job.progress.connect(seen)
    with qtbot.waitSignal(job.done, timeout=JOB_TIMEOUT):
        pass
    assert job.state == "cancelled", f"{job.error}\n{job.traceback}"
    assert bar.status.text() == "Cancelled"
    assert bar.run.isVisible() and not bar.cancel.isVisible()
    from engine import api

    assert len(api.synthetic_images(project)) == len(CAPTIONS)
    # the finished stage's images are shown without reopening the project
    qtbot.waitUntil(lambda: synth.preview_count.text() != "", timeout=5000)
    assert synth.label_pick.count() == 3
    assert not (project.exports_dir / "model.onnx").exists()
    assert not train.summary.text().startswith("Trained")
    train.epochs.setValue(1)
    train.job_row.start.click()  # the person trains from the panel: the bar's "Cancelled" is old news
    assert bar.status.text() == ""
    with qtbot.waitSignal(train.job_row.job.done, timeout=JOB_TIMEOUT):
        pass
    assert bar.status.text() == ""
