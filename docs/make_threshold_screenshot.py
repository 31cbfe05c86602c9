"""Render Browse's per-label threshold editor on the demo project (`t2ipal demo run`) into docs/screenshots/.

Run under a real X server: `Xvfb :91 -screen 0 1400x900x24 & DISPLAY=:91 openbox &`, then
`DISPLAY=:91 QT_QPA_PLATFORM=xcb python docs/make_threshold_screenshot.py /tmp/scores-demo [LABEL]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

OUT = Path(__file__).resolve().parent / "screenshots" / "threshold-editor.png"
sys.path.insert(0, str(OUT.parents[2]))  # this checkout's packages, not an installed copy


def main() -> int:
    from t2ipal_gui.app import build_window, create_app

    project, label = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "circle")
    create_app([])
    window = build_window()
    window.resize(1280, 820)
    window.show()
    window.open_project(project)
    browse = window.show_panel("browse")
    item = next(browse.label_list.item(i) for i in range(browse.label_list.count())
                if browse.label_list.item(i).data(Qt.ItemDataRole.UserRole) == label)
    browse.label_list.setCurrentItem(item)
    browse.grid.setCurrentIndex(browse.model.index(3))
    for _ in range(30):
        QApplication.processEvents()
        browse.model.wait(200)
    window.grab().save(str(OUT))
    print(f"wrote {OUT}")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
