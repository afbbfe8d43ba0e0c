"""Gradient norms of many layers as a heat map of layer × epoch.

With more than :data:`HEATMAP_LAYERS` layers, one line per layer is a tangle
nobody can read; a deep network (a 50-layer plain CNN, a repeated unit) shows
instead one row per layer in forward order (first layer at the top), one
column per epoch, coloured by log₁₀ of the norm with a colour bar beside it.
Vanishing gradients read as a dark band over the first rows.  The layer names
label the rows, thinned so that they never overlap.  Hovering a cell names
its layer, epoch and norm in the title.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetrics

from gui.training.panel import Panel

#: Above this many layers the gradient-norm panel becomes a heat map.
HEATMAP_LAYERS = 12
#: Smallest pixel height per labelled row on the layer axis.
_LABEL_PX = 13
#: Widest the layer axis grows for long names (they are cut beyond).
_MAX_AXIS_PX = 220
TITLE = "Gradient norm per layer (log₁₀, layer × epoch)"


def norm_matrix(series: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The norms as a matrix of layers × epochs.

    Args:
        series: per layer, its (epochs, norms) arrays.

    Returns:
        ``(epochs, matrix)``: the sorted epochs of any layer and log₁₀ of each
        layer's norm at each (NaN where a layer has no finite positive norm).
    """
    epochs = sorted({int(e) for xs, _ in series for e in np.asarray(xs)})
    col = {e: i for i, e in enumerate(epochs)}
    out = np.full((len(series), len(epochs)), np.nan)
    for row, (xs, ys) in enumerate(series):
        for e, v in zip(np.asarray(xs), np.asarray(ys, dtype=float)):
            if math.isfinite(v) and v > 0:
                out[row, col[int(e)]] = math.log10(v)
    return np.asarray(epochs, dtype=float), out


class GradHeatmap(Panel):
    """Layer × epoch heat map of gradient norms; :meth:`set_norms` redraws it."""

    def __init__(self, parent=None):
        super().__init__(TITLE, "epoch", "layer", parent=parent, grows=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image)
        item = self.getPlotItem()
        item.legend.setVisible(False)
        item.invertY(True)  # forward order reads top to bottom, like the canvas
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False,
                                   label="log₁₀ ‖grad‖", width=12)
        self.bar.setImageItem(self.image, insert_in=item)
        self.layers: list[str] = []
        self.epochs = np.zeros(0)
        self.matrix = np.zeros((0, 0))
        self.scene().sigMouseMoved.connect(self._hover)

    def set_norms(self, layers: list[str], series: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Show these layers' norms (forward order, one (epochs, norms) pair each)."""
        self.layers = [str(n) for n in layers]
        self.epochs, self.matrix = norm_matrix(series)
        rows, cols = self.matrix.shape
        finite = self.matrix[np.isfinite(self.matrix)]
        if not rows or not cols or not finite.size:
            self.image.clear()
            return
        lo, hi = float(finite.min()), float(finite.max())
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        self.image.setImage(self.matrix, autoLevels=False, levels=(lo, hi))
        self.bar.setLevels((lo, hi))
        # one cell per (epoch, layer), centred on its epoch number and row index
        first = float(self.epochs[0])
        self.image.setRect(QRectF(first - 0.5, -0.5, cols, rows))
        self._label_rows()
        self.getPlotItem().getViewBox().setRange(
            xRange=(first - 0.5, first - 0.5 + cols), yRange=(-0.5, rows - 0.5), padding=0)

    def _label_rows(self) -> None:
        """Name every k-th row so that the labels fit the axis height."""
        rows = len(self.layers)
        height = max(self.getPlotItem().getViewBox().height(), 1.0)
        step = max(1, math.ceil(rows * _LABEL_PX / height))
        ticks = [(i, self.layers[i]) for i in range(0, rows, step)]
        axis = self.getPlotItem().getAxis("left")
        axis.setTicks([ticks, []])
        # the axis keeps the width of its first labels: make room for the longest
        # name, else pyqtgraph leaves out every label that does not fit
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        width = max(metrics.horizontalAdvance(name) for _, name in ticks)
        axis.setWidth(min(width + 24, _MAX_AXIS_PX))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if getattr(self, "layers", None):  # Qt resizes it before __init__ is done
            self._label_rows()

    def value_at(self, layer: int, col: int) -> float | None:
        """The norm (not its log) of a row and column, or None where there is none."""
        v = self.matrix[layer, col]
        return None if not math.isfinite(v) else 10.0 ** v

    def _hover(self, pos) -> None:
        if not self.layers or not self.matrix.size:
            return
        p = self.getPlotItem().getViewBox().mapSceneToView(pos)
        row, col = round(p.y()), round(p.x() - self.epochs[0])
        inside = 0 <= row < len(self.layers) and 0 <= col < len(self.epochs)
        v = self.value_at(row, col) if inside else None
        self.getPlotItem().setTitle(
            f"{self.layers[row]}, epoch {int(self.epochs[col])}: ‖grad‖ {v:.3g}"
            if v is not None else TITLE)
