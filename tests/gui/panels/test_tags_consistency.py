"""What Browse shows is what `t2ipal query` lists and what CSV, JSON and XMP exports write, however a folder
was tagged (CLI or GUI); and Browse reaches the last of 20,000 photos."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
    pytest.skip("needs onnx and onnxruntime", allow_module_level=True)

LABELS = ("red", "green", "blue")


def _project(root: Path) -> Path:
    """A project whose exported model is the tiny colour tagger with a calibration (p = sigmoid(6 s - 3))."""
    from engine import api
    from engine.evaluation.calibration import Calibration
    from engine.hashing import sha256_file
    from engine.labels import LabelSet
    from tests.engine.tagging.conftest import make_tiny_onnx, tiny_metadata

    project = api.create_project(root, labels=LabelSet.from_names(list(LABELS), name="colours"))
    cal = Calibration(a=(6.0,) * 3, b=(-3.0,) * 3, max_f1=(0.45, 0.55, 0.5))
    make_tiny_onnx(project.onnx_path, dataclasses.replace(tiny_metadata(LABELS), calibration=cal))
    project.record_model(onnx_path=project.onnx_path, onnx_sha256=sha256_file(project.onnx_path), labels=list(LABELS))
    return project.root


def _photos(folder: Path, n: int = 14) -> list[str]:
    """Photos of random mixed colours, so probabilities spread around the thresholds."""
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        colour = rng.integers(0, 256, 3)
        arr = np.clip(colour + rng.integers(-10, 11, (40, 48, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"p{i:02d}.png")
        paths.append(str(folder / f"p{i:02d}.png"))
    return paths


def _browse_pairs(browse) -> set[tuple[str, str]]:
    """(photo, label) of every chip Browse shows as in force, photo by photo through the grid."""
    pairs = set()
    for row in range(browse.model.rowCount()):
        browse.grid.setCurrentIndex(browse.model.index(row))
        path = browse.current_path()
        for i in range(browse.chips.count()):
            item = browse.chips.item(i)
            if item.data(Qt.ItemDataRole.UserRole + 2):
                pairs.add((path, item.data(Qt.ItemDataRole.UserRole)))
    return pairs


def test_browse_query_and_every_export_list_the_same_tags(window, qtbot, tmp_path, capsys):
    from engine import api
    from engine.cli.main import main
    from engine.tagging.export_tags import read_keywords

    cli_root, gui_root = _project(tmp_path / "cli"), _project(tmp_path / "gui")
    photos = _photos(tmp_path / "photos")
    assert main(["tag", str(tmp_path / "photos"), "--project", str(cli_root), "--no-progress"]) == 0

    assert window.open_project(gui_root)
    tagging = window.show_panel("tagging")
    assert tagging.folders.add_folder(tmp_path / "photos")
    qtbot.mouseClick(tagging.job_row.start, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(tagging.job_row.job.done, timeout=30_000):
        pass
    cli, gui = api.open_project(cli_root), window.ctx.project
    for p in photos:  # the GUI and the CLI store the same thing: every label's raw score
        a, b = api.image_tags(cli, p), api.image_tags(gui, p)
        assert [(lab, src) for lab, _s, src in a] == [(lab, src) for lab, _s, src in b] and len(a) == 3
        np.testing.assert_allclose([s for _l, s, _ in a], [s for _l, s, _ in b], atol=1e-6)

    # the person moves thresholds and decides, in Browse
    browse = window.show_panel("browse")
    browse.global_slider.setValue(5)
    qtbot.waitUntil(lambda: abs(api.policy(gui).global_offset - 0.05) < 1e-9, timeout=3000)
    red = next(browse.label_list.item(i) for i in range(browse.label_list.count())
               if browse.label_list.item(i).data(Qt.ItemDataRole.UserRole) == "red")
    browse.label_list.setCurrentItem(red)
    browse.editor.slider.setValue(30)
    qtbot.waitUntil(lambda: api.label_thresholds(gui)["red"].own == 0.3, timeout=3000)
    assert browse.editor.count.text() == f"would tag {api.count_at(gui, 'red', 0.3)} photos"
    in_force = {(h.path, h.label) for h in api.query(gui)}
    some_photo, some_label = sorted(in_force)[0]
    api.decide(gui, some_photo, some_label, "rejected")
    api.decide(gui, photos[-1], "sunset", "manual")
    api.decide(gui, photos[-2], "blue", "confirmed")
    browse.refresh()
    shown = _browse_pairs(browse)
    assert (some_photo, some_label) not in shown and (photos[-1], "sunset") in shown
    assert (photos[-2], "blue") in shown and 5 < len(shown) < 3 * len(photos)  # thresholds cut somewhere

    listed = main(["query", "--project", str(gui_root), "--format", "table"])
    table = capsys.readouterr().out.splitlines()
    assert listed == 0 and {(r.split("\t")[0], r.split("\t")[1]) for r in table} == shown
    api.export_tags("csv", gui, out=tmp_path / "t.csv")
    with open(tmp_path / "t.csv", encoding="utf-8") as fh:
        assert {(r["path"], r["label"]) for r in csv.DictReader(fh)} == shown
    api.export_tags("json", gui, out=tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    assert {(d["path"], t["label"]) for d in data for t in d["tags"]} == shown
    result = api.export_tags("xmp", gui, naming="ext")
    assert result.errors == 0
    xmp = set()
    for p in photos:
        if Path(p + ".xmp").exists():
            xmp |= {(p, k) for k in read_keywords(Path(p + ".xmp").read_bytes())[0]}
    assert xmp == shown
    # per-label filters in Browse count the same photos
    for label in (*LABELS, "sunset"):
        assert api.matching_count(gui, api.TagFilter([label])) == len({p for p, lab in shown if lab == label})
    assert browse.model.wait(5000)


def test_browse_scrolls_to_the_last_of_20000_photos(window, qtbot, tmp_path):
    from engine import api
    from engine.tagging.store import ImageResult, TagStore
    from tests.engine.tagging.conftest import tiny_metadata

    root = _project(tmp_path / "big")
    project = api.open_project(root)
    n = 20_000
    rng = np.random.default_rng(0)
    scores = rng.normal(0.5, 0.3, (n, 3))
    paths = [f"/photos/{i // 1000:02d}/img_{i:05d}.jpg" for i in range(n)]
    with TagStore(project.open_db()) as store:
        model = store.register_model(tiny_metadata(LABELS))
        run = store.start_run(model, ["/photos"])
        rows = [ImageResult(p, 1, 1, tags=dict(zip(LABELS, map(float, s), strict=True)))
                for p, s in zip(paths, scores, strict=True)]
        for start in range(0, n, 5000):
            store.write_batch(rows[start:start + 5000], run_id=run, model_id=model)
    assert window.open_project(root)
    browse = window.show_panel("browse")
    assert browse.count_label.text() == f"{n} of {n} photos"
    assert browse.model.rowCount() < n  # pages arrive as the view scrolls
    for _ in range(200):
        if not browse.model.canFetchMore():
            break
        browse.grid.scrollToBottom()
        QApplication.processEvents()
    assert browse.model.rowCount() == n
    browse.grid.setCurrentIndex(browse.model.index(n - 1))
    assert browse.current_path() == max(paths)
    reds = int((scores[:, 0] >= 0.5).sum())  # this model has no calibration: centred on its raw threshold 0.5
    red = next(browse.label_list.item(i) for i in range(browse.label_list.count())
               if browse.label_list.item(i).data(Qt.ItemDataRole.UserRole) == "red")
    red.setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: browse.count_label.text() == f"{reds} of {n} photos", timeout=5000)
    browse.global_slider.setValue(50)  # every threshold +0.5 = 1.0: no automatic tag is left
    qtbot.waitUntil(lambda: browse.count_label.text() == f"0 of {n} photos", timeout=5000)
    assert browse.model.wait(5000)
