"""The canvas view: wheel zoom around the cursor, pan (middle button or
space-drag), rubber-band selection, fit all, zoom to the selection, find a
block (Ctrl+F), arrow keys nudging the selected blocks, and drops from the
palette (onto an edge whose tensor the block can take: inserted on it, the
edge lit while the block hovers over it)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView

from .context_menu import CanvasMenus
from .find_bar import FindBar
from .minimap import Minimap
from .style import FIT_MARGIN, SIMPLE_LOD

MIME_BLOCK = "application/x-netcanvas-block"
MIN_ZOOM, MAX_ZOOM = 0.05, 4.0
READABLE_ZOOM = 0.7  # node text is 12 scene px: below this it is under ~8 px, too small to read
MAX_FIT_ZOOM = 1.25  # a small network is not blown up beyond this
NUDGE, FINE_NUDGE = 10.0, 1.0  # scene px an arrow key moves the selection (Shift: fine)
_ARROWS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
           Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}


class CanvasView(QGraphicsView):
    """View of a :class:`~gui.canvas.scene.CanvasScene`.

    Signals:
        found(str): a block was jumped to from the find box.
        show_in_code(str): a block's context menu asked to see its code.
    """

    found = Signal(str)
    show_in_code = Signal(str)

    def __init__(self, scene=None, parent=None):
        super().__init__(scene, parent)
        self.find_bar = FindBar(self)
        self.find_bar.chosen.connect(self.jump_to)
        self.minimap = Minimap(self)
        self.menus = CanvasMenus(self)
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.valueChanged.connect(self.minimap.refresh)
            bar.rangeChanged.connect(self.minimap.refresh)
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
                old.changed.disconnect(self.minimap.schedule)
                old.selectionChanged.disconnect(self.minimap.refresh)
            except (RuntimeError, TypeError):
                pass
        super().setScene(scene)
        # moves without a button reach the scene, which shows the cross
        # cursor over a port (ports are drawn by their blocks: no item of
        # theirs has a cursor that would make Qt track the mouse)
        self.viewport().setMouseTracking(True)
        self._reach = QRectF()
        if scene is not None:
            scene.sceneRectChanged.connect(self._scene_grew)
            scene.changed.connect(self.minimap.schedule)
            # the minimap keeps off the selected blocks (see gui.canvas.minimap)
            scene.selectionChanged.connect(self.minimap.refresh)
        self._update_rect()
        self.minimap.refresh()

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
        self.center_on(item.center())

    def center_on(self, point: QPointF) -> None:
        """Centre the view on a scene point, even one near the network's edge
        (the scrollable area grows to allow it)."""
        z = self.zoom_level()
        w, h = self.viewport().width() / z, self.viewport().height() / z
        around = QRectF(point.x() - w, point.y() - h, 2 * w, 2 * h)
        self._reach = around if self._reach.isNull() else self._reach.united(around)
        self._update_rect()
        self.centerOn(point)

    def zoom_to_selection(self) -> bool:
        """Fit the selected blocks in the view (no closer than :data:`MAX_FIT_ZOOM`);
        False when nothing is selected."""
        scene = self.scene()
        items = [scene.nodes[nid] for nid in scene.selected_node_ids()] if scene else []
        if not items:
            return False
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        m = FIT_MARGIN
        rect = rect.adjusted(-m, -m, m, m)
        self._reach = rect if self._reach.isNull() else self._reach.united(rect)
        self._update_rect()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom_level() > MAX_FIT_ZOOM:
            self.resetTransform()
            self.scale(MAX_FIT_ZOOM, MAX_FIT_ZOOM)
        self.center_on(rect.center())
        return True

    # ------------------------------------------------------------ find
    def open_find(self) -> None:
        """Show the find box over the canvas (Ctrl+F)."""
        if self.scene() is None:
            return
        self._place_find_bar()
        self.find_bar.open(self.scene().graph.nodes.values())

    def _place_find_bar(self) -> None:
        vp = self.viewport().geometry()
        self.find_bar.move(vp.left() + max(8, (vp.width() - self.find_bar.width()) // 2), vp.top() + 8)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.find_bar.isVisible():
            self._place_find_bar()
        self.minimap.refresh()

    def jump_to(self, node_id: str) -> None:
        """Select a block and centre the view on it (zoomed in to a readable size)."""
        scene = self.scene()
        item = scene.nodes.get(node_id) if scene is not None else None
        if item is None:
            return
        scene.select_nodes([node_id])
        if self.zoom_level() < READABLE_ZOOM:
            self.zoom(READABLE_ZOOM / self.zoom_level())
        self.center_on_node(item)
        self.found.emit(node_id)

    # ------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:
        """Far out (below :data:`SIMPLE_LOD`), paint the scene's batched
        overview instead of every item: see :mod:`gui.canvas.overview`."""
        scene = self.scene()
        lod = self.zoom_level()
        if scene is None or lod >= SIMPLE_LOD or not hasattr(scene, "overview"):
            if scene is not None and hasattr(scene, "route_in"):
                # readable: an edge in sight is painted on its real route
                scene.route_in(self.mapToScene(event.rect()).boundingRect())
            super().paintEvent(event)
            return
        painter = QPainter(self.viewport())
        painter.fillRect(event.rect(), scene.backgroundBrush())
        painter.setTransform(self.viewportTransform())
        exposed = self.mapToScene(event.rect()).boundingRect()
        scene.overview().paint(painter, exposed, lod)
        painter.resetTransform()
        band = self.rubberBandRect()
        if not band.isNull():
            painter.setPen(QPen(QColor(30, 120, 230), 1))
            painter.setBrush(QColor(30, 120, 230, 40))
            painter.drawRect(band)
        painter.end()

    def contextMenuEvent(self, event) -> None:
        menu = self.menus.menu_at(event.pos())
        if menu is not None:
            menu.exec(event.globalPos())
        event.accept()

    # ------------------------------------------------------------ pan
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            event.accept()
            return
        if event.key() in _ARROWS and self.scene() is not None and self.scene().selected_node_ids():
            dx, dy = _ARROWS[event.key()]
            fine = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            step = FINE_NUDGE if fine else NUDGE
            self.scene().nudge_selection(dx * step, dy * step)
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
            # over an edge the block fits on: the edge lights up (a drop inserts it)
            self.scene().mark_drop_edge(self._drop_edge(event))
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dragLeaveEvent(self, event) -> None:
        if self.scene() is not None:
            self.scene().mark_drop_edge(None)
        super().dragLeaveEvent(event)

    def _drop_edge(self, event):
        """The edge under a drag that its block would be inserted on, or None."""
        scene = self.scene()
        item = scene.edge_at(self.mapToScene(event.position().toPoint()), 6 / self.zoom_level())
        if item is None:
            return None
        type_name = bytes(event.mimeData().data(MIME_BLOCK)).decode()
        return item if scene.insert_refusal(type_name, item.edge) is None else None

    def dropEvent(self, event) -> None:
        data = event.mimeData()
        if data.hasFormat(MIME_BLOCK):
            scene = self.scene()
            type_name = bytes(data.data(MIME_BLOCK)).decode()
            target = self._drop_edge(event)
            scene.mark_drop_edge(None)
            if target is not None:
                scene.insert_on_edge(type_name, target.edge)
            else:
                scene.add_block(type_name, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        else:
            super().dropEvent(event)
