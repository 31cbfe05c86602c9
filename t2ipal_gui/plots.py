"""Training plots with pyqtgraph: loss and held-out mAP per epoch (axes, legend, hover values); per-label AP bars."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

LOSS_COLOUR = "#3d7be0"
MAP_COLOUR = "#e0803d"


class _PlotBox(QWidget):
    """A plot that fills the room a panel gives it but asks for no more than its minimum height: a scroll area sizes
    its content by preferred heights, and pyqtgraph's 640x480 would push the panel's buttons out of the window."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(320, self.minimumHeight())


class TrainingPlot(_PlotBox):
    """Loss (left axis) and held-out mAP (right axis, 0-100) against epochs; hovering shows the nearest values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPlot")
        self.setMinimumHeight(140)
        self.loss: list[tuple[float, float]] = []
        self.map: list[tuple[float, float]] = []
        self.view = pg.PlotWidget(background=None)
        plot = self.view.getPlotItem()
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", "loss", color=LOSS_COLOUR)
        plot.showAxis("right")
        plot.setLabel("right", "held-out mAP", color=MAP_COLOUR)
        plot.showGrid(x=True, y=True, alpha=0.15)
        self.legend = plot.addLegend(offset=(-10, 10))
        self.loss_curve = plot.plot([], [], name="loss", pen=pg.mkPen(LOSS_COLOUR, width=2), symbol="o",
                                    symbolSize=5, symbolBrush=LOSS_COLOUR)
        self.map_view = pg.ViewBox()
        plot.scene().addItem(self.map_view)
        plot.getAxis("right").linkToView(self.map_view)
        self.map_view.setXLink(plot)
        self.map_view.setYRange(0, 100)
        self.map_curve = pg.PlotDataItem([], [], name="held-out mAP", pen=pg.mkPen(MAP_COLOUR, width=2),
                                         symbol="s", symbolSize=5, symbolBrush=MAP_COLOUR)
        self.map_view.addItem(self.map_curve)
        self.legend.addItem(self.map_curve, "held-out mAP")
        plot.vb.sigResized.connect(lambda *_: self.map_view.setGeometry(plot.vb.sceneBoundingRect()))
        self.hover = pg.TextItem(anchor=(0, 1))
        plot.addItem(self.hover, ignoreBounds=True)
        self.view.scene().sigMouseMoved.connect(self._hovered)
        self.layout_ = _stack(self, self.view, "Loss and held-out mAP appear here while training runs")

    def clear(self) -> None:
        self.loss.clear()
        self.map.clear()
        self._redraw()

    def add(self, x: float, loss: float | None, heldout_map: float | None) -> None:
        if loss is not None:
            self.loss.append((float(x), float(loss)))
        if heldout_map is not None:
            self.map.append((float(x), float(heldout_map)))
        self._redraw()

    def _redraw(self) -> None:
        self.loss_curve.setData([x for x, _ in self.loss], [y for _, y in self.loss])
        self.map_curve.setData([x for x, _ in self.map], [y for _, y in self.map])
        self.layout_.setCurrentIndex(1 if self.loss or self.map else 0)
        self.hover.setText("")

    def value_at(self, epoch: float) -> str:
        """The hover text at `epoch`: the nearest epoch's loss and mAP."""
        points = self.loss or self.map
        if not points:
            return ""
        nearest = min((x for x, _ in points), key=lambda x: abs(x - epoch))
        parts = [f"epoch {nearest:g}"]
        parts += [f"loss {y:.4g}" for x, y in self.loss if x == nearest]
        parts += [f"mAP {y:.1f}" for x, y in self.map if x == nearest]
        return " · ".join(parts)

    def _hovered(self, pos: QPointF) -> None:
        vb = self.view.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos):
            self.hover.setText("")
            return
        point = vb.mapSceneToView(pos)
        self.hover.setText(self.value_at(point.x()))
        self.hover.setPos(point)


class LabelBars(_PlotBox):
    """Per-label AP (or thresholds) as horizontal bars, one row per label."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("perLabelPlot")
        self.setMinimumHeight(80)
        self.values: dict[str, float] = {}
        self.view = pg.PlotWidget(background=None)
        self.plot = self.view.getPlotItem()
        self.plot.showGrid(x=True, alpha=0.15)
        self.plot.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brush=LOSS_COLOUR)
        self.plot.addItem(self.bars)
        self.layout_ = _stack(self, self.view, "Per-label AP appears here once a model is trained")

    def set_values(self, values: dict[str, float], heading: str) -> None:
        self.values = dict(values)
        names = list(values)
        self.bars.setOpts(x0=[0] * len(names), y=list(range(len(names))), width=[values[n] for n in names])
        self.plot.getAxis("left").setTicks([list(enumerate(names))])
        self.plot.setLabel("bottom", heading)
        top = 100.0 if heading == "AP" and any(v > 1 for v in values.values()) else 1.0
        self.plot.setXRange(0, top, padding=0.02)
        self.plot.setYRange(-0.5, max(len(names), 1) - 0.5, padding=0.05)
        self.layout_.setCurrentIndex(1 if names else 0)


def _stack(owner: QWidget, view: QWidget, empty_text: str) -> QStackedLayout:
    """A plain-words placeholder (index 0) until there is something to plot (index 1)."""
    placeholder = QLabel(empty_text)
    placeholder.setProperty("role", "empty")
    placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
    placeholder.setWordWrap(True)
    stack = QStackedLayout(owner)
    stack.setContentsMargins(0, 0, 0, 0)
    stack.addWidget(placeholder)
    stack.addWidget(view)
    return stack
