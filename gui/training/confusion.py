"""Confusion matrix table and per-class accuracy bars.

:class:`ConfusionMatrixView` is a table: rows are the true classes, columns
the predicted ones, each cell its count shaded by the row's share (so the
diagonal reads at a glance whatever the class sizes), and a last column with
the class's accuracy (recall).  :class:`PerClassAccuracy` draws the same
accuracies as horizontal bars, class names on the y axis.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from gui.training import theme
from gui.training.panel import Panel
from gui.training.series import PlotInputError

ACCURACY = "accuracy"


def _matrix(counts) -> np.ndarray:
    m = np.asarray(counts)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise PlotInputError(f"the confusion matrix must be square (classes × classes), "
                             f"got shape {m.shape}")
    if not np.issubdtype(m.dtype, np.integer) and not np.array_equal(m, np.round(m)):
        raise PlotInputError("confusion counts must be whole numbers")
    if (m < 0).any():
        raise PlotInputError("confusion counts must be ≥ 0")
    return m.astype(np.int64)


def class_accuracy(counts) -> list[float | None]:
    """Per-class accuracy (diagonal / row sum); None for a class with no samples."""
    m = _matrix(counts)
    rows = m.sum(axis=1)
    return [float(m[i, i] / rows[i]) if rows[i] else None for i in range(len(m))]


def _names(names, k: int) -> list[str]:
    if names is None:
        return [str(i) for i in range(k)]
    names = [str(n) for n in names]
    if len(names) != k:
        raise PlotInputError(f"{len(names)} class names for {k} classes")
    return names


class ConfusionMatrixView(QTableWidget):
    """Counts with true classes as rows and predictions as columns."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # every class in sight (10 digits in the training band at 1280×800): the cells share
        # the table's size, and the font shrinks to fit (see _fit_font) before any scrolling
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(12)
        self._base_font = QFont(self.font())
        self.setToolTip("rows: true class · columns: predicted class")
        self._shown: tuple | None = None

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._shown is not None:
            self.set_matrix(*self._shown)  # cell shades are blended with the palette

    def set_matrix(self, counts, class_names=None) -> None:
        """Show a confusion matrix.

        Args:
            counts: K×K whole numbers, rows true class, columns predicted.
            class_names: K names (default ``0 … K-1``).

        Raises:
            PlotInputError: not square, negative or fractional counts, or the
                wrong number of names.
        """
        m = _matrix(counts)
        k = len(m)
        names = _names(class_names, k)
        acc = class_accuracy(m)
        self._shown = (m, names)
        self.clear()
        self.setRowCount(k)
        self.setColumnCount(k + 1)
        self.setHorizontalHeaderLabels([f"→ {n}" for n in names] + [ACCURACY])
        # the accuracy column keeps its words; the class columns share the rest
        self.horizontalHeader().setSectionResizeMode(k, QHeaderView.ResizeMode.ResizeToContents)
        self.setVerticalHeaderLabels(names)
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        good, bad = QColor(theme.SERIES[0]), QColor(theme.SERIES[2])
        rows = m.sum(axis=1)
        for i in range(k):
            for j in range(k):
                cell = QTableWidgetItem(f"{m[i, j]:,}")
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = m[i, j] / rows[i] if rows[i] else 0.0
                if share > 0:
                    tint = theme.with_alpha(good if i == j else bad, 0.15 + 0.7 * share)
                    cell.setBackground(QBrush(_over(tint, base)))
                cell.setForeground(QBrush(text))
                cell.setToolTip(f"true {names[i]}, predicted {names[j]}: {m[i, j]:,} "
                                f"({share:.1%} of {names[i]})")
                self.setItem(i, j, cell)
            a = acc[i]
            cell = QTableWidgetItem("–" if a is None else f"{a:.1%}")
            cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.setItem(i, k, cell)
        self._fit_font()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_font()

    def _fit_font(self) -> None:
        """The largest font (up to the normal one) whose rows and columns all fit."""
        k = self.rowCount()
        if k == 0:
            return
        names = [self.horizontalHeaderItem(j).text() for j in range(self.columnCount())
                 if self.horizontalHeaderItem(j) is not None]
        font = QFont(self._base_font)
        size = font.pointSizeF()
        while True:
            metrics = QFontMetrics(font)
            row = metrics.height() + 2
            widest = max([metrics.horizontalAdvance(n) for n in names] +
                         [metrics.horizontalAdvance("00.0%"), 1]) + 8
            side = metrics.horizontalAdvance(str(k)) + 8
            fits_h = (k + 1) * row + 4 <= self.height()
            fits_w = side + len(names) * widest + 4 <= self.width()
            if (fits_h and fits_w) or size <= 6:
                break
            size -= 0.5
            font.setPointSizeF(size)
        if font != self.font():
            self.setFont(font)
            self.horizontalHeader().setFont(font)
            self.verticalHeader().setFont(font)
            self.horizontalHeader().setMinimumSectionSize(1)
            self.verticalHeader().setMinimumSectionSize(1)
            self.verticalHeader().setDefaultSectionSize(QFontMetrics(font).height() + 2)

    def counts(self) -> np.ndarray:
        """The counts as shown (tests and copy-out read this)."""
        k = self.rowCount()
        return np.array([[int(self.item(i, j).text().replace(",", "")) for j in range(k)]
                         for i in range(k)], dtype=np.int64).reshape(k, k)


def _over(color: QColor, base: QColor) -> QColor:
    """An opaque colour: ``color`` blended over ``base`` (readable text on top)."""
    a = color.alphaF()
    mix = [a * c + (1 - a) * b for c, b in zip(color.getRgbF()[:3], base.getRgbF()[:3])]
    return QColor.fromRgbF(*mix)


class PerClassAccuracy(Panel):
    """Horizontal bars of per-class accuracy, class names on the y axis."""

    def __init__(self, parent=None):
        super().__init__("Accuracy per class", "accuracy", "", parent=parent, grows=False)
        self.getViewBox().invertY(True)  # first class on top, as in the table
        self.getPlotItem().legend.setVisible(False)
        self.bars: pg.BarGraphItem | None = None
        self.getViewBox().setMouseEnabled(x=False, y=True)

    def set_matrix(self, counts, class_names=None) -> None:
        """Bars from a confusion matrix (see :meth:`ConfusionMatrixView.set_matrix`)."""
        acc = class_accuracy(counts)
        self.set_accuracy(acc, class_names)

    def set_accuracy(self, accuracy, class_names=None) -> None:
        """Bars from per-class accuracies (fractions; None: no samples)."""
        values = np.array([np.nan if a is None else float(a) for a in accuracy])
        names = _names(class_names, len(values))
        if self.bars is not None:
            self.removeItem(self.bars)
        y = np.arange(len(values))
        width = np.nan_to_num(values)
        brushes = [pg.mkBrush(theme.series_color(0 if v >= 0.5 else 2)) for v in width]
        self.bars = pg.BarGraphItem(x0=np.zeros(len(y)), y=y, height=0.7, width=width,
                                    brushes=brushes, pen=None)
        self.addItem(self.bars)
        self.getPlotItem().getAxis("left").setTicks([list(enumerate(names))])
        self.setXRange(0, 1, padding=0.02)
        self.setYRange(-0.6, len(values) - 0.4, padding=0)
