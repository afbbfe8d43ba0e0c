"""An edge: a curve from an output port to an input port, labelled with the
tensor shape that flows along it (``N×16×8×8``).

The path is routed round the blocks (:mod:`gui.canvas.edge_route`).  The
label is a small pill ON the path: at its middle, or at the nearest point
along it where the pill covers no block.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from graph.dims import format_shape
from graph.graph import Edge

from . import layout
from .edge_route import route, stroke
from .port_item import PortItem
from .style import LABEL_PX, SIMPLE_LOD, canvas_font, edge_colors, label_colors

_FONT = canvas_font(LABEL_PX)
_METRICS: list[QFontMetricsF] = []
LABEL_HEIGHT = 17.0
#: how far around an edge's ends one look-up of the blocks reaches (a curve's
#: bulge and a label's half width fit in it)
NEAR = 160.0

_EMPTY_PATH = QPainterPath()
_EMPTY_RECT = QRectF()
#: where along its path a label may sit, nearest the middle first
LABEL_SPOTS = (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82, 0.1, 0.9)


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
        """Route the edge round the blocks (:mod:`gui.canvas.edge_route`) and place its label."""
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
        return stroke(self._path, 2)

    def shape(self) -> QPainterPath:
        # no routing here: Qt asks while it walks the items
        if self._shape.isEmpty() and not self._path.isEmpty():
            self._shape = stroke(self._path, 10)
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
