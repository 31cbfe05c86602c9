"""The learning curve of `t2ipal demo review` (mAP against reviewed photos, std bands) as a PNG, with pyqtgraph.

Usage: QT_QPA_PLATFORM=offscreen python -m t2ipal_gui.learning_curve review-results.json docs/learning-curve.png
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

COLOURS = {"queue": (40, 110, 200), "random": (200, 120, 40)}


def plot_learning_curve(results: dict[str, Any], out: str | Path, width: int = 900) -> Path:
    """Mean test mAP per order with a ±1 std band, and the linear probe as a dashed line."""
    import pyqtgraph as pg
    import pyqtgraph.exporters
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    plot = pg.PlotWidget(title="Learning from a simulated reviewer (demo world, 3 seeds, ± std)")
    plot.addLegend(offset=(-10, 120))
    plot.setLabel("bottom", "reviewed photos")
    plot.setLabel("left", "test mAP")
    steps = [float(s) for s in results["steps"]]
    for order, curve in results["curves"].items():
        values = [curve[str(int(s))] for s in steps]
        mean = [statistics.fmean(v) for v in values]
        std = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values]
        colour = COLOURS.get(order, (90, 90, 90))
        upper = pg.PlotDataItem(steps, [m + s for m, s in zip(mean, std, strict=True)], pen=pg.mkPen(None))
        lower = pg.PlotDataItem(steps, [m - s for m, s in zip(mean, std, strict=True)], pen=pg.mkPen(None))
        plot.addItem(pg.FillBetweenItem(upper, lower, brush=pg.mkBrush(*colour, 60)))
        plot.plot(steps, mean, pen=pg.mkPen(colour, width=2), symbol="o", symbolBrush=colour,
                  name=f"{order} order")
    probe = results.get("linear_probe_map")
    if probe is not None:
        plot.plot([steps[0], steps[-1]], [probe, probe], pen=pg.mkPen((60, 60, 60), width=1.5,
                  style=pg.QtCore.Qt.PenStyle.DashLine), name="linear probe (frozen features)")
    plot.resize(width, int(width * 0.6))
    exporter = pyqtgraph.exporters.ImageExporter(plot.plotItem)
    exporter.parameters()["width"] = width
    out = Path(out)
    exporter.export(str(out))
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        sys.stderr.write(str(__doc__) + "\n")
        return 2
    out = plot_learning_curve(json.loads(Path(args[0]).read_text(encoding="utf-8")), args[1])
    sys.stdout.write(f"{out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
