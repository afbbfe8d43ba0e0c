"""A port: a small circle on a node's side (inputs left, outputs right)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem

from .style import PORT_RADIUS, SIMPLE_LOD, port_colors


class PortItem(QGraphicsEllipseItem):
    """A view of one port of a node.

    Attributes:
        node_id: the node's id.
        name: the port's name.
        is_output: an output port (edges start here).
    """

    def __init__(self, parent: QGraphicsItem, node_id: str, name: str, is_output: bool,
                 variadic: bool = False, dark: bool = False):
        r = PORT_RADIUS
        super().__init__(QRectF(-r, -r, 2 * r, 2 * r), parent)
        self.node_id, self.name, self.is_output = node_id, name, is_output
        self.variadic = variadic
        self.set_dark(dark)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip(f"{'output' if is_output else 'input'} {name!r}"
                        + (" (takes several edges)" if variadic else "")
                        + ("\ndrag to an input port to connect" if is_output else ""))
        self.setAcceptHoverEvents(False)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsScenePositionChanges, False)

    def paint(self, painter, option, widget=None) -> None:
        # zoomed far out the node is a plain box: a port would be a speck
        if option.levelOfDetailFromTransform(painter.worldTransform()) >= SIMPLE_LOD:
            super().paint(painter, option, widget)

    def set_dark(self, dark: bool) -> None:
        fill, line = port_colors(dark, self.variadic)
        self.setBrush(QBrush(fill))
        self.setPen(QPen(line, 1.2))
