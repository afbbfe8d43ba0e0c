"""The minimap: an overview of the whole network in a corner of the canvas,
with the part the view shows outlined.  Pressing or dragging in it centres
the view on that point.

It paints the scene's batched far-out picture (:mod:`gui.canvas.overview`),
scaled to fit, so it costs a few milliseconds even for thousands of blocks;
scene changes repaint it at most every :data:`REFRESH_MS`.  It appears only
while the network does not fit in the view (there is nothing to navigate
otherwise) and while the user keeps it switched on (View → Minimap).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QTransform
from PySide6.QtWidgets import QFrame

SIZE = (220, 150)  # px
MARGIN = 10  # px from the canvas corner
REFRESH_MS = 100
PAD = 6  # px inside the frame


class Minimap(QFrame):
    """The overview widget, a child of the canvas view.

    Args:
        view: the :class:`~gui.canvas.view.CanvasView` it navigates.
    """

    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.setObjectName("minimap")
        self.setFrameShape(QFrame.Shape.Box)
        self.setFixedSize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self.enabled = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.hide()

    def set_enabled(self, on: bool) -> None:
        """Switch the minimap on or off (View → Minimap)."""
        self.enabled = on
        self.refresh()

    def schedule(self, *_args) -> None:
        """The scene changed: refresh soon (changes arrive in bursts while dragging)."""
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self, *_args) -> None:
        """Show or hide for the current view, place in the corner and repaint."""
        scene = self.view.scene()
        wanted = bool(self.enabled and scene is not None and hasattr(scene, "overview")
                      and scene.nodes and not self._visible_rect().contains(self._world()))
        vp = self.view.viewport().geometry()
        self.move(vp.right() - self.width() - MARGIN + 1, vp.bottom() - self.height() - MARGIN + 1)
        if wanted != self.isVisible():
            self.setVisible(wanted)
        if wanted:
            self.raise_()
            self.update()

    # ------------------------------------------------------------ geometry
    def _visible_rect(self) -> QRectF:
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    def _world(self) -> QRectF:
        """The scene area the minimap shows: the network (its items)."""
        scene = self.view.scene()
        return scene.overview().bounds if scene is not None else QRectF()

    def _transform(self) -> QTransform:
        """Scene → minimap pixels: the network fitted, centred, aspect kept."""
        world = self._world()
        inner = QRectF(self.rect()).adjusted(PAD, PAD, -PAD, -PAD)
        if world.isEmpty():
            return QTransform()
        s = min(inner.width() / world.width(), inner.height() / world.height())
        dx = inner.left() + (inner.width() - world.width() * s) / 2 - world.left() * s
        dy = inner.top() + (inner.height() - world.height() * s) / 2 - world.top() * s
        return QTransform(s, 0, 0, s, dx, dy)

    def scene_point(self, pos: QPointF) -> QPointF:
        """The scene point under a minimap position."""
        inverted, _ok = self._transform().inverted()
        return inverted.map(QPointF(pos))

    def visible_outline(self) -> QRectF:
        """The view's visible area, in minimap pixels (clipped to the minimap)."""
        return self._transform().mapRect(self._visible_rect()).intersected(QRectF(self.rect()))

    # ------------------------------------------------------------ painting and mouse
    def paintEvent(self, event) -> None:
        scene = self.view.scene()
        painter = QPainter(self)
        painter.fillRect(self.rect(), scene.backgroundBrush() if scene is not None else QColor("white"))
        if scene is not None and hasattr(scene, "overview"):
            t = self._transform()
            painter.setTransform(t)
            scene.overview().paint(painter, self._world(), t.m11(), names=False)
            painter.resetTransform()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(QPen(QColor(30, 120, 230), 1.5))
            painter.setBrush(QColor(30, 120, 230, 40))
            painter.drawRect(self.visible_outline())
        painter.end()
        super().paintEvent(event)  # the frame

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.view.center_on(self.scene_point(event.position()))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.center_on(self.scene_point(event.position()))
            event.accept()
            return
        super().mouseMoveEvent(event)
