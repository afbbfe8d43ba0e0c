"""How an edge is routed: the path from an output port to an input port.

Routing works in the frame of the network's flow (left to right; a network
that flows top to bottom is routed in the transposed frame and the path
turned back), so one router serves both directions:

- an edge along a lane the auto-layout reserved for it (the points of its
  dummy nodes, :func:`gui.canvas.layout.route_hint`) follows that lane while
  its blocks stay where the layout put them and the lane is clear;
- else a curve leaving the source along the flow and entering the target,
  when it meets no other block;
- else (a skip connection) a lane beside the blocks in between, the nearer
  side; an edge whose target lies against the flow loops round both blocks;
- and when blocks moved by hand leave none of these clear, an orthogonal way
  round them found on a grid (:func:`graph.routing.detour`).

A path never runs through a block that is not one of its ends.  Plain
geometry on Qt's paths and rectangles: the edge item
(:mod:`gui.canvas.edge_item`) asks for a route and keeps it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPainterPathStroker, QTransform

from graph.routing import REACH, detour

LANE_MARGIN = 22.0
BEND = 30.0
MAX_LANE_STEPS = 10_000

#: swaps x and y: a top-to-bottom network is routed as a left-to-right one
_SWAP = QTransform(0, 1, 1, 0, 0, 0)


def curve(a: QPointF, b: QPointF, vertical: bool = False) -> QPainterPath:
    """A cubic curve between two points, leaving and entering along the flow
    (to the right, or downward when ``vertical``)."""
    if vertical:
        return _SWAP.map(curve(_t(a), _t(b)))
    path = QPainterPath(a)
    dx = max(40.0, abs(b.x() - a.x()) / 2)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


def _t(p: QPointF) -> QPointF:
    return QPointF(p.y(), p.x())


def _tr(r: QRectF) -> QRectF:
    return QRectF(r.y(), r.x(), r.height(), r.width())


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


def hint_path(a: QPointF, b: QPointF, points) -> QPainterPath:
    """Out of ``a``, through a reserved lane's ``points`` (jogging across in
    the gaps between layers), into ``b``."""
    path = QPainterPath(a)
    y0, yn = points[0][1], points[-1][1]
    path.cubicTo(QPointF(a.x() + BEND, a.y()), QPointF(a.x() + BEND, y0),
                 QPointF(a.x() + 2 * BEND, y0))
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        if abs(ya - yb) > 0.5:
            mx = (xa + xb) / 2
            path.lineTo(mx, ya)
            path.lineTo(mx, yb)
    path.lineTo(b.x() - 2 * BEND, yn)
    path.cubicTo(QPointF(b.x() - BEND, yn), QPointF(b.x() - BEND, b.y()), b)
    return path


def _clear(path: QPainterPath, others) -> bool:
    """Whether the drawn line of ``path`` meets none of the other blocks."""
    line = stroke(path, 2)  # a path's own intersects() would count the area its chord closes
    return not any(line.intersects(r) for r in others(line.boundingRect()))


def route(a: QPointF, b: QPointF, ends: list[QRectF], others, vertical: bool = False,
          hint=None) -> tuple[QPainterPath, QPointF]:
    """The path of an edge and the middle of it.

    Args:
        a, b: the source and target port positions.
        ends: the source and target nodes' scene rectangles.
        others: ``others(area)`` gives the other nodes' scene rectangles that
            meet ``area``.
        vertical: the network flows top to bottom.
        hint: the points of a lane the layout reserved for this edge, or None.
    """
    if vertical:
        def flipped(area: QRectF) -> list[QRectF]:
            return [_tr(r) for r in others(_tr(area))]
        path, _ = route(_t(a), _t(b), [_tr(r) for r in ends], flipped, False,
                        [(y, x) for x, y in hint] if hint else None)
        path = _SWAP.map(path)
        return path, path.pointAtPercent(0.5)
    if hint and a.x() + 2 * BEND <= hint[0][0] and hint[-1][0] <= b.x() - 2 * BEND:
        path = hint_path(a, b, hint)
        if _clear(path, others):
            return path, path.pointAtPercent(0.5)
    dx = b.x() - a.x()
    if dx < 0:
        src, dst = ends
        # into a lower band: back along the gap under the source's band
        start = src.bottom() if dst.top() > src.bottom() else max(r.bottom() for r in ends)
        x0, x1 = b.x() - 2 * BEND, a.x() + 2 * BEND
        lane = _lane(lambda y0, y1: others(QRectF(x0, y0, x1 - x0, y1 - y0)),
                     start + LANE_MARGIN, 1)
        return _or_detour(loop_path(a, b, lane), a, b, ends, others)
    path = curve(a, b)
    if _clear(path, others):
        return path, path.pointAtPercent(0.5)
    x0, x1 = a.x() + 10, b.x() - 10

    def strip(y0: float, y1: float) -> list[QRectF]:
        return [r for r in others(QRectF(x0, y0, x1 - x0, y1 - y0))
                if r.right() > x0 and r.left() < x1]
    mid = (a.y() + b.y()) / 2
    up, down = _lane(strip, mid, -1), _lane(strip, mid, 1)
    lane = up if abs(up - mid) <= abs(down - mid) else down
    return _or_detour(lane_path(a, b, lane), a, b, ends, others)


def _or_detour(path: QPainterPath, a: QPointF, b: QPointF, ends, others
               ) -> tuple[QPainterPath, QPointF]:
    """``path`` when it meets no other block, else a way round the blocks
    (:func:`graph.routing.detour`; blocks moved by hand can leave no lane)."""
    if not _clear(path, others):
        area = QRectF(a, b).normalized().adjusted(-REACH, -REACH, REACH, REACH)
        boxes = [(r.x(), r.y(), r.width(), r.height()) for r in [*ends, *others(area)]]
        pts = detour((a.x(), a.y()), (b.x(), b.y()), (1, 0), (1, 0), boxes)
        if pts is not None:
            path = QPainterPath(QPointF(*pts[0]))
            for p in pts[1:]:
                path.lineTo(*p)
    return path, path.pointAtPercent(0.5)


def stroke(path: QPainterPath, width: float) -> QPainterPath:
    """The area ``path`` covers when drawn ``width`` wide (for hit tests)."""
    stroker = QPainterPathStroker()
    stroker.setWidth(width)
    return stroker.createStroke(path)

