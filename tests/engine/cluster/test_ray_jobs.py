"""Tagging and synthesis on a local Ray instance (2 CPUs), against the local runners; all Ray tests live here."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "t2ipal-tagger[cluster]")')

from engine import api  # noqa: E402
from engine.cli.main import main  # noqa: E402
from engine.cluster.config import RayConfig  # noqa: E402
from engine.cluster.ray_tag import tag_on_ray  # noqa: E402
from engine.cluster.tag_actor import TagScorer  # noqa: E402
from engine.tagging.runner import TagConfig, tag_folders  # noqa: E402
from engine.tagging.store import TagStore  # noqa: E402

from ..tagging.conftest import make_folder, make_tiny_onnx, tiny_metadata  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
CFG = TagConfig(batch_size=4, workers=1, threads=1)


@pytest.fixture(scope="module")
def ray_address() -> Any:
    info = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                    runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    yield info.address_info["gcs_address"]
    ray.shutdown()


def snapshot(db: Path, path_prefix: str = "") -> dict[str, Any]:
    """What a user can see in a tag database: every image row and every tag, keyed by path (minus run ids)."""
    con = sqlite3.connect(db)
    try:
        images = {p.removeprefix(path_prefix): rest for p, *rest in con.execute(
            "SELECT path, size, mtime_ns, checksum, width, height, status, error FROM tag_images")}
        tags = sorted((p.removeprefix(path_prefix), lab, score, src) for p, lab, score, src in con.execute(
            "SELECT i.path, t.label, t.score, t.source FROM tags t JOIN tag_images i ON i.id = t.image_id"))
        (dups,) = con.execute("SELECT COUNT(*) - COUNT(DISTINCT path) FROM tag_images").fetchone()
    finally:
        con.close()
    return {"images": images, "tags": tags, "duplicates": dups}


def photos_with_a_bad_file(root: Path, n: int) -> Path:
    make_folder(root, n)
    (root / "sub0" / "broken.jpg").write_bytes(b"not a jpeg")
    return root


def test_ray_tags_a_folder_exactly_like_the_local_tagger(ray_address: str, tmp_path: Path, capsys) -> None:
    photos = photos_with_a_bad_file(tmp_path / "photos", 18)
    model = make_tiny_onnx(tmp_path / "m.onnx")
    local = tag_folders([photos], model, tmp_path / "local.db", CFG)
    code = main(["tag", str(photos), "--model", str(model), "--db", str(tmp_path / "ray.db"),
                 "--ray", "--ray-actors", "2", "--ray-batch-size", "4", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert "18 tagged, 1 errors" in capsys.readouterr().err
    expected = snapshot(tmp_path / "local.db")
    assert local.tagged == 18 and len(expected["tags"]) == 18 * 3  # every score of every label, as floats
    assert snapshot(tmp_path / "ray.db") == expected
    again = tag_on_ray([photos], model, tmp_path / "ray.db", CFG, RayConfig(actors=1))
    assert (again.tagged, again.errors, again.skipped) == (0, 0, 19)  # same skip rules as the local tagger


def test_file_uris_are_read_through_pyarrow_with_the_same_results(ray_address: str, tmp_path: Path) -> None:
    photos = photos_with_a_bad_file(tmp_path / "photos", 9)
    model = make_tiny_onnx(tmp_path / "m.onnx")
    tag_folders([photos], model, tmp_path / "local.db", CFG)
    result = tag_on_ray([f"file://{photos}/"], model, tmp_path / "uri.db", CFG, RayConfig(actors=1))
    assert (result.tagged, result.errors) == (9, 1)
    assert snapshot(tmp_path / "uri.db", path_prefix="file://") == snapshot(tmp_path / "local.db")


def _with_decisions(photos: Path, tmp_path: Path, db: Path) -> tuple[Path, dict[str, str]]:
    """An earlier model tagged `photos`; a person confirmed, rejected and added tags; a new model comes."""
    old = make_tiny_onnx(tmp_path / "old.onnx", tiny_metadata(checksum="tiny-v0"))
    tag_folders([photos], old, db, CFG)
    files = sorted(str(p) for p in photos.rglob("*.png"))
    decisions = {files[0]: "confirmed", files[1]: "rejected", files[2]: "manual"}
    with TagStore.open(db) as store:
        for path, source in decisions.items():
            label = "blue" if source == "manual" else next(iter(store.tags_of(path)))
            store.set_decision(path, label, source)
    return make_tiny_onnx(tmp_path / "new.onnx", tiny_metadata(checksum="tiny-v1")), decisions


class DiesOnItsSecondBatch(TagScorer):
    """A worker process that dies hard (no exception, no cleanup) once, in the middle of the run."""

    calls = 0
    marker = ""  # set on a subclass made in the test (its class attributes travel with it to the worker)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        type(self).calls += 1
        marker = Path(self.marker)
        if type(self).calls == 2 and not marker.exists():
            marker.touch()
            os._exit(1)
        return super().__call__(batch)


def test_a_worker_killed_mid_run_is_restarted_and_the_result_is_unchanged(ray_address: str, tmp_path: Path) -> None:
    photos = photos_with_a_bad_file(tmp_path / "photos", 24)
    reference, db = tmp_path / "reference.db", tmp_path / "ray.db"
    new, decisions = _with_decisions(photos, tmp_path, reference)
    tag_folders([photos], new, reference, CFG)
    _with_decisions(photos, tmp_path, db)
    marker = tmp_path / "died"
    ray_cfg = RayConfig(actors=1, write_every=4)
    scorer = type("Dies", (DiesOnItsSecondBatch,), {"marker": str(marker)})
    result = tag_on_ray([photos], new, db, CFG, ray_cfg, scorer=scorer)
    assert marker.exists()  # a worker really died
    assert (result.tagged, result.errors) == (24, 0)  # the broken file failed before and is not retried
    final = snapshot(db)
    assert final == snapshot(reference) and final["duplicates"] == 0
    with TagStore.open(db) as store:
        for path, source in decisions.items():
            assert source in {s for _, s in store.tags_of(path).values()}



DRIVER = """
import sys, time
import ray
from engine.cluster.config import RayConfig
from engine.cluster.ray_tag import tag_on_ray
from engine.cluster.tag_actor import TagScorer
from engine.tagging.runner import TagConfig

class Slow(TagScorer):
    def __call__(self, batch):
        time.sleep(0.3)
        return super().__call__(batch)

ray.init(address=sys.argv[4], log_to_driver=False)
tag_on_ray([sys.argv[1]], sys.argv[2], sys.argv[3], TagConfig(batch_size=4, workers=1, threads=1),
           RayConfig(actors=1, write_every=4), scorer=Slow)
"""


def _rows_by(db: Path, checksum: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute("SELECT COUNT(*) FROM tag_images i JOIN tag_models m ON m.id = i.model_id "
                           "WHERE m.checksum = ?", [checksum]).fetchone()[0]
    finally:
        con.close()


def test_a_driver_killed_mid_run_resumes_to_the_same_database(ray_address: str, tmp_path: Path) -> None:
    photos = photos_with_a_bad_file(tmp_path / "photos", 24)
    reference, db = tmp_path / "reference.db", tmp_path / "ray.db"
    new, decisions = _with_decisions(photos, tmp_path, reference)
    tag_folders([photos], new, reference, CFG)
    _with_decisions(photos, tmp_path, db)
    cmd = [sys.executable, "-c", DRIVER, str(photos), str(new), str(db), ray_address]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while proc.poll() is None and _rows_by(db, "tiny-v1") < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:] if proc.stderr else ""
    written = _rows_by(db, "tiny-v1")
    assert 8 <= written < 24  # killed part-way, after some batches were committed

    result = tag_on_ray([photos], new, db, CFG, RayConfig(actors=1))
    assert (result.tagged, result.skipped) == (24 - written, written + 1)
    final = snapshot(db)
    assert final == snapshot(reference) and final["duplicates"] == 0
    with TagStore.open(db) as store:
        runs = store.runs()
        assert sum(r["tagged"] for r in runs if r["model_id"] == runs[-1]["model_id"]) == 24  # each image once
        for path, source in decisions.items():
            assert source in {s for _, s in store.tags_of(path).values()}


def test_ray_synthesis_makes_the_same_cache_as_the_local_runner(ray_address: str, tmp_path: Path, capsys) -> None:
    captions = tmp_path / "captions.txt"
    captions.write_text("a red circle\na circle and a star\ntwo squares\na star\n", encoding="utf-8")
    made = {}
    for name, extra in (("local", []), ("ray", ["--ray", "--ray-actors", "2", "--ray-batch-size", "2"])):
        root = tmp_path / name
        assert main(["init", str(root), "--labels", "circle,square,star"]) == 0
        assert main(["synth", "--project", str(root), "--captions", str(captions), "--backend", "demo",
                     "-k", "2", "--no-progress", *extra]) == 0
        assert "8 made" in capsys.readouterr().err
        project = api.open_project(root)
        files = {p.relative_to(root / "synthetic"): p.read_bytes() for p in (root / "synthetic").rglob("*.png")}
        made[name] = (files, api.synthetic_images(project))
    assert len(made["local"][0]) == 8
    assert made["ray"] == made["local"]
