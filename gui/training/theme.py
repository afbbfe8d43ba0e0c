"""Colours and pens for the training plots, taken from the application palette.

The plots follow the light or dark theme of the window: background and text
come from ``QPalette`` (``Base`` and ``Text``), so a palette change restyles
them.  Series colours are a qualitative palette (Tableau 10) that reads on both
white and near-black; pens are cosmetic (width in device-independent pixels),
so lines keep their weight at high DPI.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

#: Tableau 10, in order; distinct enough for runs and layers.
SERIES = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]


def series_color(i: int) -> QColor:
    """The i-th series colour (past ten, evenly spaced hues)."""
    if i < len(SERIES):
        return QColor(SERIES[i])
    return pg.intColor(i, hues=13, values=1, minValue=200)


def with_alpha(color: QColor, alpha: float) -> QColor:
    c = QColor(color)
    c.setAlphaF(max(0.0, min(1.0, alpha)))
    return c


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


def colors(widget: QWidget) -> tuple[QColor, QColor, QColor]:
    """(background, foreground, grid) for a widget's current palette."""
    pal = widget.palette()
    bg = pal.color(QPalette.ColorRole.Base)
    fg = pal.color(QPalette.ColorRole.Text)
    return bg, fg, with_alpha(fg, 0.18)


def style_plot(plot: pg.PlotWidget) -> None:
    """Apply the palette's background and text colour to a plot and its axes."""
    bg, fg, _ = colors(plot)
    plot.setBackground(bg)
    item = plot.getPlotItem()
    font = plot.font()
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(with_alpha(fg, 0.6)))
        axis.setTextPen(pg.mkPen(fg))
        axis.setTickFont(font)
        axis.label.setDefaultTextColor(fg)
    item.titleLabel.setText(item.titleLabel.text, color=fg)
    grid = getattr(plot, "grid", None)
    if grid is not None:
        grid.color = fg
        grid.update()
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(fg)
        legend.setBrush(pg.mkBrush(with_alpha(bg, 0.75)))
        legend.setPen(pg.mkPen(with_alpha(fg, 0.25)))
