"""Decision-boundary map for 2-D classification data.

The model's prediction on a regular grid over the data's extent is drawn as an
image, one colour per class with opacity growing with confidence, and the data
points on top, filled with their true class's colour.  The grid may be

- ``H×W`` integers: the predicted class per cell (drawn at one opacity);
- ``H×W`` floats in [0, 1]: the probability of class 1 (two classes);
- ``H×W×K`` floats: class probabilities.

Row 0 of the grid is the bottom of the extent (y = y_min), column 0 its left.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from gui.training import theme
from gui.training.panel import Panel
from gui.training.series import PlotInputError

_MIN_ALPHA, _MAX_ALPHA = 0.12, 0.6


def grid_to_rgba(grid: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Colour a prediction grid (see the module docstring) as ``H×W×4`` uint8.

    Raises:
        PlotInputError: the grid is not 2-D or 3-D, or holds negative classes.
    """
    g = np.asarray(grid)
    if g.ndim == 3:
        if g.shape[2] < 2:
            raise PlotInputError(f"a probability grid needs ≥ 2 classes on its last axis, "
                                 f"got shape {g.shape}")
        probs = g.astype(np.float64)
    elif g.ndim == 2 and np.issubdtype(g.dtype, np.integer):
        if g.size and g.min() < 0:
            raise PlotInputError("predicted classes must be ≥ 0")
        k = max(int(g.max()) + 1 if g.size else 1, num_classes or 0, 2)
        probs = np.zeros(g.shape + (k,))
        np.put_along_axis(probs, g[..., None].astype(np.intp), 0.75, axis=2)
    elif g.ndim == 2:
        p1 = np.clip(np.nan_to_num(g.astype(np.float64)), 0.0, 1.0)
        probs = np.stack([1.0 - p1, p1], axis=2)
    else:
        raise PlotInputError(f"the grid must be H×W or H×W×K, got shape {g.shape}")
    cls = probs.argmax(axis=2)
    conf = probs.max(axis=2)
    k = probs.shape[2]
    # Confidence 1/k (a coin toss) is transparent; certainty is the full tint.
    strength = np.clip((conf - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    palette = np.array([theme.series_color(i).getRgb()[:3] for i in range(k)], dtype=np.uint8)
    rgba = np.empty(cls.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = palette[cls]
    rgba[..., 3] = np.round(255 * (_MIN_ALPHA + (_MAX_ALPHA - _MIN_ALPHA) * strength))
    return rgba


class DecisionMap(Panel):
    """The map widget; call :meth:`set_points` once and :meth:`set_grid` every epoch."""

    def __init__(self, parent=None):
        super().__init__("Decision boundary", "x₁", "x₂", parent=parent, grows=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.scatter = pg.ScatterPlotItem(size=6, pxMode=True)
        self.addItem(self.image)
        self.addItem(self.scatter)
        self.getPlotItem().legend.setVisible(False)
        self.num_classes = 2
        self.grid_shape: tuple[int, int] | None = None

    def set_points(self, x, y, labels, num_classes: int | None = None) -> None:
        """The data points, coloured by their true class.

        Raises:
            PlotInputError: lengths differ or labels are not whole numbers ≥ 0.
        """
        xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        lab = np.asarray(labels)
        if not (xs.ndim == ys.ndim == lab.ndim == 1 and len(xs) == len(ys) == len(lab)):
            raise PlotInputError(f"x, y and labels must be 1-D of one length, got "
                                 f"{xs.shape}, {ys.shape} and {lab.shape}")
        if len(lab) and (not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0):
            raise PlotInputError("labels must be class numbers ≥ 0")
        self.num_classes = max(self.num_classes, num_classes or 0,
                               int(lab.max()) + 1 if len(lab) else 0)
        _, fg, _ = theme.colors(self)
        brushes = [pg.mkBrush(theme.series_color(i)) for i in range(self.num_classes)]
        self.scatter.setData(xs, ys, brush=[brushes[i] for i in lab],
                             pen=pg.mkPen(theme.with_alpha(fg, 0.7), width=0.8))
        self.refit(force=True)

    def set_grid(self, grid, extent: tuple[float, float, float, float]) -> None:
        """Show the prediction grid over ``extent = (x_min, x_max, y_min, y_max)``.

        Raises:
            PlotInputError: bad grid shape or an empty extent.
        """
        x0, x1, y0, y1 = (float(v) for v in extent)
        if not (x1 > x0 and y1 > y0):
            raise PlotInputError(f"extent must be (x_min, x_max, y_min, y_max) with "
                                 f"min < max, got {extent}")
        rgba = grid_to_rgba(grid, self.num_classes)
        self.image.setImage(rgba, autoLevels=False)
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.grid_shape = rgba.shape[:2]
        self.refit(force=True)
