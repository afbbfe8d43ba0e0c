"""One plot panel of the training view: a themed ``PlotWidget`` that follows.

While a panel *follows*, :meth:`Panel.refit` (called after each redraw
tick) keeps all data in view.  It is pyqtgraph's auto-range with hysteresis,
so that the axes move seldom: each move relayouts the axes and grid and makes
the next paint redo the axis labels, a redraw and a paint of ≈ 20 ms in one
event-loop turn on these machines, the window's longest (B4).  pyqtgraph's own
auto-range refits every tick.  Here:

- x, when the run's end is known (``x_end``: the last epoch or step the run
  will reach): an epoch axis shows the whole run at once, as a progress chart
  does; a step axis doubles the data's width at each move, up to the run's
  end, so the first steps are not a sliver at the left edge and the axis moves
  about log₂(steps) times in a run.  Without a known end it grows in 25 % jumps.
- y moves when data leaves the range, with 30 % of the data's span of room on
  the side the data left by (a falling loss moves the axis a few times, not at
  every 8 %), never past zero for data that is not negative; or when the data
  fills less than half of it.
A zoom or pan by the user stops following for that panel and emits
:attr:`Panel.userZoomed`; :meth:`Panel.follow` resumes it.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem, QSizePolicy

from gui.training import theme
from gui.training.axes import FitAxis, LogAxis, TickGrid, WholeAxis

#: The most of a panel's width, and of its area, its legend may take (beyond: the names
#: go to the panel's tooltip).
MAX_LEGEND_WIDTH = 0.4
MAX_LEGEND_AREA = 0.25
#: Pixels of margins and spacing in a panel's row beside its axis, plot and legend.
LEGEND_GAP_PX = 16


class Panel(pg.PlotWidget):
    """A titled plot with a legend, palette colours and follow mode.

    The legend sits to the right of the plot, outside the data, so it never
    covers a live curve.  An x axis labelled ``epoch`` or ``step`` has whole-number ticks;
    a log y axis is labelled at decades (:class:`LogAxis`).

    Args:
        title: shown above the plot.
        x_label: bottom axis label.
        y_label: left axis label.
        log_y: log scale on y (gradient norms).
        grows: the data grows to the right (x headroom while following).
    """

    userZoomed = Signal()

    def __init__(self, title: str, x_label: str, y_label: str, log_y: bool = False,
                 parent=None, grows: bool = True):
        whole = x_label in ("epoch", "step")  # counts: no fractional ticks
        axes = {"bottom": WholeAxis("bottom") if whole else FitAxis("bottom"),
                "left": LogAxis("left") if log_y else FitAxis("left")}
        super().__init__(parent, axisItems=axes)
        self.grid = TickGrid(self.getPlotItem())
        self.grid.setZValue(-100)
        self.getViewBox().addItem(self.grid, ignoreBounds=True)
        item = self.getPlotItem()
        item.setTitle(title)
        item.setLabel("bottom", x_label)
        item.setLabel("left", y_label)
        item.setLogMode(x=False, y=log_y)
        legend = pg.LegendItem(labelTextSize="8pt", verSpacing=-4)
        legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        item.layout.addItem(legend, 2, 3)  # right of the plot (column 2: the right axis)
        item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignTop)
        item.legend = legend
        item.legend.setVisible(False)  # shown once it names something
        item.setMenuEnabled(True)
        # small enough that the training band fits under a readable canvas at 1280×800
        self.setMinimumSize(120, 96)
        self._follow = True
        self.log_y = log_y
        self._grows = grows
        self.x_label = x_label
        #: a known end is shown at once (epochs) or approached by doubling (steps)
        self.whole_run = x_label == "epoch"
        item.hideButtons()  # the view's Follow button replaces pyqtgraph's "A"
        vb = self.getViewBox()
        vb.disableAutoRange()
        vb.sigRangeChangedManually.connect(self._manual)
        # Axes, grid, title and legend change only when the range or their text does;
        # painted from a pixmap otherwise.  Their text replayed from pyqtgraph's
        # QPicture cost ≈ 1 ms per axis per paint (B4, B7).
        cached = [item.getAxis(name) for name in ("left", "bottom")]
        cached += [item.titleLabel, legend, self.grid]
        for part in cached:
            part.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        theme.style_plot(self)

    @property
    def title(self) -> str:
        return self.getPlotItem().titleLabel.text

    def set_title(self, title: str, y_label: str | None = None) -> None:
        self.getPlotItem().setTitle(title)
        if y_label is not None:
            self.getPlotItem().setLabel("left", y_label)
        theme.style_plot(self)
        self._fit_legend()  # a longer title leaves the legend less room

    def following(self) -> bool:
        """Whether the axes still follow the data."""
        return self._follow

    def follow(self, on: bool = True) -> None:
        """Resume (or stop) following the data."""
        self._follow = on
        if on:
            self.refit(force=True)

    def refit(self, force: bool = False, bounds=None, x_end: float | None = None) -> bool:
        """Bring all visible data into view if following (see the module docstring);
        whether the view moved.

        Args:
            force: refit even inside the hysteresis band.
            bounds: ``((x0, x1), (y0, y1))`` of the visible data in view
                coordinates (log10 on a log axis), when the caller knows them:
                pyqtgraph's own ``childrenBounds`` scans every item's data.
            x_end: where the data will end on x (the run's last epoch or step),
                when known.
        """
        if not self._follow:
            return False
        vb = self.getViewBox()
        xb, yb = bounds if bounds is not None else vb.childrenBounds()
        if xb is None or yb is None or None in xb or None in yb:
            return False  # nothing drawn yet
        (dx0, dx1), (dy0, dy1) = xb, yb
        (vx0, vx1), (vy0, vy1) = vb.viewRange()
        tx0, tx1 = self._x_target(dx0, dx1, x_end)
        xr = yr = None
        if force or dx0 < vx0 or dx1 > vx1 or not 0.5 <= (vx1 - vx0) / (tx1 - tx0) <= 2.0:
            xr = (tx0, tx1)
        ypad = 0.08 * max(dy1 - dy0, abs(dy1) * 1e-3, 1e-12)
        height = dy1 - dy0 + 2 * ypad  # the data, padded
        if force or dy0 < vy0 or dy1 > vy1 or (vy1 - vy0) > 2.0 * height:
            room = 0.0 if force else 0.3 * height
            lo = dy0 - ypad - (room if dy0 < vy0 else 0.0)
            hi = dy1 + ypad + (room if dy1 > vy1 else 0.0)
            if not self.log_y and dy0 >= 0:  # a loss's room stops at zero
                lo = max(lo, min(0.0, dy0 - ypad))
            yr = (lo, hi)
        if not (xr or yr):
            return False
        vb.setRange(xRange=xr, yRange=yr, padding=0, disableAutoRange=True)
        return True

    def _x_target(self, dx0: float, dx1: float, x_end: float | None) -> tuple[float, float]:
        """The x range to show for data over ``dx0…dx1`` (see the module docstring)."""
        span = max(dx1 - dx0, 1e-9)
        if not self._grows:
            return dx0 - 0.02 * span, dx1 + 0.02 * span
        if x_end is None or x_end <= dx1:
            return dx0 - 0.02 * span, dx1 + 0.25 * span
        right = x_end if self.whole_run else min(x_end, dx1 + span)
        pad = 0.04 * (right - dx0)  # a marker at the last epoch clear of the edge
        return dx0 - pad, right + pad

    def _manual(self, *_args) -> None:
        self._follow = False
        self.userZoomed.emit()

    def set_legend(self, entries: list[tuple[pg.PlotDataItem, str]]) -> None:
        """Replace the legend's entries with ``(item, name)`` pairs."""
        legend = self.getPlotItem().legend
        legend.clear()
        for item, name in entries:
            legend.addItem(item, name)
        self._legend_names = [name for _item, name in entries]
        theme.style_plot(self)
        # samples and names are items of their own, painted on every paint
        # otherwise; a restyle (new pens, new names) builds the legend anew
        for sample, label in legend.items:
            sample.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            label.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

        self._fit_legend()

    def legend_shown(self) -> bool:
        """Whether the legend is drawn (it names something and has room beside the plot)."""
        return self.getPlotItem().legend.isVisible()

    def _fit_legend(self) -> None:
        """Draw the legend only where it takes at most a corner: a quarter of the panel's
        area, 40 % of its width and the plot's height.  Otherwise (a short plot at 1280×800, many runs
        overlaid) the names move to the panel's tooltip, a hover away."""
        legend = self.getPlotItem().legend
        if legend is None:  # pyqtgraph resizes while the panel is being built
            return
        names = getattr(self, "_legend_names", [])
        size = legend.boundingRect().size() if names else None
        # the title sits over the plot's column, which is at least as wide: a legend
        # with no room beside a long title would be pushed past the panel's edge
        item = self.getPlotItem()
        beside = item.getAxis("left").width() + item.titleLabel.minimumWidth() + LEGEND_GAP_PX
        fits = bool(names) and size.width() <= MAX_LEGEND_WIDTH * self.width() \
            and size.width() + beside <= self.width() \
            and size.height() <= self.getViewBox().height() + 8 \
            and size.width() * size.height() <= MAX_LEGEND_AREA * self.width() * self.height()
        legend.setVisible(fits)
        tip = "" if fits or not names else "Legend: " + ", ".join(names)
        if self.toolTip() != tip:
            self.setToolTip(tip)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if getattr(self, "plotItem", None) is not None:
            self._fit_legend()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        # Qt sends a PaletteChange while the base class is still being built
        ready = getattr(self, "plotItem", None) is not None
        if ready and event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            theme.style_plot(self)
