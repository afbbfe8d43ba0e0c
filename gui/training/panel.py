"""One plot panel of the training view: a themed ``PlotWidget`` that follows.

While a panel *follows*, :meth:`Panel.refit` (called after each redraw
tick) keeps all data in view.  It is pyqtgraph's auto-range with hysteresis:
the x range grows in 12 % jumps and the y range moves only when data leaves it
or fills less than 60 % of it.  pyqtgraph's own auto-range refits every tick,
and each refit relayouts the axes and grid (≈ 3 ms of a 5 ms redraw budget).
A zoom or pan by the user stops following for that panel and emits
:attr:`Panel.userZoomed`; :meth:`Panel.follow` resumes it.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Signal

from gui.training import theme


class TickGrid(pg.GraphicsObject):
    """Grid lines at the axes' own tick values (major strong, minor faint).

    pyqtgraph's axis grid is replayed from a QPicture spanning the plot on each
    paint (≈ 9 ms per panel offscreen) and ``GridItem`` does not line up with
    the tick labels; this draws a few dozen cosmetic lines per paint.
    """

    def __init__(self, plot: pg.PlotItem):
        super().__init__()
        self._plot = plot
        self.color = pg.mkColor(128, 128, 128)
        plot.getViewBox().sigRangeChanged.connect(self.prepareGeometryChange)
        plot.getViewBox().sigResized.connect(self.prepareGeometryChange)

    def boundingRect(self):  # noqa: N802 (Qt override)
        return self._plot.getViewBox().viewRect()

    def paint(self, painter, *_args) -> None:
        vb = self._plot.getViewBox()
        rect = vb.viewRect()
        size = (vb.width(), vb.height())
        for axis_name, horizontal in (("bottom", False), ("left", True)):
            axis = self._plot.getAxis(axis_name)
            lo, hi = (rect.left(), rect.right()) if not horizontal else (rect.top(), rect.bottom())
            px = size[0] if not horizontal else size[1]
            if not (hi > lo) or px <= 0:
                continue
            for level, (_spacing, values) in enumerate(axis.tickValues(lo, hi, px)[:2]):
                pen = pg.mkPen(theme.with_alpha(self.color, 0.22 if level == 0 else 0.08))
                pen.setCosmetic(True)
                painter.setPen(pen)
                for v in values:
                    if horizontal:
                        painter.drawLine(pg.QtCore.QPointF(rect.left(), v),
                                         pg.QtCore.QPointF(rect.right(), v))
                    else:
                        painter.drawLine(pg.QtCore.QPointF(v, rect.top()),
                                         pg.QtCore.QPointF(v, rect.bottom()))


class Panel(pg.PlotWidget):
    """A titled plot with a legend, palette colours and follow mode.

    Args:
        title: shown above the plot.
        x_label: bottom axis label.
        y_label: left axis label.
        log_y: log scale on y (gradient norms).
        legend_corner: ``"top"`` or ``"bottom"`` right.
        grows: the data grows to the right (x headroom while following).
    """

    userZoomed = Signal()

    def __init__(self, title: str, x_label: str, y_label: str, log_y: bool = False,
                 parent=None, legend_corner: str = "top", grows: bool = True):
        super().__init__(parent)
        self.grid = TickGrid(self.getPlotItem())
        self.grid.setZValue(-100)
        self.getViewBox().addItem(self.grid, ignoreBounds=True)
        item = self.getPlotItem()
        item.setTitle(title)
        item.setLabel("bottom", x_label)
        item.setLabel("left", y_label)
        item.setLogMode(x=False, y=log_y)
        item.addLegend(offset=(-8, 8), labelTextSize="8pt", verSpacing=-4)
        self.set_legend_corner(legend_corner)
        item.legend.setVisible(False)  # shown once it names something
        item.setMenuEnabled(True)
        self.setMinimumSize(220, 160)
        self._follow = True
        self._headroom = 0.12 if grows else 0.02
        item.hideButtons()  # the view's Follow button replaces pyqtgraph's "A"
        vb = self.getViewBox()
        vb.disableAutoRange()
        vb.sigRangeChangedManually.connect(self._manual)
        theme.style_plot(self)

    @property
    def title(self) -> str:
        return self.getPlotItem().titleLabel.text

    def set_title(self, title: str, y_label: str | None = None) -> None:
        self.getPlotItem().setTitle(title)
        if y_label is not None:
            self.getPlotItem().setLabel("left", y_label)
        theme.style_plot(self)

    def following(self) -> bool:
        """Whether the axes still follow the data."""
        return self._follow

    def follow(self, on: bool = True) -> None:
        """Resume (or stop) following the data."""
        self._follow = on
        if on:
            self.refit(force=True)

    def refit(self, force: bool = False) -> None:
        """Bring all visible data into view if following (see the module docstring)."""
        if not self._follow:
            return
        vb = self.getViewBox()
        xb, yb = vb.childrenBounds()
        if xb is None or yb is None or None in xb or None in yb:
            return  # nothing drawn yet
        (dx0, dx1), (dy0, dy1) = xb, yb
        (vx0, vx1), (vy0, vy1) = vb.viewRange()
        xr = yr = None
        if force or dx0 < vx0 or dx1 > vx1 or (dx1 - dx0) < 0.6 * (vx1 - vx0):
            span = max(dx1 - dx0, 1e-9)
            xr = (dx0 - 0.02 * span, dx1 + self._headroom * span)
        ypad = 0.05 * max(dy1 - dy0, abs(dy1) * 1e-3, 1e-12)
        if force or dy0 < vy0 or dy1 > vy1 or (dy1 - dy0) < 0.6 * (vy1 - vy0):
            yr = (dy0 - ypad, dy1 + ypad)
        if xr or yr:
            vb.setRange(xRange=xr, yRange=yr, padding=0, disableAutoRange=True)

    def _manual(self, *_args) -> None:
        self._follow = False
        self.userZoomed.emit()

    def set_legend(self, entries: list[tuple[pg.PlotDataItem, str]]) -> None:
        """Replace the legend's entries with ``(item, name)`` pairs."""
        legend = self.getPlotItem().legend
        legend.clear()
        for item, name in entries:
            legend.addItem(item, name)
        legend.setVisible(bool(entries))  # no empty box when there is nothing to name
        theme.style_plot(self)

    def set_legend_corner(self, corner: str) -> None:
        """Put the legend at the top or bottom right, away from where curves head."""
        dy = 8 if corner == "top" else -8
        self.getPlotItem().legend.setOffset((-8, dy))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        # Qt sends a PaletteChange while the base class is still being built
        ready = getattr(self, "plotItem", None) is not None
        if ready and event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            theme.style_plot(self)
