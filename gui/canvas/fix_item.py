"""A quick-fix marker: a small clickable badge on the offending edge or node
that applies a problem's ``fix`` through an undoable command."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from .style import canvas_font

BADGE_PX = 11


def fix_text(fix: dict) -> str:
    """The badge's words for a fix the graph proposed."""
    if fix.get("kind") == "insert":
        then = "".join(f" + {b.get('type')}" for b in fix.get("then") or ())
        return f"insert {fix.get('type')}{then}"
    if fix.get("kind") == "set_param":
        return f"set {fix.get('param')} = {fix.get('value')!r}"
    if fix.get("kind") == "rename":
        return f"rename to {fix.get('name')}"
    return "fix"


def fix_details(fix: dict) -> str:
    """The fix in full, for the tooltip (an insert's parameters included)."""
    if fix.get("kind") == "insert" and (fix.get("params") or fix.get("then")):
        blocks = [fix, *(fix.get("then") or ())]  # a chain: Flatten + Linear(out_features=10)
        calls = []
        for b in blocks:
            inner = ", ".join(f"{k}={v!r}" for k, v in (b.get("params") or {}).items())
            calls.append(f"{b.get('type')}({inner})")
        return "insert " + " + ".join(calls)
    return fix_text(fix)


class FixMarker(QGraphicsObject):
    """Clicking it calls ``on_click(problem)``."""

    def __init__(self, problem, on_click, parent: QGraphicsItem | None = None):
        super().__init__(parent)
        self.problem = problem
        self.on_click = on_click
        self.text = "⚡ " + fix_text(problem.fix)
        self.setZValue(5)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Quick fix: {fix_details(problem.fix)}\n{problem.message}")
        self.font = canvas_font(BADGE_PX)
        w = QFontMetricsF(self.font).horizontalAdvance(self.text) + 12
        self.rect = QRectF(-w / 2, -9, w, 18)

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter, option, widget=None) -> None:
        painter.setPen(QPen(QColor(160, 110, 0), 1))
        painter.setBrush(QColor(255, 236, 170))
        painter.drawRoundedRect(self.rect, 8, 8)
        painter.setFont(self.font)
        painter.setPen(QColor(60, 40, 0))
        painter.drawText(self.rect, Qt.AlignmentFlag.AlignCenter, self.text)

    def mousePressEvent(self, event) -> None:
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self.rect.contains(event.pos()):
            self.on_click(self.problem)
        event.accept()
