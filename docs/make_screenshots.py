"""Render the main window with a small sample project and save one PNG per panel in docs/screenshots/.

Run under a real X server for real window decorations and fonts:
    xvfb-run -a -s "-screen 0 1400x900x24" env QT_QPA_PLATFORM=xcb .venv/bin/python docs/make_screenshots.py
(`QT_QPA_PLATFORM=offscreen` works too.)
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = Path(os.environ.get("T2IPAL_SHOTS", ROOT / "docs" / "screenshots"))
LABELS = [
    {"name": "dog", "synonyms": ["puppy", "hound"], "parent": "animal"},
    {"name": "cat", "synonyms": ["kitten"], "parent": "animal"},
    {"name": "bicycle", "synonyms": ["bike"], "not_this": ["bike lane"]},
    {"name": "tree", "synonyms": ["oak", "pine"]},
    {"name": "beach", "synonyms": ["seaside", "shore"]},
]
CAPTIONS = [
    "a dog running on the beach", "a puppy sleeping under a tree", "a cat sitting on a bicycle",
    "two kittens playing near an oak", "a man riding a bike along the shore", "a hound chasing a cat",
    "a bicycle leaning against a pine tree", "a dog and a cat on the seaside", "a tree on an empty beach",
]


def sample_photos(folder: Path, n: int = 18) -> list[tuple[Path, dict[str, float]]]:
    from PIL import Image, ImageDraw

    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    names = [lab["name"] for lab in LABELS]
    out = []
    for i in range(n):
        img = Image.new("RGB", (320, 240), tuple(rng.randint(60, 200) for _ in range(3)))
        draw = ImageDraw.Draw(img)
        for _ in range(3):
            x, y = rng.randint(0, 260), rng.randint(0, 180)
            draw.ellipse((x, y, x + rng.randint(30, 80), y + rng.randint(30, 80)),
                         fill=tuple(rng.randint(0, 255) for _ in range(3)))
        path = folder / f"IMG_{1000 + i}.jpg"
        img.save(path, quality=85)
        out.append((path, {lab: round(rng.random(), 3) for lab in names}))
    return out


def build_project(root: Path) -> Path:
    from engine.captions.store import CaptionStore
    from engine.export.metadata import ModelMetadata
    from engine.imaging import PreprocessSpec
    from engine.labels import LabelSet
    from engine.project import project_at
    from engine.tagging.store import ImageResult, TagStore

    project = project_at(root / "holiday-photos").create()
    labelset = LabelSet.from_dict({"name": "holiday", "labels": LABELS})
    labelset.save(project.labelset_path)
    db = project.open_db()
    store = CaptionStore(db)
    store.add_labelset(labelset)
    store.add_captions(labelset, CAPTIONS, source="typed")
    db.conn.close()
    photos = sample_photos(root / "Photos" / "2024 Summer")
    meta = ModelMetadata(labels=tuple(labelset.names), thresholds=(0.5,) * len(labelset), preprocess=PreprocessSpec(),
                         model_checksum="sample", hierarchy={})
    with TagStore.open(project.db_path) as tags:
        model_id = tags.register_model(meta, "sample.onnx")
        run_id = tags.start_run(model_id, [str(root / "Photos")])
        tags.write_batch([ImageResult(str(p), p.stat().st_size, p.stat().st_mtime_ns, tags=s) for p, s in photos],
                         run_id=run_id, model_id=model_id)
        tags.finish_run(run_id, "done")
        tags.set_decision(str(photos[0][0]), "dog", "confirmed")
        tags.set_decision(str(photos[0][0]), "tree", "rejected")
    return project.root


def save_log(window, settle) -> None:
    """The Log dock alone, with a warning and an error whose traceback stays in the details."""
    import logging

    log = logging.getLogger("engine.training.job")
    log.warning("label 'beach' has 9 captions (fewer than 50): results for it will be weak")
    try:
        raise FileNotFoundError("CLIP weights RN50/openai are not available offline")
    except FileNotFoundError:
        log.exception("Training failed")
    window.log_dock.show()
    settle(300)
    window.log_dock.grab().save(str(OUT / "log.png"))


def save_dialogs(window, settle) -> None:
    """The dialogs a new user meets: New Project, a missing-weights message, the model manager, shortcuts."""
    from engine.errors import ModelNotFound

    shots = {"new-project": window.new_project()}
    try:
        raise ModelNotFound("CLIP weights RN50/openai are not available offline. Fetch them once on a connected "
                            "machine with `t2ipal fetch clip RN50 openai`.")
    except ModelNotFound as exc:
        shots["error"] = window.errors.show(exc, context="Training")
    for name, dialog in shots.items():
        settle(200)
        dialog.grab().save(str(OUT / f"dialog-{name}.png"))
        dialog.close()
    for name, dialog in (("models", window.show_model_manager()), ("shortcuts", window.show_shortcuts())):
        settle(200)
        dialog.grab().save(str(OUT / f"dialog-{name}.png"))
        dialog.close()


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="t2ipal-shots-"))
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "settings"))
    from t2ipal_gui import logbridge
    from t2ipal_gui.app import build_window, create_app

    logbridge.install()
    app = create_app(theme=os.environ.get("T2IPAL_THEME", "light"))
    window = build_window()
    window.resize(1280, 820)
    window.fit_to_screen()
    window.show()
    project = build_project(tmp)
    window.open_project(project)
    window.panels["tagging"].folders.add_folder(tmp / "Photos" / "2024 Summer")
    OUT.mkdir(parents=True, exist_ok=True)

    def settle(ms: int = 300) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    for key in window.panels:
        window.show_panel(key)
        settle(600 if key == "browse" else 200)
        window.grab().save(str(OUT / f"{key}.png"))
    save_dialogs(window, settle)
    save_log(window, settle)
    print("\n".join(sorted(str(p) for p in OUT.glob("*.png"))))
    window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
