"""The network drawn far out: every block a box in its family colour (its
name inside when legible), every edge a thin line, in a few batched calls.

Zoomed out below :data:`~gui.canvas.style.SIMPLE_LOD` the canvas view paints
this instead of asking each of its (tens of thousands of) items to paint
itself: one ``drawRects`` per colour and one ``drawPath`` for all edges cost
a few milliseconds where the item-by-item repaint of a 5,000-block network
took about 200 ms.  The minimap paints the same picture.

The batches are built from the scene's items once per change (the scene drops
them when a block is added, removed, moved, renamed, re-marked or selected,
or an edge rerouted) and reused for every repaint and pan until then.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from graph.problems import ERROR

from .node_item import NAME_LOD, SIMPLE_FONT
from .style import ERROR_COLOR, SELECTED_COLOR, WARNING_COLOR, edge_colors, node_colors

MARK_PX = 3.0  # screen px of a selected or problem block's border


class Overview:
    """The batched picture of one scene (see the module docstring).

    Args:
        scene: the :class:`~gui.canvas.scene.CanvasScene`.
    """

    def __init__(self, scene):
        by_color: dict[int, tuple[QColor, list[QRectF]]] = {}
        self.marked: list[tuple[QColor, list[QRectF]]] = []
        selected, errors, warnings = [], [], []
        # the items, not their names: a name is elided (measured) only when
        # it is drawn, which a network seen whole from far out never asks
        self.named: list[tuple[QRectF, object]] = []
        self.bounds = QRectF()
        for item in scene.nodes.values():
            r = item.mapRectToScene(item.rect)
            by_color.setdefault(item.color.rgba(), (item.color, []))[1].append(r)
            self.named.append((r, item))
            if item.isSelected():
                selected.append(r)
            elif item.severity == ERROR:
                errors.append(r)
            elif item.severity:
                warnings.append(r)
            self.bounds = self.bounds.united(r)
        self.boxes = list(by_color.values())
        self.marked = [(c, rs) for c, rs in ((ERROR_COLOR, errors), (WARNING_COLOR, warnings),
                                              (SELECTED_COLOR, selected)) if rs]
        self.edges = QPainterPath()
        self.selected_edges = QPainterPath()
        for item in scene.edges.values():
            # as drawn: routing every edge here would undo the idle routing of a large network
            (self.selected_edges if item.isSelected() else self.edges).addPath(item.drawn_path())
        if not self.edges.isEmpty():
            self.bounds = self.bounds.united(self.edges.boundingRect())
        self.dark = scene.dark
        self._marks_at: tuple[float, list] = (0.0, [])

    def _marks(self, lod: float) -> list[tuple[QColor, list[QRectF]]]:
        """The marked blocks' enlarged boxes at this zoom (kept while it stays)."""
        if self._marks_at[0] != lod:
            m = MARK_PX / lod
            self._marks_at = (lod, [(c, [r.adjusted(-m, -m, m, m) for r in rects])
                                    for c, rects in self.marked])
        return self._marks_at[1]

    def paint(self, painter: QPainter, exposed: QRectF, lod: float, names: bool = True) -> None:
        """Draw the network (the painter already maps scene to device).

        Args:
            painter: the painter, transformed from scene to device coordinates.
            exposed: the scene area to draw (names outside it are skipped).
            lod: the painter's scale (device pixels per scene unit).
            names: draw block names where legible.
        """
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        line, _text, selected, _error = edge_colors(self.dark)
        pen = QPen(line, 0)  # cosmetic: one device pixel at any zoom
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.edges)
        if not self.selected_edges.isEmpty():
            painter.setPen(_cosmetic(selected, 2))
            painter.drawPath(self.selected_edges)
        painter.setPen(Qt.PenStyle.NoPen)
        # a mark is a larger box of its colour under the block's: filling is
        # several times cheaper than stroking thousands of outlines
        for color, rects in self._marks(lod):
            painter.setBrush(color)
            painter.drawRects(rects)
        for color, rects in self.boxes:
            painter.setBrush(color)
            painter.drawRects(rects)
        if names and lod >= NAME_LOD:
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            painter.setPen(node_colors(self.dark)[3])
            painter.setFont(SIMPLE_FONT)
            flags = Qt.AlignmentFlag.AlignCenter
            for r, item in self.named:
                if r.intersects(exposed):
                    painter.drawText(r.adjusted(6, 0, -6, 0), flags, item.simple_name)


def _cosmetic(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCosmetic(True)
    return pen
