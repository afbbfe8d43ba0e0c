"""An edge: a cubic curve from an output port to an input port, labelled
with the tensor shape that flows along it (``N×16×8×8``)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from graph.graph import Edge

from .port_item import PortItem

_FONT = QFont()
_FONT.setPointSizeF(max(6.0, _FONT.pointSizeF() - 1))


def curve(a: QPointF, b: QPointF) -> QPainterPath:
    """A left-to-right cubic curve between two points."""
    path = QPainterPath(a)
    dx = max(40.0, abs(b.x() - a.x()) / 2)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


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
        self.update_path()

    def set_label(self, text: str, error: bool = False) -> None:
        if text != self.label or error != self.error:
            self.label, self.error = text, error
            self.update_path()

    def update_path(self) -> None:
        self.prepareGeometryChange()
        a, b = self.src.scenePos(), self.dst.scenePos()
        self._path = curve(a, b)
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        self._shape = stroker.createStroke(self._path)
        mid = self._path.pointAtPercent(0.5)
        w = QFontMetricsF(_FONT).horizontalAdvance(self.label) + 8
        self._label_rect = QRectF(mid.x() - w / 2, mid.y() - 18, w, 15)
        self._bounds = self._path.boundingRect().united(self._label_rect).adjusted(-6, -6, 6, 6)
        self.update()

    def midpoint(self) -> QPointF:
        return self._path.pointAtPercent(0.5)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter, option, widget=None) -> None:
        base = QColor(170, 170, 175) if self.dark else QColor(90, 90, 95)
        color = QColor(30, 120, 230) if self.isSelected() else base
        painter.setPen(QPen(color, 2.0 if self.isSelected() else 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label:
            painter.setFont(_FONT)
            painter.setPen(QColor(220, 50, 47) if self.error else
                           (QColor(200, 200, 205) if self.dark else QColor(40, 40, 120)))
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)
