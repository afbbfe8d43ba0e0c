"""An edge: a curve from an output port to an input port, labelled with the
tensor shape that flows along it (``N×16×8×8``).

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

A path never runs through a block that is not one of its ends.  The label is
a small pill ON the path: at its middle, or at the nearest point along it
where the pill covers no block.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainterPath, QPainterPathStroker, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from graph.dims import format_shape
from graph.graph import Edge
from graph.routing import REACH, detour

from . import layout
from .port_item import PortItem
from .style import LABEL_PX, SIMPLE_LOD, canvas_font, edge_colors, label_colors

_FONT = canvas_font(LABEL_PX)
_METRICS: list[QFontMetricsF] = []
LABEL_HEIGHT = 17.0
LANE_MARGIN = 22.0
BEND = 30.0
MAX_LANE_STEPS = 10_000
#: how far around an edge's ends one look-up of the blocks reaches (a curve's
#: bulge and a label's half width fit in it)
NEAR = 160.0


#: swaps x and y: a top-to-bottom network is routed as a left-to-right one
_SWAP = QTransform(0, 1, 1, 0, 0, 0)
_EMPTY_PATH = QPainterPath()
_EMPTY_RECT = QRectF()
#: where along its path a label may sit, nearest the middle first
LABEL_SPOTS = (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82, 0.1, 0.9)


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


@functools.lru_cache(maxsize=4096)
def label_width(text: str) -> float:
    """Width of a shape label's pill on the canvas (labels repeat: cached)."""
    if not _METRICS:
        _METRICS.append(QFontMetricsF(_FONT))
    return _METRICS[0].horizontalAdvance(text) + 12


@functools.lru_cache(maxsize=4096)
def _shape_width(shape: tuple) -> float:
    """The pill's width for a shape (a network repeats a few shapes thousands of times)."""
    return label_width(format_shape(shape))


def label_widths(graph, analyzer) -> dict[str, float]:
    """Widest label of each node's outgoing edges (for the auto-layout's gaps)."""
    analyzer.refresh()
    out: dict[str, float] = {}
    for e in graph.edges:
        tt = analyzer.edge_type(e)
        w = _shape_width(tuple(tt.shape)) if tt else label_width("?")
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
    line = _stroke(path, 2)  # a path's own intersects() would count the area its chord closes
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


def _stroke(path: QPainterPath, width: float) -> QPainterPath:
    stroker = QPainterPathStroker()
    stroker.setWidth(width)
    return stroker.createStroke(path)


def place_label(path: QPainterPath, width: float, blockers: list[QRectF]) -> QRectF:
    """The label pill, centred on a point of ``path``: its middle, or the
    point nearest the middle where the pill covers none of ``blockers``."""
    first = None
    for t in LABEL_SPOTS:
        at = path.pointAtPercent(t)
        rect = QRectF(at.x() - width / 2, at.y() - LABEL_HEIGHT / 2, width, LABEL_HEIGHT)
        if first is None:
            first = rect
        if not any(rect.intersects(r) for r in blockers):
            return rect
    return first


def node_rect(item) -> QRectF:
    return item.mapRectToScene(item.rect)


_SELECTABLE = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable


class EdgeItem(QGraphicsRectItem):
    """View of one graph edge (path and label cached; recomputed on move),
    under the blocks (z -1; blocks keep the default 0).  No QObject:
    thousands are made when a large network opens.  A ``QGraphicsRectItem``
    whose (never drawn) rectangle is the bounding rectangle of the path and
    the label, so Qt reads it without a call into Python on every repaint
    (see :class:`~gui.canvas.node_item.NodeItem`)."""

    # the state of a new edge, as class attributes: each is replaced (never
    # changed in place), and a large network opens thousands of edges
    label = ""
    error = False
    #: False while the path is the provisional curve (see :meth:`provisional`)
    routed = False
    _path = _shape = _EMPTY_PATH
    _label_rect = _EMPTY_RECT
    _blockers: list[QRectF] | tuple = ()

    def __init__(self, edge: Edge, src: PortItem, dst: PortItem, dark: bool = False,
                 route_now: bool = True):
        super().__init__()
        self.edge = edge
        self.src, self.dst = src, dst
        self.dark = dark
        self.setFlags(_SELECTABLE)
        self.setZValue(-1)
        # (the rectangle's default pen, never drawn, adds half a pixel to the
        # bounds: less than the margin the rectangle keeps anyway)
        if route_now:  # (the scene routes an edge once it is in it, among the blocks)
            self.update_path()

    def set_label(self, text: str, error: bool = False) -> None:
        if text != self.label or error != self.error:
            self.label, self.error = text, error
            self._place_label()  # the route stays: only the pill changes
            self.update()

    def provisional(self, ends: tuple[float, float, float, float] | None = None) -> None:
        """A plain curve between the ports, not yet routed round the blocks.

        A large network opens with these (routing 5,000 edges would hold the
        first paint for seconds); the scene routes them in idle batches, the
        ones in sight first, and :meth:`path`, :meth:`label_rect` and
        :meth:`line_shape` route an edge before answering.

        Args:
            ends: the two ports' scene positions ``(ax, ay, bx, by)`` when the
                caller knows them (else asked of the items).
        """
        self.routed = False
        if ends is None:
            a, b = self.src.scenePos(), self.dst.scenePos()
            ends = (a.x(), a.y(), b.x(), b.y())
        ax, ay, bx, by = ends
        # a straight line: it costs a fraction of a curve, and far out (where a
        # large network is seen whole) the two look alike
        self._path = QPainterPath(QPointF(ax, ay))
        self._path.lineTo(bx, by)
        self._shape = _EMPTY_PATH  # the stroke is made if a hit test asks
        self._blockers = ()
        # the label on the line's middle, placed for real when routed; the
        # box worked out here, not asked of Qt (5,000 edges open at once)
        half = label_width(self.label) / 2
        cx, cy = (ax + bx) / 2, (ay + by) / 2
        h = LABEL_HEIGHT / 2
        self._label_rect = QRectF(cx - half, cy - h, 2 * half, LABEL_HEIGHT)
        left, right = min(ax, bx, cx - half) - 6, max(ax, bx, cx + half) + 6
        top, bottom = min(ay, by, cy - h) - 6, max(ay, by, cy + h) + 6
        self.setRect(QRectF(left, top, right - left, bottom - top))

    def ensure_routed(self) -> None:
        """Route the edge now if it still has its provisional path."""
        if not self.routed:
            self.update_path()

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
        """Route the edge round the blocks and place its label (see the module docstring)."""
        self.routed = True
        a, b = self.src.scenePos(), self.dst.scenePos()
        s_item, d_item = self.src.parentItem(), self.dst.parentItem()
        s_rect, d_rect = node_rect(s_item), node_rect(d_item)
        vertical = getattr(s_item, "vertical", False)
        hint = None
        scene = self.scene()
        if scene is not None and hasattr(scene, "graph"):
            hint = layout.route_hint(scene.graph, self.edge.source, self.edge.target,
                                     (s_item.pos().x(), s_item.pos().y()),
                                     (d_item.pos().x(), d_item.pos().y()),
                                     "TB" if vertical else "LR")
        if scene is None:
            self._path, self._anchor = route(a, b, [s_rect, d_rect], lambda _area: [],
                                             vertical, hint)
            self._blockers = [s_rect, d_rect]
            self._place_label()
            return
        # one look-up of the blocks around the two ends serves the route's
        # checks near them and the label (thousands of edges route on open)
        near_area = QRectF(a, b).normalized().adjusted(-NEAR, -NEAR, NEAR, NEAR)
        near = self._other_rects(near_area)

        def others(area: QRectF) -> list[QRectF]:
            if near_area.contains(area):
                return [r for r in near if r.intersects(area)]
            return self._other_rects(area)
        self._path, self._anchor = route(a, b, [s_rect, d_rect], others, vertical, hint)
        self._shape = _EMPTY_PATH  # stroked when a hit test first asks (shape())
        # the label keeps off every block near its path, the two ends included
        area = self._path.boundingRect().adjusted(-120, -LABEL_HEIGHT, 120, LABEL_HEIGHT)
        self._blockers = [s_rect, d_rect] + others(area)
        self._place_label()
        self.update()

    def _place_label(self) -> None:
        if self.routed:
            self._label_rect = place_label(self._path, label_width(self.label), self._blockers)
        else:  # provisional (a line): on its middle, placed for real when routed
            at, width = self._path.boundingRect().center(), label_width(self.label)
            self._label_rect = QRectF(at.x() - width / 2, at.y() - LABEL_HEIGHT / 2,
                                      width, LABEL_HEIGHT)
        # the bounding rectangle (see the class docstring)
        self.setRect(self._path.boundingRect().united(self._label_rect).adjusted(-6, -6, 6, 6))

    def label_rect(self) -> QRectF:
        """The label's pill (scene coordinates), the edge routed first."""
        self.ensure_routed()
        return QRectF(self._label_rect)

    def path(self) -> QPainterPath:
        """The edge's path, routed first."""
        self.ensure_routed()
        return QPainterPath(self._path)

    def drawn_path(self) -> QPainterPath:
        """The path as drawn now (provisional while not yet routed)."""
        return QPainterPath(self._path)

    def line_shape(self) -> QPainterPath:
        """The drawn line as an area (for hit tests against nodes), routed first."""
        self.ensure_routed()
        return _stroke(self._path, 2)

    def shape(self) -> QPainterPath:
        # no routing here: Qt asks while it walks the items
        if self._shape.isEmpty() and not self._path.isEmpty():
            self._shape = _stroke(self._path, 10)
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
