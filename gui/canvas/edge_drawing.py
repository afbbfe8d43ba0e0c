"""Drawing an edge with the mouse: a press on a port starts a dashed curve
that follows the mouse, and the release on another port connects the two
(either way round: from an output or from an input).  A cross cursor over a
port says that a press there draws an edge.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QToolTip

from .. import commands
from .edge_route import curve
from .port_item import PortItem

#: the dashed curve drawn while an edge is dragged out of a port
DRAW_COLOR = QColor(30, 120, 230)


class EdgeDrawing:
    """The edge being drawn in one scene, if any.

    Args:
        scene: the :class:`~gui.canvas.scene.CanvasScene`; its ``graph``,
            ``doc``, ``port_at``, ``vertical``, ``message``, ``views`` and
            item list are used.
    """

    def __init__(self, scene):
        self._scene = scene
        self.last_refusal: str | None = None  # why the last edge drawn was refused
        self._drag: tuple[PortItem, QGraphicsPathItem] | None = None  # start port, dashed curve
        self._over_port = False  # the mouse hovers a port (the cross cursor is shown)

    @property
    def active(self) -> bool:
        """Whether an edge is being drawn."""
        return self._drag is not None

    def start(self, port: PortItem) -> None:
        """A press on ``port``: the dashed curve starts there."""
        temp = QGraphicsPathItem()
        temp.setPen(QPen(DRAW_COLOR, 1.8, Qt.PenStyle.DashLine))
        temp.setZValue(10)
        self._scene.addItem(temp)
        self._drag = (port, temp)

    def move(self, pos: QPointF) -> None:
        """The mouse is at ``pos`` (scene): the curve runs from the port to it."""
        port, temp = self._drag
        a, b = port.scenePos(), pos
        vertical = self._scene.vertical
        temp.setPath(curve(a, b, vertical) if port.is_output else curve(b, a, vertical))

    def finish(self, pos: QPointF, screen_pos=None) -> None:
        """The button went up at ``pos`` (scene): connect to the port there,
        if any (a refusal is shown at ``screen_pos``)."""
        port, temp = self._drag
        self._drag = None
        scene = self._scene
        scene.removeItem(temp)
        target = scene.port_at(pos)
        if target is not None and target is not port:
            self.try_connect(port, target, screen_pos)

    def hover(self, pos: QPointF) -> None:
        """A cross over a port (a press there draws an edge), else the default."""
        over = self._scene.port_at(pos) is not None
        if over != self._over_port:
            self._over_port = over
            for view in self._scene.views():
                if over:
                    view.viewport().setCursor(Qt.CursorShape.CrossCursor)
                else:
                    view.viewport().unsetCursor()

    def try_connect(self, start: PortItem, end: PortItem, screen_pos=None) -> bool:
        """Connect two ports (dragged either way), or show why not."""
        scene = self._scene
        src, dst = (end, start) if end.is_output and not start.is_output else (start, end)
        reason = scene.graph.check_connect(src.node_id, dst.node_id, src.name, dst.name)
        if reason:
            self.last_refusal = reason
            scene.message.emit(f"Cannot connect: {reason}")
            if screen_pos is not None:
                QToolTip.showText(screen_pos, f"Cannot connect: {reason}")
            return False
        self.last_refusal = None
        scene.doc.push(commands.Connect(scene.graph, src.node_id, dst.node_id, src.name, dst.name))
        return True
