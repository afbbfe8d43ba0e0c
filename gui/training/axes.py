"""The training panels' axes and grid.

:class:`FitAxis` labels never run together (the spacing grows to fit the
labels), :class:`WholeAxis` counts epochs and steps, :class:`LogAxis` labels
decades only; all of them work their tick values out once per range and
length (:class:`RememberedTicks`), which :class:`TickGrid` draws its lines at.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF
from PySide6.QtGui import QFontMetrics, QPainter

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
