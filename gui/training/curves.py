"""Live curves: a growing series drawn by a pyqtgraph item, redrawn on a clock.

Appending never touches the scene.  :class:`LiveCurve.append` stores the
points and marks the curve dirty with its :class:`RedrawClock`; the clock's
``QTimer`` ticks every :data:`TICK_MS` and stops when nothing changed, so a worker that
sends thousands of points a second costs one ``setData`` per curve per
redraw, not one per point.

Each tick redraws the dirty curves of *one* plot only, the one that has
waited longest (``quality.md`` B4).  A plot's repaint costs several
milliseconds of software rendering; redrawing every plot in one tick made
the window repaint all of them in one event-loop turn, and a 5 ms timer in
the window came ≈ 40–70 ms late.  One plot per tick keeps each turn short;
the ticks (20 a second) go to the loss plot mostly, the learning rate
(at most 4 redraws a second) and the epoch plots once per epoch.

A plot whose axes must move to fit its new points (``move_first``, the
panels' follow rule) has them moved in one tick and its curves redrawn at the
next: a move repaints the axes, grid and labels, a redraw re-builds the curves'
paths, each a few milliseconds; both in one event-loop turn made the window's
longest turns (B4).

Each redraw hands pyqtgraph only what is on screen: the series' clipped,
peak-downsampled view for the visible x range plus one screen width either
side (so panning shows data until the next tick re-slices).  The item keeps
pyqtgraph's own clip-to-view and auto peak downsampling switched on for the
small arrays it receives, and skips the finite check while the series holds
only finite values.
"""

from __future__ import annotations

import math
import time

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer

from gui.training.series import GrowingSeries

#: Tick period; one plot is redrawn per tick.
TICK_MS = 50
#: Series up to this many points are handed over whole (no clipping, no re-slicing).
SMALL = 2048


class RedrawClock(QObject):
    """One timer that redraws the curves marked dirty since its last tick.

    Attributes:
        ticks: timer ticks so far (tests compare redraw counts against it).
    """

    def __init__(self, parent: QObject | None = None, interval_ms: int = TICK_MS):
        super().__init__(parent)
        self._dirty: dict[int, LiveCurve] = {}  # insertion-ordered; keyed by id to skip __hash__
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self.ticks = 0
        self.after_flush: list = []  # called with the PlotItems just redrawn (panels refit)
        #: called with a PlotItem before its tick's redraw; True: it moved the plot's
        #: axes to fit the new points, and the curves are redrawn at its next tick
        self.move_first = lambda plot: False
        self._moved: set[int] = set()  # id(plot): axes moved, its curves not yet redrawn
        self._min_interval: dict[int, float] = {}  # id(plot) -> seconds
        self._last_redraw: dict[int, float] = {}  # id(plot) -> perf_counter()

    def set_min_interval(self, plot, seconds: float) -> None:
        """Redraw ``plot`` at most once every ``seconds`` (ticks give the rest to others)."""
        self._min_interval[id(plot)] = seconds

    def mark(self, curve: LiveCurve) -> None:
        """Ask for ``curve`` to be redrawn at the next tick."""
        self._dirty[id(curve)] = curve
        if not self._timer.isActive():
            self._timer.start()

    def forget(self, curve: LiveCurve) -> None:
        self._dirty.pop(id(curve), None)

    def pending(self) -> bool:
        return bool(self._dirty)

    def running(self) -> bool:
        """Whether the timer is ticking (it stops once a tick finds nothing to do)."""
        return self._timer.isActive()

    def flush(self) -> None:
        """Redraw every dirty curve now (before an export or a screenshot).

        A refit after the redraw can move a view and ask for a new slice, so
        this runs until nothing is pending (at most three rounds).
        """
        for _ in range(3):
            if not self._dirty:
                return
            self._flush_once()

    def _flush_once(self, plot=None) -> None:
        """Redraw the dirty curves (of ``plot`` only, when given)."""
        if plot is None:
            dirty, self._dirty = self._dirty, {}
        else:
            dirty = {k: c for k, c in self._dirty.items() if c.plot is plot}
            for k in dirty:
                del self._dirty[k]
        for curve in dirty.values():
            curve.redraw()
        if dirty:
            plots = {id(c.plot): c.plot for c in dirty.values()}
            for callback in self.after_flush:
                callback(list(plots.values()))

    def stop(self) -> None:
        self._timer.stop()
        self._dirty.clear()
        self._moved.clear()

    def _tick(self) -> None:
        self.ticks += 1
        if not self._dirty:
            self._timer.stop()  # idle: no wake-ups while training is paused or over
            return
        # the plot whose curve was marked first has waited longest (dicts keep order)
        now = time.perf_counter()
        for curve in self._dirty.values():
            key = id(curve.plot)
            if now - self._last_redraw.get(key, -math.inf) >= self._min_interval.get(key, 0.0):
                if key not in self._moved and self.move_first(curve.plot):
                    self._moved.add(key)  # its curves come at its next tick
                    return
                self._moved.discard(key)
                self._last_redraw[key] = now
                self._flush_once(curve.plot)
                return


class LiveCurve:
    """A :class:`GrowingSeries` shown by a ``PlotDataItem`` in one plot.

    Args:
        plot: the ``PlotItem`` to draw in.
        clock: the clock that schedules redraws.
        name: the legend name.
        follows: returns whether the plot keeps all data in view.
        series: the data to draw (a run's metric, shared with its record);
            default a new, empty series of this curve's own.
        **style: ``PlotDataItem`` style options (pen, symbol, symbolBrush, ...).

    Attributes:
        series: the data.
        item: the pyqtgraph item.
        redraws: how many times the item received new data.
    """

    def __init__(self, plot: pg.PlotItem, clock: RedrawClock, name: str = "",
                 follows=None, series: GrowingSeries | None = None, **style):
        self.series = series if series is not None else GrowingSeries()
        # While the panel follows the data the whole series is shown; the view's
        # range is then derived from what is drawn, so it must not clip it.
        self.follows = follows or (lambda: False)
        self.clock = clock
        # The series is sliced to the view and peak-downsampled to the plot's
        # width here (:meth:`redraw`): pyqtgraph's own clip-to-view and
        # downsampling would redo it on every setData and every range change.
        # A plain line on linear axes (the per-step curves) is a PlotCurveItem,
        # whose setData costs a fifth of a PlotDataItem's (quality.md B7);
        # markers and log axes need the PlotDataItem.
        if "symbol" in style or plot.getAxis("left").logMode:
            self.item = pg.PlotDataItem(name=name or None, **style)
            self.item.setClipToView(False)
            self.item.setDownsampling(auto=False)
            self.item.setSkipFiniteCheck(True)
        else:
            self.item = pg.PlotCurveItem(name=name or None, skipFiniteCheck=True, **style)
        plot.addItem(self.item)
        self.plot = plot
        self.redraws = 0
        self._sliced: tuple[float, float, float] | None = None  # x0, x1, span of last slice
        vb = plot.getViewBox()
        vb.sigXRangeChanged.connect(self._view_moved)
        vb.sigResized.connect(self._view_moved)
        if len(self.series):  # a run read back from its folder: drawn at the next tick
            clock.mark(self)

    def __len__(self) -> int:
        return len(self.series)

    def append(self, x, y) -> None:
        """Store points; the item is updated at the clock's next tick."""
        self.series.append(x, y)
        self.clock.mark(self)

    def clear(self) -> None:
        self.series.clear()
        self.clock.mark(self)

    def remove(self) -> None:
        """Take the item out of its plot and forget pending redraws."""
        self.clock.forget(self)
        vb = self.plot.getViewBox()
        for sig in (vb.sigXRangeChanged, vb.sigResized):
            try:
                sig.disconnect(self._view_moved)
            except (RuntimeError, TypeError):  # already gone with the view
                pass
        self.plot.removeItem(self.item)

    def set_visible(self, visible: bool) -> None:
        self.item.setVisible(visible)
        if visible:
            self.clock.mark(self)

    def _window(self) -> tuple[float, float, int]:
        """x range and point budget for the next slice."""
        vb = self.plot.getViewBox()
        width = max(100.0, vb.width())
        if self.follows() or vb.autoRangeEnabled()[0] or len(self.series) <= SMALL:
            return -math.inf, math.inf, int(3 * width)
        (x0, x1), _ = vb.viewRange()
        span = x1 - x0
        return x0 - span, x1 + span, int(4 * width)

    def _view_moved(self, *_args) -> None:
        if len(self.series) <= SMALL or not self.item.isVisible():
            return  # small series are drawn whole; nothing to re-slice
        x0, x1, _ = self._window()
        if self._sliced is not None:
            lo, hi, span = self._sliced
            inside = lo <= x0 and x1 <= hi
            if math.isinf(x0) and math.isinf(lo):
                return
            if inside and (hi - lo) < 6 * max(span, x1 - x0):
                return  # the last slice still covers the view at enough resolution
        self.clock.mark(self)

    def redraw(self) -> None:
        """Hand the visible slice to pyqtgraph (called by the clock)."""
        if not self.item.isVisible():
            return  # redrawn when shown again
        x0, x1, budget = self._window()
        x, y = self.series.view(x0, x1, budget)
        self._sliced = (x0, x1, (x1 - x0) / 3 if math.isfinite(x1 - x0) else math.inf)
        self.item.setData(x, y, skipFiniteCheck=self.series.all_finite)
        self.redraws += 1
