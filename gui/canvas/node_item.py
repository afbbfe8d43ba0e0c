"""A node on the canvas: name, type, key parameters, parameter count, ports.

The item is a view of a graph node: its text is computed once per change
(``refresh_text``/``set_result``) and painted from cached strings, and the
item is cached as a device pixmap, so a repaint of many nodes costs little.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetrics, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from graph.graph import Node
from graph.problems import ERROR

from .port_item import PortItem
from .style import (ERROR_COLOR, LINE_HEIGHT, NODE_WIDTH, PORT_SPACING, SELECTED_COLOR,
                    WARNING_COLOR, family_color, human_count, node_colors)

_F = QGraphicsItem.GraphicsItemFlag


def _value_text(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)


class NodeItem(QGraphicsObject):
    """View of one graph node (see the module docstring)."""

    def __init__(self, node: Node, dark: bool = False):
        super().__init__()
        self.node_id = node.id
        self.dark = dark
        self.setFlags(_F.ItemIsMovable | _F.ItemIsSelectable | _F.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.edges: list = []  # EdgeItems attached, updated when the node moves
        self.severity: str | None = None
        self.n_params = 0
        self._lines: list[str] = []
        spec = node.spec
        self.family = spec.family if spec else "unknown"
        self.color = family_color(self.family, dark)
        ins = spec.inputs if spec else ()
        # an Output block's spec keeps a typed "out" for the analysis, but
        # nothing may be drawn from it: it shows no output port
        outs = spec.outputs if spec and spec.role != "output" else ()
        rows = max(len(ins), len(outs), 1)
        self.height = max(4 * LINE_HEIGHT + 14, 22 + rows * PORT_SPACING)
        self.rect = QRectF(0, 0, NODE_WIDTH, self.height)
        self.ports: dict[tuple[str, bool], PortItem] = {}
        for k, p in enumerate(ins):
            item = PortItem(self, node.id, p.name, False, p.variadic, dark)
            item.setPos(0, self._port_y(k, len(ins)))
            self.ports[(p.name, False)] = item
        for k, p in enumerate(outs):
            item = PortItem(self, node.id, p.name, True, dark=dark)
            item.setPos(NODE_WIDTH, self._port_y(k, len(outs)))
            self.ports[(p.name, True)] = item
        self.refresh_text(node)

    def _port_y(self, k: int, n: int) -> float:
        return self.height / 2 + (k - (n - 1) / 2) * PORT_SPACING

    def port(self, name: str, output: bool) -> PortItem | None:
        return self.ports.get((name, output))

    def set_dark(self, dark: bool) -> None:
        """Re-style for a light or dark canvas."""
        self.dark = dark
        self.color = family_color(self.family, dark)
        for port in self.ports.values():
            port.set_dark(dark)
        self.update()

    # ------------------------------------------------------------ content
    def refresh_text(self, node: Node) -> None:
        """Recompute the cached text after a rename or a parameter change."""
        self.name, self.type = node.name, node.type
        spec = node.spec
        shown = []
        for k, v in node.params.items():
            prm = spec.param_index.get(k) if spec else None
            if prm is None or not prm.advanced:
                shown.append(f"{k}={_value_text(v)}")
        self.params_text = QFontMetrics(QFont()).elidedText(
            ", ".join(shown), Qt.TextElideMode.ElideRight, NODE_WIDTH - 12)
        self.update()

    def set_result(self, n_params: int, problems: list) -> None:
        """Show the analysis of this node: parameter count and problems."""
        severity = None
        if problems:
            severity = ERROR if any(p.severity == ERROR for p in problems) else "warning"
        self.n_params, self.severity = n_params, severity
        self.setToolTip("\n".join(p.message for p in problems) if problems else
                        f'{self.type} "{self.name}"\n{n_params:,} parameters')
        self.update()

    # ------------------------------------------------------------ painting
    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-8, -8, 8, 8)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.rect, 6, 6)
        return path

    def paint(self, painter, option, widget=None) -> None:
        fg, body, plain, header_text = node_colors(self.dark)
        if self.severity == ERROR:
            border, width = ERROR_COLOR, 2.5
        elif self.severity:
            border, width = WARNING_COLOR, 2.5
        else:
            border, width = plain, 1.0
        if self.isSelected():
            border, width = SELECTED_COLOR, 2.5 if not self.severity else width + 0.5
        painter.setPen(QPen(border, width))
        painter.setBrush(QBrush(body))
        painter.drawRoundedRect(self.rect, 6, 6)
        header = QRectF(0, 0, NODE_WIDTH, LINE_HEIGHT + 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.color)
        painter.drawRoundedRect(header.adjusted(1, 1, -1, 0), 5, 5)
        painter.setPen(header_text)
        font = painter.font()
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(header.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter, self.name)
        painter.setFont(font)
        painter.setPen(fg)
        y = LINE_HEIGHT + 8
        for text in (self.type, self.params_text, f"{human_count(self.n_params)} params"):
            painter.drawText(QRectF(10, y, NODE_WIDTH - 20, LINE_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter, text)
            y += LINE_HEIGHT

    # ------------------------------------------------------------ moving
    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for e in self.edges:
                e.update_path()
        return super().itemChange(change, value)

    def center(self) -> QPointF:
        return self.pos() + self.rect.center()
