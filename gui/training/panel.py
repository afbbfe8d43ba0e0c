"""One plot panel of the training view: a themed ``PlotWidget`` that follows.

While a panel *follows*, :meth:`Panel.refit` (called after each redraw
tick) keeps all data in view.  It is pyqtgraph's auto-range with hysteresis:
the x range grows in 25 % jumps and the y range moves only when data leaves it
or fills less than half of it.  pyqtgraph's own auto-range refits every tick,
and each refit relayouts the axes and grid, and makes the next paint redo the
axis labels (≈ 5 ms each on these machines; B4).
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
        self._ticks: dict = {}
        plot.getViewBox().sigRangeChanged.connect(self.prepareGeometryChange)
        plot.getViewBox().sigResized.connect(self.prepareGeometryChange)

    def boundingRect(self):  # noqa: N802 (Qt override)
        return self._plot.getViewBox().viewRect()

    def _tick_values(self, axis_name: str, lo: float, hi: float, px: float):
        key = (axis_name, lo, hi, px)
        if key not in self._ticks:
            if len(self._ticks) > 8:
                self._ticks.clear()
            levels = self._plot.getAxis(axis_name).tickValues(lo, hi, px)[:2]
            self._ticks[key] = [list(values) for _spacing, values in levels]
        return self._ticks[key]

    def paint(self, painter, *_args) -> None:
        vb = self._plot.getViewBox()
        rect = vb.viewRect()
        size = (vb.width(), vb.height())
        to_px = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        left, top = to_px.map(QPointF(rect.left(), rect.top())).toTuple()
        right, bottom = to_px.map(QPointF(rect.right(), rect.bottom())).toTuple()
        for axis_name, horizontal in (("bottom", False), ("left", True)):
            lo, hi = (rect.left(), rect.right()) if not horizontal else (rect.top(), rect.bottom())
            px = size[0] if not horizontal else size[1]
            if not (hi > lo) or px <= 0:
                continue
            for level, values in enumerate(self._tick_values(axis_name, lo, hi, px)):
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


class FitAxis(pg.AxisItem):
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


class LogAxis(pg.AxisItem):
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
        item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignTop)
        item.legend = legend
        item.legend.setVisible(False)  # shown once it names something
        item.setMenuEnabled(True)
        # small enough that the training band fits under a readable canvas at 1280×800
        self.setMinimumSize(120, 96)
        self._follow = True
        self.log_y = log_y
        self._headroom = 0.25 if grows else 0.02
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

    def refit(self, force: bool = False, bounds=None) -> None:
        """Bring all visible data into view if following (see the module docstring).

        Args:
            force: refit even inside the hysteresis band.
            bounds: ``((x0, x1), (y0, y1))`` of the visible data in view
                coordinates (log10 on a log axis), when the caller knows them:
                pyqtgraph's own ``childrenBounds`` scans every item's data.
        """
        if not self._follow:
            return
        vb = self.getViewBox()
        xb, yb = bounds if bounds is not None else vb.childrenBounds()
        if xb is None or yb is None or None in xb or None in yb:
            return  # nothing drawn yet
        (dx0, dx1), (dy0, dy1) = xb, yb
        (vx0, vx1), (vy0, vy1) = vb.viewRange()
        xr = yr = None
        if force or dx0 < vx0 or dx1 > vx1 or (dx1 - dx0) < 0.5 * (vx1 - vx0):
            span = max(dx1 - dx0, 1e-9)
            xr = (dx0 - 0.02 * span, dx1 + self._headroom * span)
        ypad = 0.08 * max(dy1 - dy0, abs(dy1) * 1e-3, 1e-12)
        if force or dy0 < vy0 or dy1 > vy1 or (dy1 - dy0) < 0.5 * (vy1 - vy0):
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
