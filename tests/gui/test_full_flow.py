"""The whole app driven through its widgets on tiny models: labels → captions → synthesis (demo renderer) →
training (tiny CLIP) → ONNX export → tagging → Browse filter → confirm a tag with the keyboard."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("open_clip") is None:
    pytest.skip("needs onnxruntime and open_clip", allow_module_level=True)

LABELS = ("circle", "square", "star")
CAPTIONS = (
    "a red circle",
    "a blue square",
    "a yellow star",
    "a circle next to a square",
    "a green square and a star",
    "a big star near a small circle",
    "two circles",
    "a purple square",
    "a pink star",
)
JOB_TIMEOUT = 60_000


def _wait_job(qtbot, job) -> object:
    """Wait for a panel's job to end; fail with the job's own traceback if it did not finish."""
    with qtbot.waitSignal(job.done, timeout=JOB_TIMEOUT):
        pass
    assert job.state == "finished", f"{job.name} ended {job.state}: {job.error}\n{job.traceback}"
    return job.result


def _photos(folder: Path) -> Path:
    from engine.demo.renderer import render_caption

    folder.mkdir()
    for i, caption in enumerate(("a red circle", "a blue square and a star", "a yellow star")):
        render_caption(caption, seed=100 + i, size=64).save(folder / f"photo{i}.png")
    return folder


def test_full_flow_through_the_widgets(project_window, qtbot, tmp_path, tiny_clip_file):
    from engine.captions.store import CaptionStore
    from engine.tagging.store import TagStore

    win = project_window
    project = win.ctx.project

    # 1. labels: typed into the table, then saved
    labels = win.show_panel("labels")
    labels.set_name.setText("shapes")
    add = next(b for b in labels.content.findChildren(type(labels.save_button)) if b.text() == "Add label")
    for name in LABELS:
        qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
        labels.table.item(labels.table.rowCount() - 1, 0).setText(name)
    qtbot.waitUntil(lambda: labels.validation.text().startswith("✓ 3 labels"), timeout=3000)
    qtbot.mouseClick(labels.save_button, Qt.MouseButton.LeftButton)
    assert (project.root / "labels.json").is_file()

    # 2. captions: one typed (Enter), the rest imported from a text file through the panel's job
    captions = win.show_panel("captions")
    assert captions.import_row.start.isEnabled()
    qtbot.keyClicks(captions.new_caption, CAPTIONS[0])
    qtbot.keyClick(captions.new_caption, Qt.Key.Key_Return)
    assert captions.table.rowCount() == 1 and captions.new_caption.text() == ""
    caption_file = tmp_path / "captions.txt"
    caption_file.write_text("\n".join(CAPTIONS[1:]) + "\n")
    _wait_job(qtbot, captions.import_file(str(caption_file)))
    qtbot.waitUntil(lambda: captions.table.rowCount() == len(CAPTIONS), timeout=3000)
    assert captions.counts.count() == len(LABELS)

    # 3. synthesis with the demo renderer, two images per caption
    synth = win.show_panel("synthesis")
    assert synth.backend.findText("demo") >= 0
    synth.backend.setCurrentText("demo")
    synth.per_caption.setValue(2)
    qtbot.mouseClick(synth.job_row.start, Qt.MouseButton.LeftButton)
    result = _wait_job(qtbot, synth.job_row.job)
    assert result.made == 2 * len(CAPTIONS)
    qtbot.waitUntil(lambda: len(synth.records) == 2 * len(CAPTIONS), timeout=3000)
    assert synth.label_pick.count() == len(LABELS)

    # 4. training on the tiny CLIP, then 5. ONNX export, both from the Training panel
    train = win.show_panel("training")
    train.clip_model.setText("tiny-test")
    train.pretrained.setText(str(tiny_clip_file))
    train.epochs.setValue(2)
    assert win.ctx.training_options.backbone.model_name == "tiny-test"  # what "Run all steps" would use, too
    assert not train.export_row.start.isEnabled()  # nothing to export before a model is trained
    qtbot.mouseClick(train.job_row.start, Qt.MouseButton.LeftButton)
    trained = _wait_job(qtbot, train.job_row.job)
    assert Path(trained.model_dir).is_dir()
    assert "Best epoch" in train.summary.text() and len(train.per_label.values) == len(LABELS)
    assert train.export_row.start.isEnabled()
    qtbot.mouseClick(train.export_row.start, Qt.MouseButton.LeftButton)
    _wait_job(qtbot, train.export_row.job)
    onnx = project.exports_dir / "model.onnx"
    assert onnx.is_file()

    # 6. tagging a folder of small PNGs with the exported model
    tagging = win.show_panel("tagging")
    assert tagging.model_text.text() == "exports/model.onnx (tiny-test, 3 labels: circle, square, star)"
    assert not tagging.job_row.start.isEnabled()  # no folder yet
    assert tagging.folders.add_folder(_photos(tmp_path / "photos"))
    assert tagging.job_row.start.isEnabled()
    qtbot.mouseClick(tagging.job_row.start, Qt.MouseButton.LeftButton)
    tagged = _wait_job(qtbot, tagging.job_row.job)
    assert tagged.tagged == 3 and tagged.errors == 0
    assert "Tagged 3 images" in tagging.summary.text()

    # 7. browse: star's own threshold 0 (the editor) so every star score counts, filter by it, confirm with C
    browse = win.show_panel("browse")
    qtbot.waitUntil(lambda: browse.label_list.count() == len(LABELS), timeout=3000)
    assert browse.count_label.text() == "3 of 3 photos"
    star = next(browse.label_list.item(i) for i in range(browse.label_list.count())
                if browse.label_list.item(i).data(Qt.ItemDataRole.UserRole) == "star")
    browse.label_list.setCurrentItem(star)
    browse.editor.slider.setValue(0)
    qtbot.waitUntil(lambda: browse.editor.count.text() == "would tag 3 photos", timeout=3000)
    star.setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: browse.filter.labels == ["star"] and browse.model.rowCount() > 0, timeout=3000)
    browse.grid.setCurrentIndex(browse.model.index(0))
    path = browse.current_path()
    row = next(i for i in range(browse.chips.count())
               if browse.chips.item(i).data(Qt.ItemDataRole.UserRole) == "star")
    browse.chips.setCurrentRow(row)
    browse.grid.setFocus()
    qtbot.keyClick(browse.grid, Qt.Key.Key_C)
    with TagStore.open(project.db_path) as store:
        assert store.tags_of(path)["star"][1] == "confirmed"
    assert any(browse.chips.item(i).text().startswith("✓ star") for i in range(browse.chips.count()))

    # the project database holds what the panels showed
    with project.db() as db:
        assert sum(1 for _ in CaptionStore(db).iter_captions("shapes")) == len(CAPTIONS)
    assert browse.model.wait(5000)
    assert not win.ctx.runner.busy

    # reopening the project: the Training panel says what the project's model is, Tagging still uses it
    assert win.open_project(project.root)
    assert train.summary.text().startswith("Trained t2ipal") and "exported for tagging" in train.summary.text()
    assert train.export_row.start.isEnabled() and tagging.folders.count() == 1  # folders are remembered
    assert tagging.model_text.text().startswith("exports/model.onnx (tiny-test")
