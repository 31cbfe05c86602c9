"""Open the demo run's sample project in the app and save Browse with a "why" heatmap.

    .venv/bin/t2ipal demo run                      # leaves demo-project/
    xvfb-run -a -s "-screen 0 1400x900x24" env QT_QPA_PLATFORM=xcb .venv/bin/python docs/make_demo_screenshot.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots" / "demo-browse.png"


def main() -> int:
    project = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "demo-project").resolve()
    if not (project / "project.db").is_file():
        print(f"{project} has no project.db: run `t2ipal demo run` first", file=sys.stderr)
        return 1
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="t2ipal-"))
    from t2ipal_gui import logbridge
    from t2ipal_gui.app import build_window, create_app

    def settle(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    logbridge.install()
    app = create_app(theme="light")
    window = build_window()
    window.resize(1280, 820)
    window.show()
    window.open_project(project)
    window.show_panel("browse")
    browse = window.panels["browse"]
    settle(1500)
    browse.grid.setCurrentIndex(browse.model.index(3))
    settle(300)
    browse.chips.setCurrentRow(0)  # the highest-scoring tag
    label = browse.chips.item(0).data(Qt.ItemDataRole.UserRole)
    job = browse.explain()
    for _ in range(100):
        settle(100)
        if job is None or not browse.ctx.runner.running():
            break
    settle(500)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(OUT))
    print(f"{OUT} (heatmap of {label!r})")
    window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
