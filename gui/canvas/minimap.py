"""The minimap: an overview of the whole network in a corner of the canvas,
with the part the view shows outlined.  Pressing or dragging in it centres
the view on that point.

It paints the scene's batched far-out picture (:mod:`gui.canvas.overview`),
scaled to fit, so it costs a few milliseconds even for thousands of blocks;
scene changes repaint it at most every :data:`REFRESH_MS`.  It appears only
while the network does not fit in the view (there is nothing to navigate
otherwise) and while the user keeps it switched on (View → Minimap, a
choice remembered in the settings).

It takes at most :data:`FRACTION` of the view's width and height (up to
:data:`MAX_SIZE`), so a small window keeps most of its canvas; in a view too
small for a legible overview (narrower than :data:`MIN_WIDTH` at that
fraction) it stays hidden.  It sits in the bottom-right corner, or in the
first other corner where it covers none of the selected blocks (the ones
the user is working on), or else where it covers the least of them.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QTransform
from PySide6.QtWidgets import QFrame

from ..recovery import data_dir

MAX_SIZE = (220, 150)  # px: the largest it gets (its shape is always this one)
#: the most of the view's width (and height) it takes
FRACTION = 0.2
#: narrower than this it would be too small to read: hidden instead
MIN_WIDTH = 100
MARGIN = 10  # px from the canvas corner
REFRESH_MS = 100
PAD = 6  # px inside the frame
SETTING = "canvas/minimap"
#: the selection is looked at for where to sit only up to this many blocks
#: (a select-all of thousands leaves no corner free anyway)
MAX_AVOIDED = 200


def _settings() -> QSettings:
    # the app's one settings file (as gui.canvas.layout opens it)
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def remembered() -> bool:
    """Whether the user last left the minimap on (View → Minimap; default on)."""
    return str(_settings().value(SETTING, "true")).lower() not in ("false", "0")


def size_for(width: int, height: int) -> tuple[int, int] | None:
    """The minimap's size in a viewport of ``width`` × ``height`` px, or
    None when the view is too small for one (see the module docstring)."""
    mw, mh = MAX_SIZE
    w = min(mw, FRACTION * width, FRACTION * height * mw / mh)
    if w < MIN_WIDTH:
        return None
    return int(w), int(w * mh / mw)


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
        self.setFixedSize(*MAX_SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self.enabled = remembered()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.hide()

    def set_enabled(self, on: bool) -> None:
        """Switch the minimap on or off (View → Minimap); remembered."""
        self.enabled = on
        _settings().setValue(SETTING, "true" if on else "false")
        self.refresh()

    def schedule(self, *_args) -> None:
        """The scene changed: refresh soon (changes arrive in bursts while dragging)."""
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self, *_args) -> None:
        """Show or hide for the current view, place in the corner and repaint."""
        scene = self.view.scene()
        vp = self.view.viewport().geometry()
        size = size_for(vp.width(), vp.height())
        wanted = bool(self.enabled and size is not None and scene is not None
                      and hasattr(scene, "overview") and scene.nodes
                      and not self._visible_rect().contains(self._world()))
        if wanted:
            if size != (self.width(), self.height()):
                self.setFixedSize(*size)
            self.move(self._corner(vp))
        if wanted != self.isVisible():
            self.setVisible(wanted)
        if wanted:
            self.raise_()
            self.update()

    # ------------------------------------------------------------ geometry
    def _corner(self, vp: QRect) -> QPoint:
        """Where to sit in the viewport ``vp`` (view coordinates): see the
        module docstring."""
        w, h = self.width(), self.height()
        left, right = vp.left() + MARGIN, vp.right() - w - MARGIN + 1
        top, bottom = vp.top() + MARGIN, vp.bottom() - h - MARGIN + 1
        corners = [QPoint(right, bottom), QPoint(left, bottom), QPoint(right, top),
                   QPoint(left, top)]
        blocks = self._selected_rects(vp)
        if not blocks:
            return corners[0]

        def covered(at: QPoint) -> int:
            box = QRect(at, self.size())
            return sum(r.intersected(box).width() * r.intersected(box).height()
                       for r in blocks if r.intersects(box))
        return min(corners, key=covered)  # the first of the least covered

    def _selected_rects(self, vp: QRect) -> list[QRect]:
        """The selected blocks in sight, in view coordinates."""
        scene = self.view.scene()
        if scene is None or not hasattr(scene, "selected_node_ids"):
            return []
        ids = scene.selected_node_ids()
        if len(ids) > MAX_AVOIDED:
            return []
        out = []
        for nid in ids:
            item = scene.nodes.get(nid)
            if item is None:
                continue
            r = self.view.mapFromScene(item.sceneBoundingRect()).boundingRect()
            r = r.translated(vp.topLeft()).intersected(vp)
            if not r.isEmpty():
                out.append(r)
        return out

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
