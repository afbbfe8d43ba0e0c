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

import math

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QLineF, QPointF, Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter
from PySide6.QtWidgets import QGraphicsItem, QSizePolicy

from gui.training import theme


class TickGrid(pg.GraphicsObject):
    """Grid lines at the axes' own tick values (major strong, minor faint).

    pyqtgraph's axis grid is replayed from a QPicture spanning the plot on each
    paint (≈ 9 ms per panel offscreen) and ``GridItem`` does not line up with
    the tick labels.  This draws a few dozen lines per paint, in device pixels:
    cosmetic lines stroked through the view's data transform took ≈ 20 ms per
    paint in the raster engine, whole pixel lines take well under one.  The
    tick values are asked of the axes once per view range.
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
        to_px = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        left, top = to_px.map(QPointF(rect.left(), rect.top())).toTuple()
        right, bottom = to_px.map(QPointF(rect.right(), rect.bottom())).toTuple()
        for axis_name, horizontal in (("bottom", False), ("left", True)):
            for level, values in enumerate(self._plot.getAxis(axis_name).tick_levels()[:2]):
                painter.setPen(pg.mkPen(theme.with_alpha(self.color,
                                                         0.22 if level == 0 else 0.08)))
                lines = []
                for v in values:
                    if horizontal:
                        y = round(to_px.map(QPointF(rect.left(), v)).y())
                        lines.append(QLineF(left, y, right, y))
                    else:
                        x = round(to_px.map(QPointF(v, rect.top())).x())
                        lines.append(QLineF(x, top, x, bottom))
                painter.drawLines(lines)
        painter.restore()


def _next_nice(spacing: float) -> float:
    """The next tick spacing of the 1, 2, 5 × 10ⁿ series above ``spacing``."""
    exp = math.floor(math.log10(spacing))
    mant = spacing / 10 ** exp
    for step in (2, 5, 10):
        if mant < step - 1e-9:
            return step * 10 ** exp
    return 20 * 10 ** exp


class RememberedTicks(pg.AxisItem):
    """An axis that works out its tick values once per range and length.

    After each move of the view the axis's own paint and the :class:`TickGrid`
    ask for the same ticks (≈ 1 ms each: the spacing is fitted to the labels'
    text), in the event-loop turn the window is busiest in (B4).  Anything that
    changes the ticks for a given range (fixed ticks, spacing, font, scale, log
    mode, style) forgets them.
    """

    def _forget_ticks(self) -> None:
        self.__dict__["_remembered"] = {}

    def tick_levels(self) -> list[list[float]]:
        """The values of each tick level for the axis's range and length now, as
        its paint finds them (its length runs a pixel past each end)."""
        lo, hi = self.range
        size = self.geometry().width() if self.orientation in ("top", "bottom") \
            else self.geometry().height()
        if not hi > lo or size <= 0:
            return []
        return [values for _spacing, values in self.tickValues(lo, hi, size + 2)]

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 (pyqtgraph override)
        memo = self.__dict__.setdefault("_remembered", {})
        key = (minVal, maxVal, round(size))
        if key not in memo:
            if len(memo) > 8:
                memo.clear()
            memo[key] = super().tickValues(minVal, maxVal, size)
        return [(spacing, list(values)) for spacing, values in memo[key]]

    def setTicks(self, *args, **kwargs):  # noqa: N802 (pyqtgraph override)
        self._forget_ticks()
        super().setTicks(*args, **kwargs)

    def setTickSpacing(self, *args, **kwargs):  # noqa: N802 (pyqtgraph override)
        self._forget_ticks()
        super().setTickSpacing(*args, **kwargs)

    def setTickFont(self, *args, **kwargs):  # noqa: N802 (pyqtgraph override)
        self._forget_ticks()
        super().setTickFont(*args, **kwargs)

    def setStyle(self, *args, **kwargs):  # noqa: N802 (pyqtgraph override)
        self._forget_ticks()
        super().setStyle(*args, **kwargs)

    def setScale(self, *args, **kwargs):  # noqa: N802 (pyqtgraph override)
        self._forget_ticks()
        super().setScale(*args, **kwargs)

    def setLogMode(self, *args, **kwargs):  # noqa: N802 (pyqtgraph override)
        self._forget_ticks()
        super().setLogMode(*args, **kwargs)


class FitAxis(RememberedTicks):
    """An axis whose labels never run together.

    pyqtgraph picks the tick spacing from the axis length alone and always
    labels its first level, so on a short plot (the training band at
    1280×800) or with wide step numbers (two runs overlaid: ``12000 14000``)
    the labels overprint.  Here the labelled spacing grows along 1, 2, 5 × 10ⁿ
    until each label has its own room (keeping at least two labels): its text height (vertical axis) or its
    widest text (horizontal) plus a gap.  The finer spacing stays as faint,
    unlabelled ticks for the grid.
    """

    #: Pixels left between two labels.
    GAP_PX = 8

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setStyle(maxTextLevel=0)  # only the fitted level is labelled

    def _label_px(self, lo: float, hi: float, spacing: float) -> float:
        metrics = QFontMetrics(self.style.get("tickFont") or self.font())
        if self.orientation in ("left", "right"):
            return metrics.height() + self.GAP_PX / 2
        values = [lo, hi, lo + spacing, hi - spacing]
        texts = self.tickStrings(values, self.scale, spacing)
        return max(metrics.horizontalAdvance(t) for t in texts) + self.GAP_PX

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802,N803 (pyqtgraph override)
        levels = self._levels(minVal, maxVal, size)
        if not levels or size <= 0 or not maxVal > minVal:
            return levels
        spacing = first = levels[0][0]
        for _ in range(60):  # two neighbouring labels at least a label's extent apart
            if spacing / (maxVal - minVal) * size >= self._label_px(minVal, maxVal, spacing):
                break
            spacing = _next_nice(spacing)
        if spacing == first:
            return levels
        return [(spacing, 0)] + [lv for lv in levels if lv[0] < spacing][:1]

    def _levels(self, minVal, maxVal, size):  # noqa: N803 (pyqtgraph's names)
        return super().tickSpacing(minVal, maxVal, size)


class WholeAxis(FitAxis):
    """An axis of whole numbers (epochs, steps): no tick at 1.5, nor at
    23.0000000001 when a run of one step pads its range."""

    def _levels(self, minVal, maxVal, size):  # noqa: N803 (pyqtgraph's names)
        levels = [(sp, off) for sp, off in super()._levels(minVal, maxVal, size)
                  if sp >= 1 and abs(sp - round(sp)) < 1e-9]
        return levels or [(1.0, 0)]


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class LogAxis(RememberedTicks):
    """A log axis labelled at decades only (``0.01 0.1 1 10``, ``10⁻⁵``).

    pyqtgraph labels the 2…9 ticks of a decade as well, which pile up into
    unreadable stacks (``0.9 0.8 0.7 …``) near each power of ten.  Here the
    labelled level holds the decades (thinned to fit the axis), the faint
    unlabelled level the 2…9 ticks; a range inside one decade is labelled at
    1, 2 and 5 times a power of ten.
    """

    #: Pixels per label on a vertical axis.
    LABEL_PX = 28

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setStyle(maxTextLevel=0)  # only the first level is labelled
        self.enableAutoSIPrefix(False)  # "(x0.001)" on a log axis is noise

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802,N803 (override)
        lo, hi = sorted((minVal, maxVal))
        room = max(2, int(size // self.LABEL_PX))
        decades = [k for k in range(math.floor(lo), math.ceil(hi) + 1) if lo <= k <= hi]
        if len(decades) >= 2:
            step = math.ceil(len(decades) / room)
            major = [k for k in decades if k % step == 0] or decades[:1]
        else:
            major = [k + math.log10(m) for k in range(math.floor(lo), math.ceil(hi) + 1)
                     for m in (1, 2, 5) if lo <= k + math.log10(m) <= hi]
            if len(major) < 2:  # a very narrow range: its ends, rounded when drawn
                major = [lo + (hi - lo) * f for f in (0.1, 0.9)]
        minor = [k + math.log10(m) for k in range(math.floor(lo), math.ceil(hi) + 1)
                 for m in range(1, 10) if lo < k + math.log10(m) < hi]
        minor = [v for v in minor if all(abs(v - t) > 1e-9 for t in major)]
        if len(minor) > size / 4:  # no more than one faint line per 4 px
            minor = []
        return [(1.0, major), (None, minor)]

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        out = []
        for v in values:
            k = round(v)
            if abs(v - k) < 1e-9:
                out.append(f"{10.0 ** k:g}" if -3 <= k <= 3
                           else f"10{str(k).translate(_SUPERSCRIPT)}")
            else:
                out.append(f"{10.0 ** v * scale:.2g}")
        return out


#: The most of a panel's width, and of its area, its legend may take (beyond: the names
#: go to the panel's tooltip).
MAX_LEGEND_WIDTH = 0.4
MAX_LEGEND_AREA = 0.25


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
        # the title over the plot and the legend both: over the plot's column only, a long
        # title made that column at least as wide as itself and the legend fell off the
        # panel's right edge
        item.layout.removeItem(item.titleLabel)
        item.layout.addItem(item.titleLabel, 0, 1, 1, 3)
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
        pad = 0.02 * (right - dx0)
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
        fits = bool(names) and size.width() <= MAX_LEGEND_WIDTH * self.width() \
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
