"""A port: a small circle on a node's side (inputs left, outputs right, or
top and bottom for a network that flows downward).

A port is not a graphics item of its own: its node draws it and the scene
finds the port under the mouse from the nodes' geometry
(:meth:`gui.canvas.scene.CanvasScene.port_at`).  Two child items per block
made a 5,000-block network take seconds longer to open.

A side with more than one port names each of them beside it (its node
places the label: :meth:`~gui.canvas.node_item.NodeItem._place_ports`); an
optional port (a recurrent block's ``h0``) left unconnected is drawn hollow,
with a dashed outline, so it reads as one that may stay empty.
"""

from __future__ import annotations

import functools
import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPen

from .node_face import PORT_LABEL_FONT, elided_label
from .style import PORT_RADIUS, muted_text, node_colors, port_colors

#: how far from a port's centre a press still takes the port (its circle and its outline)
HIT_RADIUS = PORT_RADIUS + 1.5


class PortItem:
    """A view of one port of a node, drawn by the node.

    Attributes:
        node_id: the node's id.
        name: the port's name.
        is_output: an output port (edges start here).
        variadic: the port takes several edges.
        optional: the port may be left unconnected.
    """

    __slots__ = ("_node", "node_id", "name", "is_output", "variadic", "optional", "_x", "_y")

    def __init__(self, node, node_id: str, name: str, is_output: bool,
                 variadic: bool = False, optional: bool = False):
        self._node = node
        self.node_id, self.name, self.is_output = node_id, name, is_output
        self.variadic, self.optional = variadic, optional
        self._x = self._y = 0.0

    def parentItem(self):
        """The node item that draws the port."""
        return self._node

    def setPos(self, x: float, y: float) -> None:
        """Place the port's centre (node coordinates)."""
        self._x, self._y = float(x), float(y)

    # The label is kept by the node (its ``_labels``), not in a slot here:
    # thousands of unlabelled ports open without making an empty one each.
    @property
    def label(self) -> str | None:
        """The label's text as drawn (the name, elided only when a side holds
        more names than its width), or None: no label."""
        found = self._node._labels.get((self.name, self.is_output))
        return found[0] if found else None

    @property
    def label_rect(self) -> QRectF:
        """Where the label is drawn (node coordinates; empty without one)."""
        found = self._node._labels.get((self.name, self.is_output))
        return QRectF(found[1]) if found else QRectF()

    def set_label(self, rect: QRectF, align=Qt.AlignmentFlag.AlignCenter) -> None:
        """Name the port in ``rect`` (node coordinates)."""
        self._node._labels[(self.name, self.is_output)] = (
            elided_label(self.name, rect.width()), rect, align | Qt.AlignmentFlag.AlignVCenter)

    def label_scene_rect(self) -> QRectF:
        """The label's rectangle in scene coordinates (empty without a label)."""
        return self.label_rect.translated(self._node.pos()) if self.label else QRectF()

    def connected(self) -> bool:
        """Whether an edge ends or starts at this port."""
        return any((e.src if self.is_output else e.dst) is self for e in self._node.edges)

    def offset(self) -> tuple[float, float]:
        """The port's centre in node coordinates, as numbers (no Qt object)."""
        return self._x, self._y

    def pos(self) -> QPointF:
        """The port's centre in node coordinates."""
        return QPointF(self._x, self._y)

    def scenePos(self) -> QPointF:
        """The port's centre in scene coordinates."""
        # a block is only ever moved (never turned or scaled), and has no
        # parent: its position plus the port's is the port's scene position,
        # at a fraction of mapToScene's cost (thousands of edges open at once)
        at = self._node.pos()
        return QPointF(at.x() + self._x, at.y() + self._y)

    def rect(self) -> QRectF:
        """The circle (node coordinates)."""
        r = PORT_RADIUS
        return QRectF(self._x - r, self._y - r, 2 * r, 2 * r)

    def distance(self, scene_pos: QPointF) -> float:
        """How far ``scene_pos`` lies from the port's centre."""
        p = self.scenePos()
        return math.hypot(p.x() - scene_pos.x(), p.y() - scene_pos.y())

    def tooltip(self) -> str:
        """What hovering the port says."""
        return (f"{'output' if self.is_output else 'input'} {self.name!r}"
                + (" (takes several edges)" if self.variadic else "")
                + (" (optional: may stay unconnected)" if self.optional else "")
                + ("\ndrag to an input port to connect" if self.is_output else ""))

    def paint(self, painter, dark: bool) -> None:
        """Draw the circle (the node calls this from its own paint)."""
        hollow = self.optional and not self.connected()
        brush, pen = style(dark, self.variadic, hollow)
        painter.setBrush(brush)
        painter.setPen(pen)
        painter.drawEllipse(QPointF(self._x, self._y), PORT_RADIUS, PORT_RADIUS)

    def paint_label(self, painter, dark: bool) -> None:
        """Draw the port's name (the node calls this, only for labelled ports,
        and not zoomed far out); an unconnected optional port's in a muted colour."""
        hollow = self.optional and not self.connected()
        painter.setPen(muted_text(dark) if hollow else node_colors(dark)[0])
        painter.setFont(PORT_LABEL_FONT)
        text, rect, align = self._node._labels[(self.name, self.is_output)]
        painter.drawText(rect, align, text)


@functools.cache
def style(dark: bool, variadic: bool, hollow: bool = False) -> tuple[QBrush, QPen]:
    """The brush and pen of a port (made once: a large network has thousands of
    ports); a hollow one (an optional port left empty) unfilled and dashed."""
    fill, line = port_colors(dark, variadic)
    if hollow:
        pen = QPen(line, 1.2, Qt.PenStyle.DashLine)
        return QBrush(Qt.BrushStyle.NoBrush), pen
    return QBrush(fill), QPen(line, 1.2)
