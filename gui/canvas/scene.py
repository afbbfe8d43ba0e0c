"""The canvas scene: mirrors a document's graph through ``graph.events``.

Structural events (nodes and edges added/removed, renames, parameter changes,
moves) update items at once; the analysis (shapes, parameter counts,
problems) is applied when the document says it is up to date (``analysed``):
see :mod:`gui.canvas.analysis_view`.  The scene is composed of small parts
that each hold one job: the items kept in step with the graph
(:mod:`gui.canvas.scene_mirror`), which blocks and ports meet an area
(:mod:`gui.canvas.node_grid`), when edges are routed
(:mod:`gui.canvas.route_queue`), a block dragged (:mod:`gui.canvas.scene_drag`)
and an edge drawn (:mod:`gui.canvas.edge_drawing`) with the mouse, and a new
block put down or on an edge (:mod:`gui.canvas.block_insert`).

Items are indexed with ``NoIndex`` and every item is also held in a Python
dict: with the default BSP index, PySide6 6.12 crashed building scenes of
≥ 2,000 items on our machines (the BSP tree is rebuilt while items are
inserted and moved), and items whose last Python reference goes away while
the scene still holds them can be collected under it.  Lookups by position
are linear with ``NoIndex``, which costs far less at these sizes than keeping
a BSP tree up to date while nodes are dragged.
"""

from __future__ import annotations

import contextlib
import gc

import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPen, QColor
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QToolTip

from graph.graph import Edge

from .. import commands
from . import block_insert, layout
from .analysis_view import AnalysisView
from .edge_drawing import EdgeDrawing
from .edge_item import EdgeItem, label_widths
from .fix_item import FixMarker
from .layout import layered_positions
from .node_grid import CELL, NodeGrid
from .node_item import NodeItem
from .overview import Overview
from .port_item import PortItem
from .route_queue import ROUTE_BATCH_S, ROUTE_NOW_MAX, RouteQueue
from .scene_drag import BlockDrag
from .scene_mirror import GraphMirror
from .style import canvas_background

__all__ = ["CELL", "ROUTE_BATCH_S", "ROUTE_NOW_MAX", "CanvasScene", "DROP_COLOR",
           "long_lived_objects"]

#: the highlight of the edge a dragged palette block would be inserted on
DROP_COLOR = QColor(30, 120, 230, 110)


@contextlib.contextmanager
def long_lived_objects():
    """Build objects that live as long as the scene without the cyclic
    garbage collector scanning them over and over.

    Opening a network makes a few hundred thousand objects (items, their
    rectangles and paths) that all stay alive: every collection on the way
    scanned them all again and found nothing (about 10 % of a 5,000-block
    open), and as they aged through the collector's generations they set off
    full collections of everything.  The collector is paused while they are
    made, and then everything alive goes straight to its oldest generation
    (``gc.freeze`` then ``gc.unfreeze``: no scan, and no full collection is
    due for it).  Nothing is kept from the collector: a closed network's
    cycles are collected as before, and reference counting frees whatever
    is dropped meanwhile.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was:
            gc.enable()


class CanvasScene(QGraphicsScene):
    """Scene of one document (see the module docstring).

    Signals:
        message(str): a short status text (e.g. why a connection was refused).
        node_double_clicked(str): a node's id.
    """

    message = Signal(str)
    #: a block was double-clicked (an instance opens its unit)
    node_double_clicked = Signal(str)

    def __init__(self, doc, dark: bool = False, parent=None):
        super().__init__(parent)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.doc = doc
        self.graph = doc.current_graph  # the project's network, or an opened unit's
        self.dark = dark
        # ports on top and bottom, unless the saved positions read left to
        # right (known once the items, and so the blocks' sizes, exist below)
        self.vertical = layout.direction() == "TB"
        self.setBackgroundBrush(canvas_background(dark))
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self._closed = False
        self._grid = NodeGrid(self.nodes)
        self._routing = RouteQueue(self)
        self._analysis = AnalysisView(self)
        self._block_drag = BlockDrag(self)
        self._edge_drawing = EdgeDrawing(self)
        self._overview: Overview | None = None  # the far-out picture, while unchanged
        self._drop_mark: QGraphicsPathItem | None = None  # the edge a drop would go on
        self.selectionChanged.connect(self.overview_changed)
        self._mirror = GraphMirror(self, self._analysis, self._routing)
        doc.analysed.connect(self.apply_analysis)
        opening = len(self.graph.edges) > ROUTE_NOW_MAX
        with long_lived_objects():
            for node in self.graph.nodes.values():
                self._mirror.node_added(node)
            sizes = {nid: (item.rect.width(), item.rect.height())
                     for nid, item in self.nodes.items()}
            if (layout.flow_of(self.graph, sizes=sizes) == "TB") != self.vertical:
                self.vertical = not self.vertical
                for item in self.nodes.values():
                    item.set_vertical(self.vertical)
            for edge in self.graph.edges:
                self._mirror.edge_added(edge, opening)
            self._routing.start()
            self.apply_analysis()

    def close(self) -> None:
        """Unsubscribe and drop every item (before the scene is deleted)."""
        if self._closed:
            return
        self._closed = True
        self._routing.close()
        self._mirror.follow(False)
        if shiboken6.isValid(self.doc):
            self.doc.analysed.disconnect(self.apply_analysis)
        self.clear()
        self._drop_mark = None
        self._overview = None  # it holds the (now deleted) items
        self.nodes.clear()
        self.edges.clear()
        self.markers.clear()

    @property
    def markers(self) -> list[FixMarker]:
        """The quick-fix badges on the canvas."""
        return self._analysis.markers

    @property
    def last_refusal(self) -> str | None:
        """Why the last edge drawn was refused (None: it was connected)."""
        return self._edge_drawing.last_refusal

    def node_rects_in(self, area: QRectF) -> list:
        """``(node item, scene rectangle)`` of the nodes meeting ``area``
        (see :mod:`gui.canvas.node_grid`)."""
        return self._grid.rects_in(area)

    def node_geometry_changed(self) -> None:
        """A node was added, removed or moved: the rectangles are stale."""
        self._grid.invalidate()
        self._overview = None

    def overview(self) -> Overview:
        """The batched far-out picture (see :mod:`gui.canvas.overview`), built
        on first use after a change."""
        if self._overview is None:
            self._overview = Overview(self)
        return self._overview

    def overview_changed(self) -> None:
        """Something the far-out picture shows changed: rebuild it when next asked."""
        self._overview = None

    # ------------------------------------------------------------ routing
    def unrouted_count(self) -> int:
        """How many edges still have their provisional path."""
        return self._routing.unrouted_count()

    def route_in(self, area: QRectF) -> None:
        """Route the provisional edges that reach into ``area`` now (they are
        about to be painted at a readable zoom)."""
        self._routing.route_in(area)

    def reroute(self, follow_positions: bool = True) -> None:
        """Recompute every edge's path (after nodes moved).

        Args:
            follow_positions: an undone or redone layout may have turned the
                network round: put the ports the other way when the positions
                now read only that way.
        """
        if self._closed:
            return
        self._routing.clear()  # every edge is routed below
        self._overview = None
        if follow_positions:
            flow = layout.flow_of(self.graph, "TB" if self.vertical else "LR")
            if (flow == "TB") != self.vertical:
                self.vertical = flow == "TB"
                for node in self.nodes.values():
                    node.set_vertical(self.vertical)
        for item in self.edges.values():
            item.update_path()
        self._analysis.replace_markers()

    # ------------------------------------------------------------ analysis
    def apply_analysis(self) -> None:
        """Update labels, counts and problem marks whose analysis changed."""
        self._analysis.apply()

    def apply_fix(self, problem) -> None:
        """Apply ``problem``'s quick fix (one undo step), or say why not."""
        self._analysis.apply_fix(problem)

    # ------------------------------------------------------------ editing helpers
    def add_block(self, type_name: str, pos: QPointF) -> str | None:
        """Add a block centred at ``pos`` (undoable); returns its id (None:
        refused, with a status message)."""
        return block_insert.add_block(self, type_name, pos)

    def insert_refusal(self, type_name: str, edge: Edge) -> str | None:
        """Why a block of ``type_name`` cannot go on ``edge``, or None when it
        can (see :func:`gui.canvas.block_insert.insert_refusal`)."""
        return block_insert.insert_refusal(self, type_name, edge)

    def insert_on_edge(self, type_name: str, edge: Edge) -> str | None:
        """Insert a block of ``type_name`` on ``edge`` in one undo step (see
        :func:`gui.canvas.block_insert.insert_on_edge`).

        Returns:
            The new block's id, or None (refused, with a status message).
        """
        return block_insert.insert_on_edge(self, type_name, edge)

    def edge_at(self, pos: QPointF, slack: float = 6.0) -> EdgeItem | None:
        """The edge whose line passes within ``slack`` of ``pos`` (scene), or None."""
        area = QRectF(pos.x() - slack, pos.y() - slack, 2 * slack, 2 * slack)
        for item in self.items(area):
            if isinstance(item, NodeItem):
                return None  # over a block: a drop there is no insert
            if isinstance(item, EdgeItem) and item.shape().intersects(area):
                return item
        return None

    def mark_drop_edge(self, item: EdgeItem | None) -> None:
        """Highlight the edge a dragged block would be inserted on (None: none)."""
        if item is None:
            if self._drop_mark is not None:
                self.removeItem(self._drop_mark)
                self._drop_mark = None
            return
        if self._drop_mark is None:
            self._drop_mark = QGraphicsPathItem()
            self._drop_mark.setPen(QPen(DROP_COLOR, 6, Qt.PenStyle.SolidLine,
                                        Qt.PenCapStyle.RoundCap))
            self._drop_mark.setZValue(-0.5)  # over the edges (-1), under the blocks (0)
            self.addItem(self._drop_mark)
        self._drop_mark.setPath(item.path())
        self._drop_mark.edge = item.edge

    def set_dark(self, dark: bool) -> None:
        """Re-style every item for a light or dark canvas (the theme changed)."""
        if dark == self.dark:
            return
        self.dark = dark
        self._overview = None
        self.setBackgroundBrush(canvas_background(dark))
        for item in self.nodes.values():
            item.set_dark(dark)
        for item in self.edges.values():
            item.set_dark(dark)

    def set_vertical(self, vertical: bool) -> None:
        """Put the ports for a network flowing top to bottom (or left to right)."""
        if vertical == self.vertical:
            return
        self.vertical = vertical
        for item in self.nodes.values():
            item.set_vertical(vertical)
        self.reroute(follow_positions=False)  # the layout that follows moves the blocks

    def auto_layout(self, view: tuple[float, float] | None = None) -> None:
        """Lay the network out (one undoable step) in the user's direction,
        with the items' real sizes; see :mod:`gui.canvas.layout`."""
        flow = layout.direction()
        self.set_vertical(flow == "TB")
        sizes = {nid: (item.rect.width(), item.rect.height()) for nid, item in self.nodes.items()}
        pos = layered_positions(self.graph, label_widths(self.graph, self.doc.view_analyzer), view,
                                sizes, flow)
        moves = {nid: (self.graph.nodes[nid].pos, p) for nid, p in pos.items()
                 if self.graph.nodes[nid].pos != p}
        if moves:
            self.doc.push(commands.Move(self.graph, moves, "Auto-layout", mergeable=False))

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def nudge_selection(self, dx: float, dy: float) -> None:
        """Move the selected blocks by (dx, dy): one undo step per call (an
        arrow key press), never merged with the one before."""
        moves = {}
        for nid in self.selected_node_ids():
            p = self.nodes[nid].pos()
            moves[nid] = ((p.x(), p.y()), (p.x() + dx, p.y() + dy))
        if moves:
            self.doc.push(commands.Move(self.graph, moves, "Nudge", mergeable=False))

    def select_nodes(self, ids) -> None:
        self.clearSelection()
        for nid in ids:
            if nid in self.nodes:
                self.nodes[nid].setSelected(True)

    # ------------------------------------------------------------ mouse: connect and move
    def port_at(self, pos: QPointF) -> PortItem | None:
        """The port whose circle is under ``pos`` (scene), or None (see
        :meth:`gui.canvas.node_grid.NodeGrid.port_at`)."""
        return self._grid.port_at(pos)

    def helpEvent(self, event) -> None:
        """The tooltip of a port or a block: both make theirs when asked
        (ports are not items, and a block's text would cost thousands of
        tooltips made on open); other items show their own."""
        port = self.port_at(event.scenePos())
        text = port.tooltip() if port is not None else None
        if text is None:
            top = next(iter(self.items(event.scenePos())), None)
            if not isinstance(top, NodeItem):
                super().helpEvent(event)
                return
            text = top.toolTip()
        QToolTip.showText(event.screenPos(), text)
        event.accept()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            port = self.port_at(event.scenePos())
            if port is not None:
                self._edge_drawing.start(port)
                event.accept()
                return
        super().mousePressEvent(event)
        self._block_drag.pressed()

    def mouseMoveEvent(self, event) -> None:
        if self._edge_drawing.active:
            self._edge_drawing.move(event.scenePos())
            event.accept()
            return
        if event.buttons() == Qt.MouseButton.NoButton:
            self._edge_drawing.hover(event.scenePos())
        super().mouseMoveEvent(event)
        if self._block_drag.active and event.buttons() & Qt.MouseButton.LeftButton:
            self._block_drag.follow()

    def mouseReleaseEvent(self, event) -> None:
        if self._edge_drawing.active:
            self._edge_drawing.finish(event.scenePos(), event.screenPos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._block_drag.released()
