"""An edge: a curve from an output port to an input port, labelled with the
tensor shape that flows along it (``N×16×8×8``).

Routing: an edge between neighbouring columns is a cubic curve leaving the
source to the right and entering the target from the left.  A longer edge
whose curve would cross other nodes (a skip connection) runs along a lane
just above or below those nodes, whichever is nearer; an edge whose target
lies left of its source loops below both nodes.  The label sits on the lane
or above the curve's middle, off the nodes.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from graph.dims import format_shape
from graph.graph import Edge

from .port_item import PortItem
from .style import NODE_WIDTH, edge_colors

_FONT = QFont()
_FONT.setPointSizeF(max(6.0, _FONT.pointSizeF() - 1))
LANE_MARGIN = 22.0
BEND = 30.0


def curve(a: QPointF, b: QPointF) -> QPainterPath:
    """A left-to-right cubic curve between two points."""
    path = QPainterPath(a)
    dx = max(40.0, abs(b.x() - a.x()) / 2)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


def label_width(text: str) -> float:
    """Width of a shape label on the canvas."""
    return QFontMetricsF(_FONT).horizontalAdvance(text) + 8


def label_widths(graph, analyzer) -> dict[str, float]:
    """Widest label of each node's outgoing edges (for the auto-layout's gaps)."""
    analyzer.refresh()
    out: dict[str, float] = {}
    for e in graph.edges:
        tt = analyzer.edge_type(e)
        w = label_width(format_shape(tt.shape) if tt else "?")
        out[e.source] = max(out.get(e.source, 0.0), w)
    return out


def _lane(band: list[QRectF], start: float, step: float) -> float:
    """Move ``start`` up (step < 0) or down until it crosses no rectangle."""
    lane = start
    for _ in range(len(band) + 1):
        hit = [r for r in band if r.top() - LANE_MARGIN < lane < r.bottom() + LANE_MARGIN]
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
        others: a callable giving the other nodes' scene rectangles (only
            called for long or backward edges).
    """
    dx = b.x() - a.x()
    if dx < 0:
        lane = max(r.bottom() for r in ends) + LANE_MARGIN
        lane = _lane([r for r in others() if r.right() > b.x() and r.left() < a.x()], lane, 1)
        return loop_path(a, b, lane), QPointF((a.x() + b.x()) / 2, lane)
    path = curve(a, b)
    if dx <= NODE_WIDTH + 40:
        return path, path.pointAtPercent(0.5)
    band = [r for r in others() if r.right() > a.x() + 10 and r.left() < b.x() - 10]
    line = _stroke(path, 2)  # a path's own intersects() would count the area its chord closes
    if not any(line.intersects(r) for r in band):
        return path, path.pointAtPercent(0.5)
    mid = (a.y() + b.y()) / 2
    up, down = _lane(band, mid, -1), _lane(band, mid, 1)
    lane = up if abs(up - mid) <= abs(down - mid) else down
    return lane_path(a, b, lane), QPointF((a.x() + b.x()) / 2, lane)


def _stroke(path: QPainterPath, width: float) -> QPainterPath:
    stroker = QPainterPathStroker()
    stroker.setWidth(width)
    return stroker.createStroke(path)


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
            self.update_path()

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self.update()

    def _other_rects(self) -> list[QRectF]:
        nodes = getattr(self.scene(), "nodes", None) or {}
        ends = (self.src.parentItem(), self.dst.parentItem())
        return [node_rect(n) for n in nodes.values() if n not in ends]

    def update_path(self) -> None:
        self.prepareGeometryChange()
        a, b = self.src.scenePos(), self.dst.scenePos()
        s_rect, d_rect = node_rect(self.src.parentItem()), node_rect(self.dst.parentItem())
        self._path, anchor = route(a, b, [s_rect, d_rect], self._other_rects)
        self._anchor = anchor
        self._shape = _stroke(self._path, 10)
        w = label_width(self.label)
        rect = QRectF(anchor.x() - w / 2, anchor.y() - 18, w, 15)
        if rect.intersects(s_rect) or rect.intersects(d_rect):
            below = rect.translated(0, 21)
            if not (below.intersects(s_rect) or below.intersects(d_rect)):
                rect = below
        self._label_rect = rect
        self._bounds = self._path.boundingRect().united(self._label_rect).adjusted(-6, -6, 6, 6)
        self.update()

    def midpoint(self) -> QPointF:
        """Where the label and quick-fix marker belong."""
        return self._anchor

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
        if self.label:
            painter.setFont(_FONT)
            painter.setPen(error if self.error else text)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)

