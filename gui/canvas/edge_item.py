"""An edge: a curve from an output port to an input port, labelled with the
tensor shape that flows along it (``N×16×8×8``).

Routing: an edge between neighbouring columns is a cubic curve leaving the
source to the right and entering the target from the left.  A longer edge
whose curve would cross other nodes (a skip connection) runs along a lane
just above or below those nodes, whichever is nearer; an edge whose target
lies left of its source loops below both nodes (or, when the target sits in
a lower row of a wrapped layout, runs back along the gap between the rows).
The label is a small pill on the lane or the curve's middle, moved above or
below the two nodes when they are too close for it to sit between them.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from graph.dims import format_shape
from graph.graph import Edge

from .port_item import PortItem
from .style import LABEL_PX, NODE_WIDTH, SIMPLE_LOD, canvas_font, edge_colors, label_colors

_FONT = canvas_font(LABEL_PX)
_METRICS: list[QFontMetricsF] = []
LABEL_HEIGHT = 17.0
LANE_MARGIN = 22.0
BEND = 30.0
MAX_LANE_STEPS = 10_000


def curve(a: QPointF, b: QPointF) -> QPainterPath:
    """A left-to-right cubic curve between two points."""
    path = QPainterPath(a)
    dx = max(40.0, abs(b.x() - a.x()) / 2)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


@functools.lru_cache(maxsize=4096)
def label_width(text: str) -> float:
    """Width of a shape label's pill on the canvas (labels repeat: cached)."""
    if not _METRICS:
        _METRICS.append(QFontMetricsF(_FONT))
    return _METRICS[0].horizontalAdvance(text) + 12


def label_widths(graph, analyzer) -> dict[str, float]:
    """Widest label of each node's outgoing edges (for the auto-layout's gaps)."""
    analyzer.refresh()
    out: dict[str, float] = {}
    for e in graph.edges:
        tt = analyzer.edge_type(e)
        w = label_width(format_shape(tt.shape) if tt else "?")
        out[e.source] = max(out.get(e.source, 0.0), w)
    return out


def _lane(strip, start: float, step: float) -> float:
    """Move ``start`` up (step < 0) or down until it crosses no rectangle.

    Args:
        strip: ``strip(y0, y1)`` gives the rectangles that may reach between
            heights ``y0`` and ``y1`` in the edge's horizontal range.
    """
    lane = start
    for _ in range(MAX_LANE_STEPS):
        hit = [r for r in strip(lane - LANE_MARGIN, lane + LANE_MARGIN)
               if r.top() - LANE_MARGIN < lane < r.bottom() + LANE_MARGIN]
        if not hit:
            break
        lane = (min(r.top() for r in hit) - LANE_MARGIN if step < 0
                else max(r.bottom() for r in hit) + LANE_MARGIN)
    return lane


def lane_path(a: QPointF, b: QPointF, lane: float) -> QPainterPath:
    """Out of ``a`` to the right, along the horizontal ``lane``, into ``b`` from the left."""
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + BEND, a.y()), QPointF(a.x() + BEND, lane),
                 QPointF(a.x() + 2 * BEND, lane))
    path.lineTo(b.x() - 2 * BEND, lane)
    path.cubicTo(QPointF(b.x() - BEND, lane), QPointF(b.x() - BEND, b.y()), b)
    return path


def loop_path(a: QPointF, b: QPointF, lane: float) -> QPainterPath:
    """A backward edge: right out of ``a``, left along ``lane`` below, into ``b``."""
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + 2 * BEND, a.y()), QPointF(a.x() + 2 * BEND, lane),
                 QPointF(a.x(), lane))
    path.lineTo(b.x(), lane)
    path.cubicTo(QPointF(b.x() - 2 * BEND, lane), QPointF(b.x() - 2 * BEND, b.y()), b)
    return path


def route(a: QPointF, b: QPointF, ends: list[QRectF], others) -> tuple[QPainterPath, QPointF]:
    """The path of an edge and its label anchor.

    Args:
        a, b: the source and target port positions.
        ends: the source and target nodes' scene rectangles.
        others: ``others(area)`` gives the other nodes' scene rectangles that
            meet ``area`` (only asked for long or backward edges).
    """
    dx = b.x() - a.x()
    if dx < 0:
        src, dst = ends
        # into a lower band: back along the gap under the source's band
        start = src.bottom() if dst.top() > src.bottom() else max(r.bottom() for r in ends)
        x0, x1 = b.x() - 2 * BEND, a.x() + 2 * BEND
        lane = _lane(lambda y0, y1: others(QRectF(x0, y0, x1 - x0, y1 - y0)),
                     start + LANE_MARGIN, 1)
        return loop_path(a, b, lane), QPointF((a.x() + b.x()) / 2, lane)
    path = curve(a, b)
    if dx <= NODE_WIDTH + 40:
        return path, path.pointAtPercent(0.5)
    x0, x1 = a.x() + 10, b.x() - 10
    line = _stroke(path, 2)  # a path's own intersects() would count the area its chord closes
    if not any(line.intersects(r) for r in others(line.boundingRect())
               if r.right() > x0 and r.left() < x1):
        return path, path.pointAtPercent(0.5)

    def strip(y0: float, y1: float) -> list[QRectF]:
        return others(QRectF(x0, y0, x1 - x0, y1 - y0))
    mid = (a.y() + b.y()) / 2
    up, down = _lane(strip, mid, -1), _lane(strip, mid, 1)
    lane = up if abs(up - mid) <= abs(down - mid) else down
    return lane_path(a, b, lane), QPointF((a.x() + b.x()) / 2, lane)


def _stroke(path: QPainterPath, width: float) -> QPainterPath:
    stroker = QPainterPathStroker()
    stroker.setWidth(width)
    return stroker.createStroke(path)


def place_label(anchor: QPointF, width: float, ends: tuple[QRectF, QRectF]) -> QRectF:
    """The label pill: centred on the line, or above/below the two end nodes
    when they leave no room between them."""
    rect = QRectF(anchor.x() - width / 2, anchor.y() - LABEL_HEIGHT / 2, width, LABEL_HEIGHT)
    if not any(rect.intersects(r) for r in ends):
        return rect
    above = rect.translated(0, min(r.top() for r in ends) - 4 - rect.bottom())
    if not any(above.intersects(r) for r in ends):
        return above
    return rect.translated(0, max(r.bottom() for r in ends) + 4 - rect.top())


def node_rect(item) -> QRectF:
    return item.mapRectToScene(item.rect)


class EdgeItem(QGraphicsObject):
    """View of one graph edge (path and label cached; recomputed on move)."""

    def __init__(self, edge: Edge, src: PortItem, dst: PortItem, dark: bool = False):
        super().__init__()
        self.edge = edge
        self.src, self.dst = src, dst
        self.dark = dark
        self.label = ""
        self.error = False
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self._path = QPainterPath()
        self._shape = QPainterPath()
        self._label_rect = QRectF()
        self._anchor = QPointF()
        self.update_path()

    def set_label(self, text: str, error: bool = False) -> None:
        if text != self.label or error != self.error:
            self.label, self.error = text, error
            self.prepareGeometryChange()
            self._place_label()  # the route stays: only the pill changes
            self.update()

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self.update()

    def _other_rects(self, area: QRectF) -> list[QRectF]:
        scene = self.scene()
        if scene is None or not hasattr(scene, "node_rects_in"):
            return []
        ends = (self.src.parentItem(), self.dst.parentItem())
        return [r for item, r in scene.node_rects_in(area) if item not in ends]

    def update_path(self) -> None:
        self.prepareGeometryChange()
        a, b = self.src.scenePos(), self.dst.scenePos()
        s_rect, d_rect = node_rect(self.src.parentItem()), node_rect(self.dst.parentItem())
        self._path, self._anchor = route(a, b, [s_rect, d_rect], self._other_rects)
        self._shape = _stroke(self._path, 10)
        self._place_label((s_rect, d_rect))
        self.update()

    def _place_label(self, ends: tuple[QRectF, QRectF] | None = None) -> None:
        if ends is None:
            ends = (node_rect(self.src.parentItem()), node_rect(self.dst.parentItem()))
        self._label_rect = place_label(self._anchor, label_width(self.label), ends)
        self._bounds = self._path.boundingRect().united(self._label_rect).adjusted(-6, -6, 6, 6)

    def label_rect(self) -> QRectF:
        return QRectF(self._label_rect)

    def path(self) -> QPainterPath:
        return QPainterPath(self._path)

    def line_shape(self) -> QPainterPath:
        """The drawn line as an area (for hit tests against nodes)."""
        return _stroke(self._path, 2)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter, option, widget=None) -> None:
        line, text, selected, error = edge_colors(self.dark)
        painter.setPen(QPen(selected if self.isSelected() else line,
                            2.0 if self.isSelected() else 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        # zoomed far out the label would be a speck: leave it out (it also
        # keeps a full repaint of hundreds of edges cheap)
        if self.label and option.levelOfDetailFromTransform(painter.worldTransform()) >= SIMPLE_LOD:
            fill, outline = label_colors(self.dark)
            painter.setPen(QPen(outline, 1))
            painter.setBrush(fill)
            r = self._label_rect
            painter.drawRoundedRect(r, r.height() / 2, r.height() / 2)
            painter.setFont(_FONT)
            painter.setPen(error if self.error else text)
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, self.label)
