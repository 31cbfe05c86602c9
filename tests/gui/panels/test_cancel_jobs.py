"""Cancel from the Training and the Tagging panel: what the panel says, what the project keeps, and that the next
run resumes."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
    pytest.skip("needs onnx and onnxruntime", allow_module_level=True)

JOB_TIMEOUT = 90_000
CANCELLED = "Cancelled — start again to resume"
CAPTIONS = ["a red circle", "a blue square", "a yellow star", "a circle next to a square", "a green star",
            "two circles", "a square and a star", "three stars"]
COLOURS = ("red", "green", "blue")


def _run(qtbot, row) -> None:  # type: ignore[no-untyped-def]
    """Press the row's Start and wait until its job is over."""
    row.start.click()
    with qtbot.waitSignal(row.job.done, timeout=JOB_TIMEOUT):
        pass
    assert row.job.state == "finished", f"{row.job.error}\n{row.job.traceback}"


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cancel_when(qtbot, row, reached: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """Start the row's job, wait until it is held at `reached`, press Cancel and wait until the job is over."""
    row.start.click()
    assert not row.start.isEnabled() and row.cancel.isEnabled()
    qtbot.waitUntil(reached.is_set, timeout=JOB_TIMEOUT)
    with qtbot.waitSignal(row.job.done, timeout=JOB_TIMEOUT):
        row.cancel.click()
        assert row.status.text() == "Cancelling…" and not row.cancel.isEnabled()
    assert row.job.state == "cancelled", f"{row.job.error}\n{row.job.traceback}"
    assert row.status.text() == CANCELLED
    assert row.start.isEnabled() and not row.cancel.isEnabled()


def test_cancel_training_keeps_the_exported_model_and_the_next_run_resumes(window, qtbot, tmp_path, tiny_clip_file,
                                                                            monkeypatch):
    from engine import api
    from engine.training import trainer
    from engine.training.job import checkpoint_dir_for

    assert window.open_project(tmp_path / "proj", create=True)
    project = window.ctx.project
    api.save_labels(project, api.resolve_labels("circle,square,star"))
    api.add_captions(project, CAPTIONS)
    window.ctx.data_changed.emit("labels")
    train = window.show_panel("training")
    train.clip_model.setText("tiny-test")
    train.pretrained.setText(str(tiny_clip_file))
    train.epochs.setValue(1)
    _run(qtbot, train.job_row)  # the project's current model: trained for one epoch and exported
    _run(qtbot, train.export_row)
    tagging = window.show_panel("tagging")
    qtbot.waitUntil(lambda: tagging.model_ready, timeout=5000)
    model_line = tagging.model_text.text()
    assert model_line == "exports/model.onnx (tiny-test, 3 labels: circle, square, star)"
    record, summary = project.model_record(), train.summary.text()
    assert summary.startswith("Trained t2ipal") and summary.endswith("; exported for tagging.")
    model_files, onnx = _digests(project.model_dir), _digests(project.exports_dir)

    real_epoch, second_epoch = trainer._train_epoch, threading.Event()

    def epoch_until_cancelled(*args):  # type: ignore[no-untyped-def]
        epoch, cancel = args[5], args[-1]
        if epoch == 1:  # the first epoch is trained and checkpointed: hold the second until Cancel reaches it
            second_epoch.set()
            assert cancel is not None and cancel._event.wait(30), "the panel's Cancel never reached the job"
        return real_epoch(*args)

    monkeypatch.setattr(trainer, "_train_epoch", epoch_until_cancelled)
    train.epochs.setValue(3)
    window.show_panel("training")
    _cancel_when(qtbot, train.job_row, second_epoch)

    # no half model: the project's record, its model folder and its ONNX file are the first run's, byte for byte
    assert project.model_record() == record and api.model_status(project).exported
    assert _digests(project.model_dir) == model_files and _digests(project.exports_dir) == onnx
    assert train.summary.text() == summary and train.export_row.start.isEnabled()
    assert tagging.model_text.text() == model_line and tagging.model_ready
    assert checkpoint_dir_for(project.model_dir).is_dir()  # where the next run starts

    monkeypatch.undo()
    _run(qtbot, train.job_row)
    result = train.job_row.job.result
    assert train.job_row.status.text() == "Done"
    assert result.resumed_from == 1 and [h["epoch"] for h in result.history] == [1, 2, 3]
    assert not checkpoint_dir_for(project.model_dir).exists()
    status = api.model_status(project)
    assert status.trained and not status.exported and status.summary["history"] == result.history
    assert tagging.model_text.text() == "The trained model is not exported yet: export it in the Training panel."
    assert not tagging.model_ready


def _colour_project(root: Path):  # type: ignore[no-untyped-def]
    """A project whose exported model is the tiny colour tagger (no training needed)."""
    from engine import api
    from engine.hashing import sha256_file
    from engine.labels import LabelSet
    from tests.engine.tagging.conftest import make_tiny_onnx, tiny_metadata

    project = api.create_project(root, labels=LabelSet.from_names(list(COLOURS), name="colours"))
    make_tiny_onnx(project.onnx_path, tiny_metadata(COLOURS))
    project.record_model(onnx_path=project.onnx_path, onnx_sha256=sha256_file(project.onnx_path),
                         labels=list(COLOURS))
    return project.root


def _photos(folder: Path) -> list[str]:
    """Five coloured photos and, between them, a file that is not an image (sorted: the order tagging reads)."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True)
    for i in range(5):
        arr = np.clip(rng.integers(0, 256, 3) + rng.integers(-10, 11, (32, 40, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"p{i}.png")
    (folder / "p2_broken.png").write_bytes(b"not a png")
    return sorted(str(p) for p in folder.iterdir())


def _store(project):  # type: ignore[no-untyped-def]
    from engine.tagging.store import TagStore

    return TagStore.open(project.db_path)


def _browse_paths(window, qtbot) -> tuple[str, set[str]]:  # type: ignore[no-untyped-def]
    browse = window.show_panel("browse")
    assert browse.model.wait(5000)
    paths = {browse.model.data(browse.model.index(r), Qt.ItemDataRole.UserRole) for r in range(browse.model.rowCount())}
    return browse.count_label.text(), paths


def test_cancel_tagging_keeps_the_tagged_photos_and_the_next_run_tags_only_the_rest(window, qtbot, tmp_path,
                                                                                    monkeypatch):
    from engine.tagging import runner

    assert window.open_project(_colour_project(tmp_path / "proj"))
    project = window.ctx.project
    p0, p1, p2, broken, p3, p4 = _photos(tmp_path / "photos")
    assert _browse_paths(window, qtbot) == ("No tagged photos yet — tag a folder in the Tagging panel.", set())
    tagging = window.show_panel("tagging")
    assert tagging.folders.add_folder(tmp_path / "photos") and tagging.job_row.start.isEnabled()

    # batches of two photos; the job is held after the first batch is written until the panel's Cancel reaches it
    monkeypatch.setattr(runner, "TagConfig", functools.partial(runner.TagConfig, batch_size=2))
    real_run, real_write = runner._decode_and_write, runner._TaggingRun.write
    token, first_batch = {}, threading.Event()

    def run_keeping_the_token(run, pool, cancel):  # type: ignore[no-untyped-def]
        token["cancel"] = cancel
        return real_run(run, pool, cancel)

    def write_until_cancelled(self, batch):  # type: ignore[no-untyped-def]
        real_write(self, batch)
        if not first_batch.is_set():
            first_batch.set()
            assert token["cancel"]._event.wait(30), "the panel's Cancel never reached the job"

    monkeypatch.setattr(runner, "_decode_and_write", run_keeping_the_token)
    monkeypatch.setattr(runner._TaggingRun, "write", write_until_cancelled)
    _cancel_when(qtbot, tagging.job_row, first_batch)

    # the first batch is stored, complete: every label's score; nothing of the rest
    with _store(project) as store:
        assert store.counts() == {"done": 2, "error": 0, "missing": 0}
        assert [(r["status"], r["tagged"], r["errors"]) for r in store.runs()] == [("cancelled", 2, 0)]
        for path in (p0, p1):
            assert store.image(path)["status"] == "done" and sorted(store.tags_of(path)) == sorted(COLOURS)
        assert all(store.image(p) is None for p in (p2, broken, p3, p4))
    assert _browse_paths(window, qtbot) == ("2 of 2 photos", {p0, p1})

    monkeypatch.undo()
    window.show_panel("tagging")
    _run(qtbot, tagging.job_row)
    result = tagging.job_row.job.result
    assert (result.tagged, result.errors, result.skipped) == (3, 1, 2)  # only the rest is read
    assert tagging.job_row.status.text() == "Done"
    assert tagging.summary.text().startswith("Tagged 3 images (2 unchanged, 1 unreadable, 0 gone)")
    with _store(project) as store:
        assert store.counts() == {"done": 5, "error": 1, "missing": 0}
        assert [store.image(p)["run_id"] for p in (p0, p1, p2, broken, p3, p4)] == [1, 1, 2, 2, 2, 2]
    assert _browse_paths(window, qtbot) == ("5 of 5 photos", {p0, p1, p2, p3, p4})
