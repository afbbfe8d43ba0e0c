"""A port: a small circle on a node's side (inputs left, outputs right, or
top and bottom for a network that flows downward).

A port is not a graphics item of its own: its node draws it and the scene
finds the port under the mouse from the nodes' geometry
(:meth:`gui.canvas.scene.CanvasScene.port_at`).  Two child items per block
made a 5,000-block network take seconds longer to open.
"""

from __future__ import annotations

import functools
import math

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QPen

from .style import PORT_RADIUS, port_colors

#: how far from a port's centre a press still takes the port (its circle and its outline)
HIT_RADIUS = PORT_RADIUS + 1.5


class PortItem:
    """A view of one port of a node, drawn by the node.

    Attributes:
        node_id: the node's id.
        name: the port's name.
        is_output: an output port (edges start here).
        variadic: the port takes several edges.
    """

    __slots__ = ("_node", "node_id", "name", "is_output", "variadic", "_x", "_y")

    def __init__(self, node, node_id: str, name: str, is_output: bool,
                 variadic: bool = False):
        self._node = node
        self.node_id, self.name, self.is_output = node_id, name, is_output
        self.variadic = variadic
        self._x = self._y = 0.0

    def parentItem(self):
        """The node item that draws the port."""
        return self._node

    def setPos(self, x: float, y: float) -> None:
        """Place the port's centre (node coordinates)."""
        self._x, self._y = float(x), float(y)

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
                + ("\ndrag to an input port to connect" if self.is_output else ""))

    def paint(self, painter, dark: bool) -> None:
        """Draw the circle (the node calls this from its own paint)."""
        brush, pen = style(dark, self.variadic)
        painter.setBrush(brush)
        painter.setPen(pen)
        painter.drawEllipse(QPointF(self._x, self._y), PORT_RADIUS, PORT_RADIUS)


@functools.cache
def style(dark: bool, variadic: bool) -> tuple[QBrush, QPen]:
    """The brush and pen of a port (made once: a large network has thousands of ports)."""
    fill, line = port_colors(dark, variadic)
    return QBrush(fill), QPen(line, 1.2)
