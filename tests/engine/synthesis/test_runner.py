"""The runner and cache with a procedural backend: skip, resume, cancel, kill, disk full, manifest."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.errors import Cancelled, ConfigError, EngineError, InputError, StorageError
from engine.progress import CancelToken
from engine.project import Project
from engine.synthesis import (
    Manifest,
    SynthesisConfig,
    available_backends,
    create_backend,
    image_seed,
    register_backend,
    synthesize,
)
from engine.synthesis.items import as_caption_items
from tests.engine.synthesis.fakes import ColourBackend, captions

REPO = Path(__file__).resolve().parents[3]


def _manifest(project: Project) -> Manifest:
    return Manifest(project.open_db(), project.synthetic_dir)


def _pngs(project: Project) -> set[str]:
    return {p.relative_to(project.synthetic_dir).as_posix() for p in project.synthetic_dir.rglob("*.png")}


def test_seeds_are_deterministic_and_distinct() -> None:
    assert image_seed("k", 0, 0) == image_seed("k", 0, 0)
    seeds = {image_seed(k, i, s) for k in ("a", "b") for i in range(3) for s in (0, 1)}
    assert len(seeds) == 12
    assert all(0 <= s < 2**63 for s in seeds)


def test_run_then_rerun_skips_and_manifest_matches(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    backend = ColourBackend()
    events = []
    cfg = SynthesisConfig(images_per_caption=2, batch_size=4)
    first = synthesize(captions(3), backend, project, cfg, progress=events.append)
    assert (first.planned, first.made, first.skipped) == (6, 6, 0)
    assert [e.done for e in events][-1] == 6 and events[-1].total == 6 and events[-1].eta_s == 0.0
    assert len(first.records) == 6 and first.records[0].labels == ("thing",)
    assert {r.path for r in first.records} == _pngs(project)
    report = _manifest(project).verify(checksums=True)
    assert report.consistent and report.rows == 6

    again = synthesize(captions(3), backend, project, cfg)
    assert (again.made, again.skipped) == (0, 6)
    assert len(backend.calls) == 2  # 6 images at batch 4; nothing rendered the second time
    # one more image per caption: only the new index is made
    more = synthesize(captions(3), backend, project, cfg.replace(images_per_caption=3))
    assert (more.made, more.skipped) == (3, 6)
    assert {r.index for r in backend.calls[-1]} == {2}


def test_same_seed_same_pixels_and_duplicate_texts_share_images(tmp_path: Path) -> None:
    items = [*captions(2), {"id": "dup", "text": "a photo of  thing number 0", "labels": ["thing"]}]
    a = synthesize(items, ColourBackend(), Project(tmp_path / "a"), SynthesisConfig(seed=5))
    b = synthesize(items, ColourBackend(), Project(tmp_path / "b"), SynthesisConfig(seed=5))
    assert a.planned == 2  # whitespace-normalised duplicate text shares the images
    assert [r.sha256 for r in a.records] == [r.sha256 for r in b.records]
    c = synthesize(items, ColourBackend(), Project(tmp_path / "c"), SynthesisConfig(seed=6))
    assert [r.sha256 for r in a.records] != [r.sha256 for r in c.records]


def test_changed_parameter_makes_new_images_and_keeps_old(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    old = synthesize(captions(2), ColourBackend(variant="a"), project)
    new = synthesize(captions(2), ColourBackend(variant="b"), project)
    assert new.params_hash != old.params_hash and new.made == 2
    assert all((project.synthetic_dir / r.path).is_file() for r in old.records + new.records)
    assert _manifest(project).verify().rows == 4


def test_cancel_mid_run_then_resume_makes_exactly_the_missing(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    backend, cancel = ColourBackend(), CancelToken()
    backend.cancel_after = (3, cancel)  # cancelled inside the second batch of 2
    cfg = SynthesisConfig(images_per_caption=2, batch_size=2)
    with pytest.raises(Cancelled):
        synthesize(captions(4), backend, project, cfg, cancel=cancel)
    before = _pngs(project)
    assert len(before) == 2  # the half-rendered batch left nothing behind
    assert _manifest(project).verify().consistent

    resumed = ColourBackend()
    result = synthesize(captions(4), resumed, project, cfg)
    made = {(r.key, r.index) for call in resumed.calls for r in call}
    done_before = {(r.caption_key, r.index) for r in result.records if r.path in before}
    assert result.made == 6 and len(made) == 6 and made.isdisjoint(done_before)
    assert _manifest(project).verify(checksums=True).consistent and len(_pngs(project)) == 8


def test_crash_leaves_consistent_manifest(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    backend = ColourBackend()
    backend.crash_after = 3
    with pytest.raises(RuntimeError, match="simulated"):
        synthesize(captions(5), backend, project, SynthesisConfig(batch_size=2))
    report = _manifest(project).verify()
    assert report.consistent and report.rows == 2
    assert synthesize(captions(5), ColourBackend(), project, SynthesisConfig(batch_size=2)).made == 3


def test_orphans_adopted_stale_rows_remade_temp_files_swept(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    first = synthesize(captions(4), ColourBackend(), project)
    manifest = _manifest(project)
    # killed after the rename but before the commit: files without rows
    manifest.remove(first.params_hash, [(r.caption_key, r.index) for r in first.records[:2]])
    # a file deleted by the user: a row without a file
    (project.synthetic_dir / first.records[3].path).unlink()
    # a partial file from a killed process (pid that cannot exist)
    tmp = project.synthetic_dir / first.records[0].path
    stray = tmp.with_name(f".{tmp.name}.999999999.tmp")
    stray.write_bytes(b"partial")
    assert not manifest.verify().consistent

    backend = ColourBackend()
    again = synthesize(captions(4), backend, project)
    assert (again.adopted, again.made, again.skipped) == (2, 1, 1)
    assert [r.index for call in backend.calls for r in call] == [0]
    assert not stray.exists()
    assert manifest.verify(checksums=True).consistent
    assert [r.sha256 for r in again.records] == [r.sha256 for r in first.records]


def test_kill_subprocess_then_resume(tmp_path: Path) -> None:
    project_dir = tmp_path / "p"
    code = (
        "import sys; from pathlib import Path; from engine.project import Project;"
        "from engine.synthesis import synthesize, SynthesisConfig;"
        "from tests.engine.synthesis.fakes import ColourBackend, captions;"
        f"synthesize(captions(40), ColourBackend(delay_s=0.05), Project(Path({str(project_dir)!r})),"
        " SynthesisConfig(batch_size=2))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    project = Project(project_dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(_pngs(project)) < 6:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    before = _pngs(project)
    assert 6 <= len(before) < 40
    backend = ColourBackend()
    result = synthesize(captions(40), backend, project, SynthesisConfig(batch_size=2))
    assert result.made == 40 - len(before)
    assert sum(len(c) for c in backend.calls) == 40 - len(before)
    report = _manifest(project).verify(checksums=True)
    assert report.consistent and report.rows == 40


def test_disk_full_gives_clear_error_and_consistent_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = Project(tmp_path / "p")
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(StorageError, match="disk full"):
        synthesize(captions(6), ColourBackend(), project, SynthesisConfig(batch_size=4))
    monkeypatch.setattr(os, "fsync", real_fsync)
    report = _manifest(project).verify(checksums=True)
    assert report.consistent and report.rows == 3
    assert synthesize(captions(6), ColourBackend(), project).made == 3


def test_unwritable_folder_gives_storage_error(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    project.root.mkdir()
    project.synthetic_dir.write_text("a file where the folder should be")
    with pytest.raises(StorageError, match="synthetic"):
        synthesize(captions(1), ColourBackend(), project)


def test_bad_inputs(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    with pytest.raises(InputError, match="empty"):
        synthesize([{"text": "  "}], ColourBackend(), project)
    with pytest.raises(InputError, match="no text"):
        as_caption_items([{"labels": ["x"]}])
    with pytest.raises(ConfigError, match="images_per_caption"):
        SynthesisConfig(images_per_caption=0)

    class Short(ColourBackend):
        def render(self, requests, *, cancel=None):  # type: ignore[no-untyped-def]
            return super().render(requests)[:-1]

    with pytest.raises(EngineError, match="returned 1 images for 2"):
        synthesize(captions(2), Short(), project, SynthesisConfig(batch_size=2))


def test_slow_backend_warns_before_starting(tmp_path: Path) -> None:
    class Slow(ColourBackend):
        def estimate_seconds_per_image(self) -> float:
            return 900.0

    result = synthesize(captions(5), Slow(), Project(tmp_path / "p"))
    assert result.warnings and "1.2 h" in result.warnings[0]


def test_registry() -> None:
    register_backend("colour-test", ColourBackend)
    assert {"colour-test", "diffusers"} <= set(available_backends())
    backend = create_backend("colour-test", size=8)
    assert backend.params_key()["size"] == 8
    with pytest.raises(ConfigError, match="unknown synthesis backend"):
        create_backend("nope")
