"""The canvas view: wheel zoom around the cursor, pan (middle button or
space-drag), rubber-band selection, fit all, and drops from the palette."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView

from .style import FIT_MARGIN

MIME_BLOCK = "application/x-netcanvas-block"
MIN_ZOOM, MAX_ZOOM = 0.05, 4.0
READABLE_ZOOM = 0.7  # node text is 12 scene px: below this it is under ~8 px, too small to read
MAX_FIT_ZOOM = 1.25  # a small network is not blown up beyond this


class CanvasView(QGraphicsView):
    """View of a :class:`~gui.canvas.scene.CanvasScene`."""

    def __init__(self, scene=None, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        # scroll bars coming or going must not shift what is in sight
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setAcceptDrops(True)
        self._pan_from: QPointF | None = None
        self._space = False
        # areas zoomed into beyond the network's edge: kept scrollable, so the
        # point under the cursor can stay put while zooming near an edge
        self._reach = QRectF()

    def setScene(self, scene) -> None:
        old = self.scene()
        if old is not None:
            try:
                old.sceneRectChanged.disconnect(self._scene_grew)
            except (RuntimeError, TypeError):
                pass
        super().setScene(scene)
        self._reach = QRectF()
        if scene is not None:
            scene.sceneRectChanged.connect(self._scene_grew)
        self._update_rect()

    def _scene_grew(self, _rect) -> None:
        # keep what is in sight now: a block dropped near the edge must not
        # make the canvas jump (a scene smaller than the view is re-centred)
        if self.isVisible():
            seen = self.mapToScene(self.viewport().rect()).boundingRect()
            self._reach = seen if self._reach.isNull() else self._reach.united(seen)
        self._update_rect()

    def _update_rect(self) -> None:
        """The scrollable area: the network, and what was in sight or zoomed
        into since the last fit."""
        scene = self.scene()
        rect = scene.sceneRect() if scene is not None else QRectF()
        if not self._reach.isNull():
            rect = rect.united(self._reach) if not rect.isNull() else QRectF(self._reach)
        if rect.isNull() and scene is not None:
            # an empty canvas: a null rect would make the view follow the
            # scene, and centre the first block dropped on it
            rect = self.mapToScene(self.viewport().rect()).boundingRect()
            self._reach = QRectF(rect)
        self.setSceneRect(rect)

    # ------------------------------------------------------------ zoom
    def zoom(self, factor: float) -> None:
        """Zoom about the view's centre (keyboard, toolbar)."""
        current = self.transform().m11()
        factor = max(MIN_ZOOM / current, min(MAX_ZOOM / current, factor))
        self.scale(factor, factor)

    def zoom_at(self, factor: float, pos: QPointF) -> None:
        """Zoom keeping the scene point under ``pos`` (viewport pixels) where it is.

        Done by hand rather than with ``AnchorUnderMouse``, which asks the
        global cursor position and so fails for synthetic events (tests,
        tablets, remote desktops).
        """
        anchor = self.mapToScene(pos.toPoint())
        current = self.zoom_level()
        new = max(MIN_ZOOM, min(MAX_ZOOM, current * factor))
        vp = self.viewport()
        w, h = vp.width() / new, vp.height() / new
        # what will be visible, with slack: a rect just the viewport's size
        # would leave the scroll bars no range to keep the anchor with
        target = QRectF(anchor.x() - pos.x() / new - w / 2, anchor.y() - pos.y() / new - h / 2,
                        2 * w, 2 * h)
        self._reach = target if self._reach.isNull() else self._reach.united(target)
        self._update_rect()
        self.zoom(new / current)
        moved = self.mapFromScene(anchor) - pos.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.zoom_at(1.0015 ** delta, event.position())  # 120 per notch → about 20 %
        event.accept()

    def zoom_level(self) -> float:
        return self.transform().m11()

    def fit_all(self) -> None:
        """Show every item, as large as fits (up to :data:`MAX_FIT_ZOOM`)."""
        rect = self.scene().itemsBoundingRect() if self.scene() else None
        if rect is None or rect.isEmpty():
            return
        if not self._reach.isNull():
            self._reach = QRectF()
            self._update_rect()
        m = FIT_MARGIN
        self.fitInView(rect.adjusted(-m, -m, m, m), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom_level() > MAX_FIT_ZOOM:
            self.resetTransform()
            self.scale(MAX_FIT_ZOOM, MAX_FIT_ZOOM)
            self.centerOn(rect.center())

    def show_network(self) -> None:
        """The view on opening: the whole network if it fits readably (the
        window lays new networks out to fit), else the inputs' end at the
        smallest readable zoom, the rest a scroll away."""
        self.fit_all()
        rect = self.scene().itemsBoundingRect() if self.scene() else None
        if rect is None or rect.isEmpty() or self.zoom_level() >= READABLE_ZOOM - 1e-6:
            return
        self.resetTransform()
        self.scale(READABLE_ZOOM, READABLE_ZOOM)
        half_w = self.viewport().width() / READABLE_ZOOM / 2
        half_h = self.viewport().height() / READABLE_ZOOM / 2
        y = rect.center().y() if rect.height() < 2 * half_h else rect.top() - FIT_MARGIN + half_h
        self.centerOn(rect.left() - FIT_MARGIN + half_w, y)

    def center_on_node(self, item) -> None:
        self.centerOn(item.center())

    # ------------------------------------------------------------ pan
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            d = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(d.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(d.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ------------------------------------------------------------ drops from the palette
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME_BLOCK):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME_BLOCK):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        data = event.mimeData()
        if data.hasFormat(MIME_BLOCK):
            type_name = bytes(data.data(MIME_BLOCK)).decode()
            self.scene().add_block(type_name, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        else:
            super().dropEvent(event)
