"""Growing metric series for the live plots (numpy only, no Qt).

:class:`GrowingSeries` stores x/y points in numpy buffers whose capacity
doubles when full, so appending is amortised O(1) and the filled part is
always a zero-copy view.  It also keeps a min/max *pyramid*: level ``L`` holds
the minimum and maximum of each block of ``4**L`` consecutive points, updated
incrementally on append.  :meth:`GrowingSeries.view` uses it to return a
peak-downsampled, clipped slice in O(points on screen) instead of O(points
stored) — pyqtgraph's own peak downsampling reduces the whole array on every
``setData`` (≈ 2.7 ms per million points), which alone breaks the 5 ms redraw
bar for four 1M-point curves.  The x values must not decrease (steps,
epochs), which is what makes clipping a binary search.

:func:`ema` is the exponential smoothing of the loss curve, computed in
vectorised blocks and debiased like TensorBoard's so the first points are not
pulled towards zero.
"""

from __future__ import annotations

import math

import numpy as np

_FANOUT = 4  # block size ratio between pyramid levels
_BASE = 1024  # below this many points the raw data is shown as is


class PlotInputError(ValueError):
    """Data handed to a plot widget has the wrong shape, order or type."""


def _as_1d(values, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise PlotInputError(f"{what} must be a number or a 1-D sequence, got shape {arr.shape}")
    return arr


class GrowingSeries:
    """Append-only (x, y) series with a peak-preserving multi-resolution view.

    Args:
        capacity: initial buffer size (grows by doubling).
    """

    def __init__(self, capacity: int = 256):
        self._cap = max(8, int(capacity))
        self._x = np.empty(self._cap)
        self._y = np.empty(self._cap)
        self._n = 0
        self._lo: list[np.ndarray] = []  # level L+1 block minima (blocks of 4**(L+1))
        self._hi: list[np.ndarray] = []
        self._counts: list[int] = []  # complete blocks per level
        self.all_finite = True
        #: smallest and largest finite y stored (None while there is none): the
        #: plots refit from these instead of scanning every item's data
        self.y_min: float | None = None
        self.y_max: float | None = None
        self.version = 0  # bumped on every change; views compare it to know they are stale

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> np.ndarray:
        """The stored x values (a view, do not modify)."""
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        """The stored y values (a view, do not modify)."""
        return self._y[: self._n]

    def clear(self) -> None:
        """Drop all points (the buffers are kept)."""
        self._n = 0
        self._lo, self._hi, self._counts = [], [], []
        self.all_finite = True
        self.y_min = self.y_max = None
        self.version += 1

    def append(self, x, y) -> None:
        """Append one point or a chunk of points.

        Args:
            x: a number or 1-D sequence, not below the last stored x.
            y: same length as ``x``; NaN and ±Inf are kept (and drawn as gaps).

        Raises:
            PlotInputError: lengths differ, x decreases, or x is not finite.
        """
        xs, ys = _as_1d(x, "x"), _as_1d(y, "y")
        if xs.shape != ys.shape:
            raise PlotInputError(f"x and y must have the same length, got {len(xs)} and {len(ys)}")
        m = len(xs)
        if m == 0:
            return
        if not np.isfinite(xs).all():
            raise PlotInputError("x values must be finite numbers")
        last = self._x[self._n - 1] if self._n else -math.inf
        if xs[0] < last or (m > 1 and (np.diff(xs) < 0).any()):
            raise PlotInputError(f"x values must not decrease (last x was {last:g})")
        need = self._n + m
        if need > self._cap:
            while self._cap < need:
                self._cap *= 2
            self._x = np.concatenate([self._x[: self._n], np.empty(self._cap - self._n)])
            self._y = np.concatenate([self._y[: self._n], np.empty(self._cap - self._n)])
        self._x[self._n:need] = xs
        self._y[self._n:need] = ys
        finite = np.isfinite(ys)
        if not finite.all():
            self.all_finite = False
            ys = ys[finite]
        if len(ys):
            lo, hi = float(ys.min()), float(ys.max())
            self.y_min = lo if self.y_min is None else min(self.y_min, lo)
            self.y_max = hi if self.y_max is None else max(self.y_max, hi)
        self._n = need
        self._extend_pyramid()
        self.version += 1

    def _extend_pyramid(self) -> None:
        src_lo = src_hi = self.y
        level = 0
        while True:
            blocks = len(src_lo) // _FANOUT
            if blocks == 0:
                return
            if level == len(self._lo):
                self._lo.append(np.empty(max(8, blocks * 2)))
                self._hi.append(np.empty(max(8, blocks * 2)))
                self._counts.append(0)
            done = self._counts[level]
            if blocks == done:
                return
            if blocks > len(self._lo[level]):
                size = max(blocks, 2 * len(self._lo[level]))
                self._lo[level] = np.concatenate([self._lo[level][:done], np.empty(size - done)])
                self._hi[level] = np.concatenate([self._hi[level][:done], np.empty(size - done)])
            seg = slice(done * _FANOUT, blocks * _FANOUT)
            # fmin/fmax ignore NaN unless the whole block is NaN: a NaN step stays visible
            # as a gap at full zoom without erasing its neighbours' range when zoomed out.
            self._lo[level][done:blocks] = np.fmin.reduce(src_lo[seg].reshape(-1, _FANOUT), axis=1)
            self._hi[level][done:blocks] = np.fmax.reduce(src_hi[seg].reshape(-1, _FANOUT), axis=1)
            self._counts[level] = blocks
            src_lo, src_hi = self._lo[level][:blocks], self._hi[level][:blocks]
            level += 1

    def bounds(self) -> tuple[float, float] | None:
        """(min, max) of the finite y values, or None when there are none."""
        if self._n == 0:
            return None
        top = len(self._counts) - 1
        parts_lo, parts_hi = [], []
        if top >= 0:
            block = _FANOUT ** (top + 1)
            parts_lo.append(self._lo[top][: self._counts[top]])
            parts_hi.append(self._hi[top][: self._counts[top]])
            tail = self.y[self._counts[top] * block:]
        else:
            tail = self.y
        parts_lo.append(tail)
        parts_hi.append(tail)
        lo, hi = np.concatenate(parts_lo), np.concatenate(parts_hi)
        lo, hi = lo[np.isfinite(lo)], hi[np.isfinite(hi)]
        if not len(lo):
            return None
        return float(lo.min()), float(hi.max())

    def view(self, x0: float = -math.inf, x1: float = math.inf,
             max_points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
        """Points to draw for the x range [x0, x1], at most about ``max_points``.

        One point beyond each end is kept so the line reaches the edge.  When
        more points fall in the range, each block of ``4**L`` points becomes
        two points (its maximum then its minimum), so spikes stay visible.

        Returns:
            (x, y) arrays; views into the store where no reduction was needed.
        """
        n = self._n
        if n == 0:
            return np.empty(0), np.empty(0)
        x = self.x
        i0 = 0 if x0 == -math.inf else max(0, int(np.searchsorted(x, x0, "left")) - 1)
        i1 = n if x1 == math.inf else min(n, int(np.searchsorted(x, x1, "right")) + 1)
        if i1 - i0 <= max(max_points, _BASE):
            return x[i0:i1], self.y[i0:i1]
        level = 0  # pyramid level whose blocks give at most max_points / 2 blocks
        while (level < len(self._counts)
               and (i1 - i0) / _FANOUT ** (level + 1) * 2 > max_points):
            level += 1
        level = min(level, len(self._counts) - 1)
        block = _FANOUT ** (level + 1)
        b0 = i0 // block
        b1 = min(self._counts[level], -(-i1 // block))
        lo = self._lo[level][b0:b1]
        hi = self._hi[level][b0:b1]
        xs = x[b0 * block: b1 * block: block]
        out_x = np.repeat(xs, 2)
        out_y = np.empty(2 * len(lo))
        out_y[0::2] = hi
        out_y[1::2] = lo
        tail = b1 * block
        if tail < i1:  # the partial block at the end is drawn from the raw points
            out_x = np.concatenate([out_x, x[tail:i1]])
            out_y = np.concatenate([out_y, self.y[tail:i1]])
        return out_x, out_y


def ema(values, smoothing: float, state: tuple[float, int] = (0.0, 0)
        ) -> tuple[np.ndarray, tuple[float, int]]:
    """Debiased exponential moving average, continuing from ``state``.

    ``s_t = smoothing * s_{t-1} + (1 - smoothing) * v_t`` and the value shown
    is ``s_t / (1 - smoothing**t)``.  Non-finite values are skipped (they
    repeat the previous smoothed value) so one NaN step does not poison the
    rest of the curve.

    Args:
        values: the new raw values.
        smoothing: in [0, 1); 0 returns the values unchanged.
        state: ``(s, t)`` returned by the previous call.

    Returns:
        (smoothed values, new state).
    """
    if not 0.0 <= smoothing < 1.0:
        raise PlotInputError(f"smoothing must be in [0, 1), got {smoothing}")
    v = _as_1d(values, "values")
    if smoothing == 0.0:
        return v.copy(), state
    s, t = state
    out = np.empty_like(v)
    b = smoothing
    # b**-k must stay far inside the float range over one block
    span = max(1, min(128, int(345.0 / -math.log(b))))
    for start in range(0, len(v), span):
        chunk = v[start:start + span]
        ok = np.isfinite(chunk)
        steps = np.cumsum(ok)
        # Each finite value advances the average one step; the closed form of the
        # recurrence over the block is a cumulative sum weighted by b**-k.
        k = steps.astype(np.float64)
        acc = np.cumsum(np.where(ok, chunk * b ** (-k), 0.0))
        sk = b ** k * (s + (1 - b) * acc)
        denom = 1.0 - b ** (t + k)
        smoothed = np.full(len(chunk), np.nan)
        np.divide(sk, denom, out=smoothed, where=denom > 0)
        if steps[-1]:
            s = float(sk[-1])
        t += int(steps[-1])
        out[start:start + len(chunk)] = smoothed
    return out, (s, t)
