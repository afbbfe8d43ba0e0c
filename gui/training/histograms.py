"""Live histograms of one edge's activations and gradients.

The worker bins the values (``numpy.histogram`` style: ``edges`` one longer
than ``counts``) and the widget draws them as filled step curves, side by
side.  Only the latest histogram is kept; redraws go through the same
:class:`~gui.training.curves.RedrawClock` idea — a new histogram replaces the
pending one and the plot updates at most once per tick.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.training import theme
from gui.training.curves import TICK_MS
from gui.training.panel import Panel
from gui.training.series import PlotInputError

KINDS = ("activations", "gradients")
NO_EDGE = "Click an edge on the canvas to see its values here while training."
WAITING = "Sampled while training: the next sample appears shortly."


def check_histogram(edges, counts) -> tuple[np.ndarray, np.ndarray]:
    """Validate numpy-style bin edges and counts.

    Raises:
        PlotInputError: wrong lengths, decreasing edges or negative counts.
    """
    e = np.asarray(edges, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if e.ndim != 1 or c.ndim != 1 or len(e) != len(c) + 1:
        raise PlotInputError(f"a histogram needs len(edges) == len(counts) + 1, got "
                             f"{len(e) if e.ndim == 1 else e.shape} edges and "
                             f"{len(c) if c.ndim == 1 else c.shape} counts")
    if len(c) and (np.diff(e) < 0).any():
        raise PlotInputError("histogram edges must increase")
    if (c < 0).any():
        raise PlotInputError("histogram counts must be ≥ 0")
    return e, c


class EdgeHistograms(QWidget):
    """Two panels: the activations and the gradients flowing through one edge."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.panels = {
            "activations": Panel("Activations", "value", "count", grows=False),
            "gradients": Panel("Gradients", "value", "count", grows=False),
        }
        self.curves = {}
        for i, kind in enumerate(KINDS):
            panel = self.panels[kind]
            panel.getPlotItem().legend.setVisible(False)
            color = theme.series_color(0 if i == 0 else 1)
            # pyqtgraph refuses stepMode on empty data, so it is passed with the data
            curve = pg.PlotCurveItem(pen=pg.mkPen(color, width=1.5),
                                     brush=pg.mkBrush(theme.with_alpha(color, 0.35)))
            panel.addItem(curve)
            self.curves[kind] = curve
        self._pending: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.flush)
        self.redraws = 0
        self.edge = ""
        #: per kind: why nothing is (or will be) drawn, shown under the panel.
        self.notes: dict[str, QLabel] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for kind in KINDS:
            note = QLabel()
            note.setWordWrap(True)
            note.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.notes[kind] = note
            column = QVBoxLayout()
            column.addWidget(self.panels[kind], 1)
            column.addWidget(note)
            layout.addLayout(column)
        self.set_note(NO_EDGE)

    def set_edge(self, label: str) -> None:
        """Name the edge shown (e.g. ``conv1 → relu1``) and drop old histograms."""
        self.edge = label
        for kind in KINDS:
            self.panels[kind].set_title(f"{kind.capitalize()} · {label}" if label
                                        else kind.capitalize())
            self.curves[kind].clear()
        self._pending.clear()
        self.set_note("" if label else NO_EDGE)

    def set_note(self, text: str, kind: str | None = None) -> None:
        """Say under one panel (``kind``) or both why nothing is drawn ("" clears it)."""
        for k in (kind,) if kind else KINDS:
            self.notes[k].setText(text)
            self.notes[k].setVisible(bool(text))

    def note(self, kind: str) -> str:
        return self.notes[kind].text()

    def set_histogram(self, kind: str, edges, counts) -> None:
        """Queue a new histogram for ``"activations"`` or ``"gradients"``.

        Raises:
            PlotInputError: unknown kind or a malformed histogram.
        """
        if kind not in KINDS:
            raise PlotInputError(f"histogram kind must be one of {', '.join(KINDS)}, got {kind!r}")
        self._pending[kind] = check_histogram(edges, counts)
        if self.notes[kind].text() == WAITING:
            self.set_note("", kind)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Draw the queued histograms now."""
        pending, self._pending = self._pending, {}
        for kind, (edges, counts) in pending.items():
            self.curves[kind].setData(edges, counts, stepMode="center", fillLevel=0)
            self.panels[kind].refit(force=True)
            self.redraws += 1
