"""What a tagging run does, counts and reports: rows per status, files retagged or skipped, progress, run records."""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.errors import ArtifactError, Cancelled, ConfigError, InputError, StorageError
from engine.export.checksum import read_checksum
from engine.progress import CancelToken, ProgressEvent, ProgressReporter
from engine.tagging import runner
from engine.tagging.runner import TagConfig, TagRunResult, expected_checksum, is_unchanged, tag_folders
from engine.tagging.scan import ScanEntry
from engine.tagging.store import KnownImage, TagStore

from .conftest import LABELS, make_folder, make_tiny_onnx, tiny_metadata, write_photo


@pytest.fixture
def every_event(monkeypatch) -> list[ProgressEvent]:
    """Progress events of a run, none dropped by the reporter's time throttle (so the counts are exact)."""
    events: list[ProgressEvent] = []
    monkeypatch.setattr(runner, "ProgressReporter", functools.partial(ProgressReporter, min_interval_s=0.0))
    return events


def _touch_later(path: str | Path) -> None:
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def test_config_refuses_each_bad_setting_by_name() -> None:
    for field, value in (("batch_size", 0), ("workers", -1), ("threads", -1), ("max_megapixels", 0),
                         ("max_file_mb", 0), ("provider", "tpu")):
        with pytest.raises(ConfigError) as info:
            TagConfig(**{field: value})
        assert info.value.field == field and str(info.value).startswith(f"{field}: ")
    TagConfig(batch_size=1, workers=0, threads=0, max_megapixels=1, max_file_mb=1, provider="cpu")  # the edges
    cfg = TagConfig(max_megapixels=3, workers=5)
    assert cfg.max_pixels == 3_000_000 and cfg.decode_workers == 5
    assert TagConfig().decode_workers == max(1, min(4, os.cpu_count() or 1))


def test_run_result_summaries() -> None:
    r = TagRunResult(1, ["CPUExecutionProvider"], tagged=6, errors=2, still_unreadable=3, elapsed_s=4.0)
    assert r.unreadable == 5 and r.images_per_s == 2.0
    assert TagRunResult(1, [], tagged=5).images_per_s == 0.0


def test_the_skip_rule() -> None:
    entry = ScanEntry("/p/a.jpg", 10, 20)
    assert not is_unchanged(None, entry, 1, False)
    assert is_unchanged(KnownImage(10, 20, "done", 1), entry, 1, False)
    assert is_unchanged(KnownImage(10, 20, "done", 1), entry, 1, True)
    assert not is_unchanged(KnownImage(11, 20, "done", 1), entry, 1, False)  # size changed
    assert not is_unchanged(KnownImage(10, 21, "done", 1), entry, 1, False)  # mtime changed
    assert not is_unchanged(KnownImage(10, 20, "done", 2), entry, 1, False)  # another model
    assert is_unchanged(KnownImage(10, 20, "error", 2), entry, 1, False)  # failed before: not retried
    assert not is_unchanged(KnownImage(10, 20, "error", 1), entry, 1, True)  # ... unless asked
    assert not is_unchanged(KnownImage(10, 20, "missing", 1), entry, 1, False)  # back again


def test_expected_checksum(tmp_path: Path, tiny_model: Path) -> None:
    recorded = read_checksum(tiny_model)
    assert expected_checksum(tiny_model, None, False) == recorded
    assert expected_checksum(tiny_model, "ab" * 32, False) == "ab" * 32  # the caller's wins
    bare = tmp_path / "bare.onnx"
    bare.write_bytes(tiny_model.read_bytes())
    assert expected_checksum(bare, None, True) is None
    assert expected_checksum(bare, "cd" * 32, False) == "cd" * 32
    with pytest.raises(ArtifactError) as info:
        expected_checksum(bare, None, False)
    assert str(info.value) == (
        f"{bare} has no recorded checksum (bare.onnx.sha256 is missing), so it cannot be verified; export it "
        "again with `t2ipal export`, or pass --trust-unverified if you trust the file")


def test_folders_to_tag_must_be_given_and_exist(tmp_path: Path, tiny_model: Path, monkeypatch) -> None:
    with pytest.raises(InputError) as info:
        tag_folders([], tiny_model, tmp_path / "t.db")
    assert str(info.value) == "no folders given to tag"
    (tmp_path / "photos").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as info:
        tag_folders(["photos", "gone"], tiny_model, tmp_path / "t.db")
    assert str(info.value) == f"{tmp_path / 'gone'} does not exist"  # made absolute
    assert not (tmp_path / "t.db").exists()


def test_each_photo_gets_every_label_score_and_its_own_row_beside_bad_files(tmp_path: Path, tiny_model: Path,
                                                                           every_event) -> None:
    files = make_folder(tmp_path / "photos", 5)
    (tmp_path / "photos" / "sub0" / "img_0000_zbroken.png").write_bytes(b"not a png at all")
    (tmp_path / "photos" / "sub1" / "img_0001_empty.png").write_bytes(b"")
    db = tmp_path / "t.db"
    # one batch of 7 mixing bad and good files: each score must land on its own photo
    result = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=7, workers=2),
                         progress=every_event.append)
    assert (result.candidates, result.tagged, result.errors, result.skipped, result.missing) == (7, 5, 2, 0, 0)
    assert (result.still_unreadable, result.unreadable) == (0, 2)
    assert result.providers == ["CPUExecutionProvider"] and result.elapsed_s > 0
    with TagStore.open(db) as store:
        assert store.counts() == {"done": 5, "error": 2, "missing": 0}
        for path, colour in files.items():
            tags = store.tags_of(path)
            assert set(tags) == set(LABELS) and all(src == "auto" for _, src in tags.values())
            assert max(tags, key=lambda lab: tags[lab][0]) == colour and tags[colour][0] > 0.5
            assert store.labels_in_force(path) == {colour}
        failed = dict(store.failed())
        assert failed == {str(tmp_path / "photos" / "sub0" / "img_0000_zbroken.png"): "not an image or an "
                          "unsupported format", str(tmp_path / "photos" / "sub1" / "img_0001_empty.png"): "empty file"}
        (run,) = store.runs()
        assert (run["status"], run["tagged"], run["errors"], run["skipped"], run["missing"]) == ("done", 5, 2, 0, 0)
        assert run["id"] == result.run_id
    assert [(e.stage, e.done, e.total) for e in every_event] == [("tag", 7, 7), ("tag", 7, 7)]
    assert every_event[0].metrics["img/s"] > 0
    assert every_event[-1].message == "5 tagged, 2 errors, 0 unchanged"


def test_a_second_run_retags_only_changed_files_and_reports_progress_for_each(tmp_path: Path, tiny_model: Path,
                                                                              every_event, monkeypatch) -> None:
    monkeypatch.setattr(runner, "_LOOKUP_CHUNK", 3)  # the skip lookup in chunks of 3 files
    files = make_folder(tmp_path / "photos", 8)
    (tmp_path / "photos" / "broken.jpg").write_bytes(b"garbage")
    db = tmp_path / "t.db"
    first = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=4), progress=every_event.append)
    assert (first.tagged, first.errors) == (8, 1)
    assert [e.done for e in every_event] == [4, 8, 9, 9]
    assert all("img/s" in e.metrics for e in every_event[:-1])
    every_event.clear()
    changed = sorted(files)[2]
    write_photo(Path(changed), "blue")
    _touch_later(changed)
    gone = sorted(files)[5]
    os.unlink(gone)
    second = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=4), progress=every_event.append)
    assert (second.candidates, second.tagged, second.errors, second.skipped, second.missing) == (8, 1, 0, 7, 1)
    assert (second.still_unreadable, second.unreadable) == (1, 1)
    # unchanged files count as done chunk by chunk (3 + 2 + 2), then the one changed file, then the summary
    assert [e.done for e in every_event] == [3, 5, 7, 8, 8] and {e.total for e in every_event} == {8}
    assert every_event[-1].message == "1 tagged, 0 errors, 7 unchanged"
    assert [e.metrics["img/s"] for e in every_event[:3]] == [0.0, 0.0, 0.0]  # nothing read yet
    assert every_event[3].metrics["img/s"] > 0
    with TagStore.open(db) as store:
        assert store.counts() == {"done": 7, "error": 1, "missing": 1}
        assert store.labels_in_force(changed) == {"blue"}
        assert store.image(gone)["status"] == "missing"
        runs = store.runs()
        assert [(r["tagged"], r["errors"], r["skipped"], r["missing"]) for r in runs] == [(8, 1, 0, 0), (1, 0, 7, 1)]
        assert {r["status"] for r in runs} == {"done"}
        by_run = {p: store.image(p)["run_id"] for p in files if p != gone}
    assert by_run[changed] == second.run_id
    assert all(rid == first.run_id for p, rid in by_run.items() if p != changed)  # the others were not rewritten


def test_skipped_files_are_seen_so_they_are_not_marked_missing(tmp_path: Path, tiny_model: Path, monkeypatch) -> None:
    monkeypatch.setattr(runner, "_LOOKUP_CHUNK", 2)
    make_folder(tmp_path / "photos", 5)
    db = tmp_path / "t.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    again = tag_folders([tmp_path / "photos"], tiny_model, db)
    assert (again.tagged, again.skipped, again.missing) == (0, 5, 0)
    with TagStore.open(db) as store:
        assert store.counts() == {"done": 5, "error": 0, "missing": 0}


def test_retry_errors_reads_failed_files_again(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 2)
    bad = tmp_path / "photos" / "late.png"
    bad.write_bytes(b"half a file")
    db = tmp_path / "t.db"
    assert tag_folders([tmp_path / "photos"], tiny_model, db).errors == 1
    plain = tag_folders([tmp_path / "photos"], tiny_model, db)
    assert (plain.tagged, plain.errors, plain.skipped, plain.still_unreadable) == (0, 0, 3, 1)
    retried = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(retry_errors=True))
    assert (retried.tagged, retried.errors, retried.skipped, retried.still_unreadable) == (0, 1, 2, 0)
    with TagStore.open(db) as store:
        assert store.image(str(bad))["run_id"] == retried.run_id  # read again, by the retrying run
        assert store.failed(run_id=retried.run_id) == [(str(bad), "not an image or an unsupported format")]


def test_without_mark_missing_deleted_files_keep_their_status(tmp_path: Path, tiny_model: Path) -> None:
    files = make_folder(tmp_path / "photos", 3)
    db = tmp_path / "t.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    gone = next(iter(files))
    os.unlink(gone)
    kept = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(mark_missing=False))
    assert (kept.skipped, kept.missing) == (2, 0)
    with TagStore.open(db) as store:
        assert store.counts() == {"done": 3, "error": 0, "missing": 0}
        assert store.runs()[-1]["missing"] == 0
    marked = tag_folders([tmp_path / "photos"], tiny_model, db)
    assert marked.missing == 1
    with TagStore.open(db) as store:
        assert store.image(gone)["status"] == "missing" and store.runs()[-1]["missing"] == 1


def test_cancel_stops_after_the_batch_and_says_how_many(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 9)
    (tmp_path / "photos" / "broken.jpg").write_bytes(b"garbage")  # scanned first: in the first batch
    db = tmp_path / "t.db"
    cancel = CancelToken()
    cancel.set()
    with pytest.raises(Cancelled) as info:
        tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=3), cancel=cancel)
    assert str(info.value) == "tagging cancelled after 3 images; run it again to resume where it stopped"
    with TagStore.open(db) as store:
        assert store.counts() == {"done": 2, "error": 1, "missing": 0}
        (run,) = store.runs()
        assert (run["status"], run["tagged"], run["errors"], run["missing"]) == ("cancelled", 2, 1, 0)
        assert run["finished"]
    rest = tag_folders([tmp_path / "photos"], tiny_model, db, TagConfig(batch_size=3), cancel=CancelToken())
    assert (rest.tagged, rest.skipped, rest.still_unreadable) == (7, 3, 1)


def test_a_failed_write_marks_the_run_failed(tmp_path: Path, tiny_model: Path, monkeypatch) -> None:
    make_folder(tmp_path / "photos", 4)
    db = tmp_path / "t.db"

    def full(self, results, *, run_id, model_id):
        raise StorageError("disk full")

    monkeypatch.setattr(TagStore, "write_batch", full)
    with pytest.raises(StorageError, match="disk full"):
        tag_folders([tmp_path / "photos"], tiny_model, db)
    monkeypatch.undo()
    with TagStore.open(db) as store:
        (run,) = store.runs()
        assert run["status"] == "failed" and run["finished"]


def test_an_unexpected_decoder_error_is_that_file_s_error_row(tmp_path: Path, tiny_model: Path, monkeypatch,
                                                               caplog) -> None:
    files = make_folder(tmp_path / "photos", 3)
    odd = sorted(files)[1]
    real = runner.decode_file

    def decode(path, *args, **kwargs):
        if path == odd:
            raise ValueError("boom")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(runner, "decode_file", decode)
    with caplog.at_level("ERROR", logger="engine.tagging.runner"):
        result = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db")
    assert (result.tagged, result.errors) == (2, 1)
    (record,) = caplog.records
    assert record.getMessage() == f"unexpected error decoding {odd}" and record.exc_info[0] is ValueError
    with TagStore.open(tmp_path / "t.db") as store:
        assert store.failed() == [(odd, "unexpected error: ValueError: boom")]


def test_decode_gets_the_run_s_limits(tmp_path: Path, tiny_model: Path, monkeypatch) -> None:
    make_folder(tmp_path / "photos", 1)
    seen = []
    real = runner.decode_file

    def decode(path, spec, **kwargs):
        seen.append((spec.size, kwargs))
        return real(path, spec, **kwargs)

    monkeypatch.setattr(runner, "decode_file", decode)
    tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db",
                TagConfig(draft=False, max_megapixels=7, max_file_mb=3))
    assert seen == [(32, {"draft": False, "max_pixels": 7_000_000, "max_file_bytes": 3 * 2**20})]


def test_a_scan_error_is_stored_as_that_entry_s_error(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 1)
    os.symlink(tmp_path / "nowhere.png", tmp_path / "photos" / "link.png")
    result = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db")
    assert (result.tagged, result.errors) == (1, 1)
    with TagStore.open(tmp_path / "t.db") as store:
        assert store.failed() == [(str(tmp_path / "photos" / "link.png"), "broken symlink")]


def test_a_model_with_the_wrong_checksum_is_refused(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 1)
    with pytest.raises(ArtifactError):
        tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", onnx_sha256="0" * 64)
    assert tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db",
                       onnx_sha256=read_checksum(tiny_model)).tagged == 1


def test_scores_stored_are_the_model_s_for_each_label(tmp_path: Path) -> None:
    labels = ("red", "green", "blue", "extra")
    model = make_tiny_onnx(tmp_path / "m.onnx", tiny_metadata(labels=labels))
    photo = write_photo(tmp_path / "photos" / "one.png", "red")
    tag_folders([tmp_path / "photos"], model, tmp_path / "t.db")
    with TagStore.open(tmp_path / "t.db") as store:
        tags = store.tags_of(str(photo))
    assert set(tags) == set(labels)
    assert tags["extra"][0] == 0.0  # the fourth label never fires in the tiny model
    r, g, b = (tags[lab][0] for lab in ("red", "green", "blue"))
    assert r > 0.5 > g and r > b and np.isfinite([r, g, b]).all()


def test_a_file_changed_in_size_only_is_retagged(tmp_path: Path, tiny_model: Path) -> None:
    photo = write_photo(tmp_path / "photos" / "a.png", "red")
    db = tmp_path / "t.db"
    tag_folders([tmp_path / "photos"], tiny_model, db)
    st = photo.stat()
    write_photo(photo, "green", size=(64, 40))
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns))  # same time, other size
    again = tag_folders([tmp_path / "photos"], tiny_model, db)
    assert (again.tagged, again.skipped) == (1, 0)
    with TagStore.open(db) as store:
        assert store.labels_in_force(str(photo)) == {"green"} and store.image(str(photo))["width"] == 64


def test_include_exclude_and_symlinks_choose_the_files(tmp_path: Path, tiny_model: Path) -> None:
    folder = tmp_path / "photos"
    keep = write_photo(folder / "a_red.png", "red")
    write_photo(folder / "b_green.jpg", "green")
    write_photo(folder / "skip" / "c_blue.png", "blue")
    outside = write_photo(tmp_path / "elsewhere" / "d_red.png", "red")
    os.symlink(outside, folder / "link.png")
    db = tmp_path / "t.db"
    cfg = TagConfig(include=("*.png",), exclude=("skip",), follow_symlinks=False)
    result = tag_folders([folder], tiny_model, db, cfg)
    assert (result.candidates, result.tagged, result.errors) == (1, 1, 0)
    with TagStore.open(db) as store:
        assert store.counts() == {"done": 1, "error": 0, "missing": 0} and store.image(str(keep))
    followed = tag_folders([folder], tiny_model, db, TagConfig(include=("*.png",), exclude=("skip",)))
    assert (followed.candidates, followed.tagged, followed.skipped) == (2, 1, 1)


def test_the_decoder_runs_at_most_two_batches_and_the_workers_ahead(tmp_path: Path, tiny_model: Path,
                                                                  monkeypatch) -> None:
    """Memory stays bounded on a huge folder: decoded images wait for the writer, never all of them at once."""
    make_folder(tmp_path / "photos", 40)
    submitted: list[int] = []
    ahead: list[int] = []

    class CountingPool(runner.ThreadPoolExecutor):
        def submit(self, *args, **kwargs):
            submitted.append(1)
            return super().submit(*args, **kwargs)

    real_write = runner._TaggingRun.write

    def write(self, batch):
        ahead.append(len(submitted) - (self.result.tagged + self.result.errors))
        real_write(self, batch)

    monkeypatch.setattr(runner, "ThreadPoolExecutor", CountingPool)
    monkeypatch.setattr(runner._TaggingRun, "write", write)
    result = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", TagConfig(batch_size=4, workers=3))
    assert result.tagged == 40
    # the batch being written (4) + up to 2 batches (8) + one image per worker (3) decoded or decoding
    assert ahead[:5] == [15, 15, 15, 15, 15] and max(ahead) == 15
    one = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "u.db", TagConfig(batch_size=1, workers=3))
    assert one.tagged == 40


def test_the_rate_reported_is_images_read_per_second(tmp_path: Path, tiny_model: Path, every_event,
                                                     monkeypatch) -> None:
    make_folder(tmp_path / "photos", 3)
    (tmp_path / "photos" / "broken.jpg").write_bytes(b"garbage")
    clock = iter([1000.0])

    class Clock:  # the run starts at 1000 s; every later reading is half a second on
        perf_counter = staticmethod(lambda: next(clock, 1000.5))
        process_time = staticmethod(time.process_time)
        thread_time = staticmethod(time.thread_time)

    monkeypatch.setattr(runner, "time", Clock)
    result = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", TagConfig(batch_size=2),
                         progress=every_event.append)
    assert (result.tagged, result.errors, result.elapsed_s, result.images_per_s) == (3, 1, 0.5, 8.0)
    assert [(e.done, e.metrics.get("img/s")) for e in every_event] == [(2, 4.0), (4, 8.0), (4, None)]


def test_the_run_adds_up_the_time_of_every_batch(tmp_path: Path, tiny_model: Path, monkeypatch) -> None:
    """Per-step times are sums over the batches (bench_tagging prints them), not the last batch's."""
    make_folder(tmp_path / "photos", 5)
    (tmp_path / "photos" / "broken.jpg").write_bytes(b"garbage")
    ticks = {"perf_counter": 0.0, "process_time": 0.0, "thread_time": 0.0}

    def ticking(name: str, step: float):
        def read() -> float:
            ticks[name] += step
            return ticks[name]
        return staticmethod(read)

    class Clock:  # every reading is one step later than the one before: each timed span is one step long
        perf_counter = ticking("perf_counter", 1.0)
        process_time = ticking("process_time", 10.0)
        thread_time = ticking("thread_time", 100.0)

    real = runner.decode_file

    def decode(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), decode_cpu_s=0.5, preprocess_cpu_s=0.25)

    monkeypatch.setattr(runner, "time", Clock)
    monkeypatch.setattr(runner, "decode_file", decode)
    result = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", TagConfig(batch_size=2))
    assert (result.tagged, result.errors) == (5, 1)
    # 6 files in 3 batches, each with a photo: one step per batch for inference and writes, one per file waited for
    t = result.timings
    assert (t["decode_cpu_s"], t["preprocess_cpu_s"]) == (2.5, 1.25)
    assert (t["infer_s"], t["write_s"], t["decode_wait_s"]) == (3.0, 3.0, 6.0)
    assert (t["infer_cpu_s"], t["write_cpu_s"], t["process_cpu_s"]) == (30.0, 300.0, 70.0)


def test_the_session_gets_the_run_s_provider_and_threads(tmp_path: Path, tiny_model: Path, monkeypatch) -> None:
    make_folder(tmp_path / "photos", 1)
    seen = []
    real = runner.TaggerSession

    def session(path, **kwargs):
        seen.append(kwargs)
        return real(path, **kwargs)

    monkeypatch.setattr(runner, "TaggerSession", session)
    tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", TagConfig(provider="cpu", threads=2))
    assert seen == [{"provider": "cpu", "threads": 2, "sha256": read_checksum(tiny_model)}]


def test_the_log_says_what_ran_on_what_and_how_it_ended(tmp_path: Path, tiny_model: Path, caplog) -> None:
    make_folder(tmp_path / "photos", 2)
    (tmp_path / "photos" / "broken.jpg").write_bytes(b"garbage")
    with caplog.at_level("INFO", logger="engine.tagging.runner"):
        result = tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db")
    messages = [r.getMessage() for r in caplog.records if r.name == "engine.tagging.runner"]
    assert messages[0] == f"tagging run 1: {[str(tmp_path / 'photos')]} with tiny.onnx on ['CPUExecutionProvider']"
    assert messages[-1] == f"run 1 done: 2 tagged, 1 errors, 0 skipped, 0 missing in {result.elapsed_s:.1f} s"


def test_the_summary_is_reported_even_right_after_the_last_batch(tmp_path: Path, tiny_model: Path,
                                                                  monkeypatch) -> None:
    """The reporter drops reports that come too soon; the final summary must never be one of them."""
    make_folder(tmp_path / "photos", 5)
    events: list[ProgressEvent] = []
    frozen = functools.partial(ProgressReporter, clock=lambda: 0.0)  # every report comes "too soon"
    monkeypatch.setattr(runner, "ProgressReporter", frozen)
    tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", TagConfig(batch_size=2),
                progress=events.append)
    # the first report, the last batch (done == total) and the summary
    assert [(e.done, e.message) for e in events] == [(2, ""), (5, ""), (5, "5 tagged, 0 errors, 0 unchanged")]


def test_decoding_uses_the_worker_threads_asked_for(tmp_path: Path, tiny_model: Path, monkeypatch) -> None:
    make_folder(tmp_path / "photos", 24)
    names: set[str] = set()
    real = runner.decode_file

    def decode(*args, **kwargs):
        names.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "decode_file", decode)
    assert tag_folders([tmp_path / "photos"], tiny_model, tmp_path / "t.db", TagConfig(workers=2)).tagged == 24
    assert 1 <= len(names) <= 2 and all(n.startswith("decode_") for n in names), names
    assert not [t for t in threading.enumerate() if t.name.startswith("decode_")]  # none left running


def test_the_run_records_its_folders_and_providers_and_names_the_model(tmp_path: Path, tiny_model: Path) -> None:
    make_folder(tmp_path / "photos", 1)
    make_folder(tmp_path / "more", 1)
    db = tmp_path / "t.db"
    tag_folders([tmp_path / "photos", tmp_path / "more"], tiny_model, db)
    with TagStore.open(db) as store:
        assert store.tagged_folders() == [str(tmp_path / "photos"), str(tmp_path / "more")]
        assert store.runs()[0]["providers"] == "CPUExecutionProvider"
    other = make_tiny_onnx(tmp_path / "other.onnx", tiny_metadata(labels=("red", "green", "cat"), checksum="x"))
    with pytest.raises(InputError) as info:
        tag_folders([tmp_path / "photos"], other, db)
    assert str(info.value).startswith(f"{other.resolve()} does not match this database's label set")
