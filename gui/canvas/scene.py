"""The canvas scene: mirrors a document's graph through ``graph.events``.

Structural events (nodes and edges added/removed, renames, parameter changes,
moves) update items at once; the analysis (shapes, parameter counts,
problems) is applied when the document says it is up to date (``analysed``),
and only to items whose analysis result changed, so no analysis runs on paint.

Items are indexed with ``NoIndex`` and every item is also held in a Python
dict: with the default BSP index, PySide6 6.12 crashed building scenes of
≥ 2,000 items on our machines (the BSP tree is rebuilt while items are
inserted and moved), and items whose last Python reference goes away while
the scene still holds them can be collected under it.  Lookups by position
are linear with ``NoIndex``, which costs far less at these sizes than keeping
a BSP tree up to date while nodes are dragged.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPen, QColor
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QToolTip

from graph.graph import Edge, GraphEditError, Node
from graph.dims import format_shape
from graph.fixes import plan_fix

from .. import commands
from .edge_item import EdgeItem, curve, label_widths
from .fix_item import FixMarker
from .layout import layered_positions
from .node_item import NodeItem
from .overview import Overview
from .port_item import PortItem
from .style import NODE_HEIGHT, NODE_WIDTH, canvas_background


CELL = 256.0  # grid bucket size of the node-rectangle index (scene units)


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
        self.setBackgroundBrush(canvas_background(dark))
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.markers: list[FixMarker] = []
        self._results: dict[str, object] = {}
        self._problems: dict[str, tuple] = {}
        self._drag = None  # (start port, temp path item) while drawing an edge
        self._press_pos: dict[str, QPointF] = {}
        self.last_refusal: str | None = None
        self._closed = False
        self._reroute_pending = False
        self._rects: dict | None = None  # node rectangles by grid cell, while unchanged
        self.batch_moving = False  # a graph-driven move: edges are rerouted after it
        self._overview: Overview | None = None  # the far-out picture, while unchanged
        self.selectionChanged.connect(self.overview_changed)
        ev = self.graph.events
        self._subs = [(ev.node_added, self._node_added), (ev.node_removed, self._node_removed),
                      (ev.edge_added, self._edge_added), (ev.edge_removed, self._edge_removed),
                      (ev.param_changed, lambda n, _k: self._text_changed(n)),
                      (ev.node_renamed, self._text_changed), (ev.node_moved, self._node_moved)]
        for sig, cb in self._subs:
            sig.connect(cb)
        doc.analysed.connect(self.apply_analysis)
        for node in self.graph.nodes.values():
            self._node_added(node)
        for edge in self.graph.edges:
            self._edge_added(edge)
        self.apply_analysis()

    def close(self) -> None:
        """Unsubscribe and drop every item (before the scene is deleted)."""
        if self._closed:
            return
        self._closed = True
        for sig, cb in self._subs:
            sig.disconnect(cb)
        if shiboken6.isValid(self.doc):
            self.doc.analysed.disconnect(self.apply_analysis)
        self.clear()
        self.nodes.clear()
        self.edges.clear()
        self.markers.clear()

    def node_rects_in(self, area: QRectF) -> list:
        """``(node item, scene rectangle)`` of the nodes meeting ``area``.

        Long edges route around nodes; the rectangles sit in a grid of
        :data:`CELL`-sized buckets, built once per change (a node added,
        removed or moved), so a query costs what is near it, not the scene.
        """
        if self._rects is None:
            grid: dict[tuple[int, int], list] = {}
            for item in self.nodes.values():
                r = item.mapRectToScene(item.rect)
                entry = (item, r)
                for ix in range(int(r.left() // CELL), int(r.right() // CELL) + 1):
                    for iy in range(int(r.top() // CELL), int(r.bottom() // CELL) + 1):
                        grid.setdefault((ix, iy), []).append(entry)
            self._rects = grid
        grid = self._rects
        cells_x = range(int(area.left() // CELL), int(area.right() // CELL) + 1)
        cells_y = range(int(area.top() // CELL), int(area.bottom() // CELL) + 1)
        found: dict[int, tuple] = {}
        if len(cells_x) * len(cells_y) > len(grid):
            buckets = grid.values()  # a huge area: walk what exists instead
        else:
            buckets = [grid[c] for c in ((x, y) for x in cells_x for y in cells_y) if c in grid]
        for bucket in buckets:
            for entry in bucket:
                if id(entry[0]) not in found and entry[1].intersects(area):
                    found[id(entry[0])] = entry
        return list(found.values())

    def node_geometry_changed(self) -> None:
        """A node was added, removed or moved: the rectangles are stale."""
        self._rects = None
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

    # ------------------------------------------------------------ graph events
    def _node_added(self, node: Node) -> None:
        item = NodeItem(node, self.dark)
        if node.pos is not None:
            item.setPos(*node.pos)
        self.nodes[node.id] = item
        self._results.pop(node.id, None)
        self.node_geometry_changed()
        self.addItem(item)

    def _node_removed(self, node: Node) -> None:
        item = self.nodes.pop(node.id, None)
        self.node_geometry_changed()
        if item is not None:
            self.removeItem(item)
        self._results.pop(node.id, None)
        self._problems.pop(node.id, None)

    def _edge_added(self, edge: Edge) -> None:
        s, t = self.nodes[edge.source], self.nodes[edge.target]
        sp, tp = s.port(edge.source_port, True), t.port(edge.target_port, False)
        if sp is None or tp is None:
            return  # a broken edge in a loaded file: validation reports it
        item = EdgeItem(edge, sp, tp, self.dark)
        s.edges.append(item)
        t.edges.append(item)
        self.edges[edge] = item
        self._overview = None
        self.addItem(item)
        item.update_path()  # in the scene now: long edges can route around nodes
        self._results.pop(edge.source, None)  # relabel on the next analysis

    def _edge_removed(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is None:
            return
        self._overview = None
        for nid in (edge.source, edge.target):
            n = self.nodes.get(nid)
            if n is not None and item in n.edges:
                n.edges.remove(item)
        self.removeItem(item)

    def _text_changed(self, node: Node) -> None:
        self.nodes[node.id].refresh_text(node)
        self._overview = None

    def _node_moved(self, node: Node) -> None:
        item = self.nodes[node.id]
        if node.pos is not None and (item.pos().x(), item.pos().y()) != tuple(node.pos):
            # the edges wait for the reroute below: routing them now, while
            # half of a many-node move is done, would route each one many times
            self.batch_moving = True
            try:
                item.setPos(*node.pos)
            finally:
                self.batch_moving = False
            if not self._reroute_pending:
                # other edges may route around this node: redo all once the
                # whole (undoable, possibly many-node) move has been applied
                self._reroute_pending = True
                QTimer.singleShot(0, self, self.reroute)

    def reroute(self) -> None:
        """Recompute every edge's path (after nodes moved)."""
        self._reroute_pending = False
        if self._closed:
            return
        self._overview = None
        for item in self.edges.values():
            item.update_path()
        self._place_markers({k: list(v) for k, v in self._problems.items() if v})

    # ------------------------------------------------------------ analysis
    def apply_analysis(self) -> None:
        """Update labels, counts and problem marks whose analysis changed."""
        an = self.doc.view_analyzer
        self._overview = None  # problem marks may have changed
        by_node: dict[str, list] = {}
        for p in an.problems():
            if p.node is not None:
                by_node.setdefault(p.node, []).append(p)
        results = an.results
        for nid, item in self.nodes.items():
            r = results.get(nid)
            probs = tuple(by_node.get(nid, ()))
            changed = self._results.get(nid) is not r
            if changed or self._problems.get(nid) != probs:
                item.set_result(r.n_params if r else 0, list(probs))
                self._problems[nid] = probs
            if changed:
                self._results[nid] = r
                for e in item.edges:
                    if e.edge.source == nid:
                        tt = r.outs.get(e.edge.source_port) if r and r.outs else None
                        e.set_label(format_shape(tt.shape) if tt else "?", tt is None)
        self._place_markers(by_node)

    def _place_markers(self, by_node: dict[str, list]) -> None:
        for m in self.markers:
            self.removeItem(m)
        self.markers = []
        wanted = [(nid, p) for nid, probs in by_node.items() for p in probs
                  if p.fix and nid in self.nodes]
        if not wanted:
            return
        # badges also keep off the shape labels (skipped when there are very many)
        taken: list[QRectF] = ([e.label_rect() for e in self.edges.values()]
                               if len(wanted) * len(self.edges) <= 200_000 else [])
        for nid, p in wanted:
            marker = FixMarker(p, self.apply_fix)
            marker.setPos(self._marker_pos(nid, p, marker, taken))
            taken.append(marker.sceneBoundingRect())
            self.addItem(marker)
            self.markers.append(marker)

    def _marker_pos(self, nid: str, p, marker: FixMarker, taken: list[QRectF]) -> QPointF:
        """Where a quick-fix badge goes: an insert under the label of the edge
        it goes into, a parameter change above its node; never over a node
        (its ports and border), a shape label or another badge."""
        plan = plan_fix(self.graph, p)
        item = self.nodes[nid]
        half = marker.rect.height() / 2
        if plan is not None and plan.kind == "insert" and plan.edge in self.edges:
            edge = self.edges[plan.edge]
            label = edge.label_rect()
            at = QPointF(label.center().x(), label.bottom() + half + 3)
            ends = [edge.src.parentItem().sceneBoundingRect(), edge.dst.parentItem().sceneBoundingRect()]
        else:
            margin = item.pos().y() - item.sceneBoundingRect().top()  # the item's paint margin
            at = item.pos() + QPointF(item.rect.width() / 2, -margin - half - 3)
            ends = [item.sceneBoundingRect()]
        blocked = ends + taken
        for _ in range(len(blocked) + 1):
            rect = marker.rect.translated(at)
            hit = [r for r in blocked if r.intersects(rect)]
            if not hit:
                break
            at = QPointF(at.x(), max(r.bottom() for r in hit) + half + 3)
        return at

    def apply_fix(self, problem) -> None:
        cmd = commands.quick_fix(self.graph, problem)
        if cmd is None:
            self.message.emit("this quick fix no longer applies")
            return
        try:
            self.doc.undo.push(cmd)
        except GraphEditError as exc:
            self.message.emit(f"quick fix failed: {exc}")

    # ------------------------------------------------------------ editing helpers
    def add_block(self, type_name: str, pos: QPointF) -> str | None:
        """Add a block centred at ``pos`` (undoable); returns its id."""
        cmd, why = commands.add_block(self.doc, type_name,
                                      (pos.x() - NODE_WIDTH / 2, pos.y() - NODE_HEIGHT / 2))
        if cmd is None:
            self.message.emit(why)
            return None
        try:
            self.doc.undo.push(cmd)
        except GraphEditError as exc:
            self.message.emit(str(exc))
            return None
        self.clearSelection()
        self.nodes[cmd.node.id].setSelected(True)
        return cmd.node.id

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

    def auto_layout(self, view: tuple[float, float] | None = None) -> None:
        """Lay the network out (one undoable step), wrapped to fit ``view``
        (width, height) when given; see :mod:`gui.canvas.layout`."""
        pos = layered_positions(self.graph, label_widths(self.graph, self.doc.view_analyzer), view)
        moves = {nid: (self.graph.nodes[nid].pos, p) for nid, p in pos.items()
                 if self.graph.nodes[nid].pos != p}
        if moves:
            self.doc.undo.push(commands.Move(self.graph, moves, "Auto-layout", mergeable=False))

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
            self.doc.undo.push(commands.Move(self.graph, moves, "Nudge", mergeable=False))

    def select_nodes(self, ids) -> None:
        self.clearSelection()
        for nid in ids:
            if nid in self.nodes:
                self.nodes[nid].setSelected(True)

    # ------------------------------------------------------------ mouse: connect and move
    def _port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item
        return None

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            port = self._port_at(event.scenePos())
            if port is not None:
                temp = QGraphicsPathItem()
                temp.setPen(QPen(QColor(30, 120, 230), 1.8, Qt.PenStyle.DashLine))
                temp.setZValue(10)
                self.addItem(temp)
                self._drag = (port, temp)
                event.accept()
                return
        super().mousePressEvent(event)
        self._press_pos = {nid: self.nodes[nid].pos() for nid in self.selected_node_ids()}

    def mouseMoveEvent(self, event) -> None:
        if self._drag:
            port, temp = self._drag
            a, b = port.scenePos(), event.scenePos()
            temp.setPath(curve(a, b) if port.is_output else curve(b, a))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._drag:
            port, temp = self._drag
            self._drag = None
            self.removeItem(temp)
            target = self._port_at(event.scenePos())
            if target is not None and target is not port:
                self.try_connect(port, target, event.screenPos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        moves = {}
        for nid, old in self._press_pos.items():
            item = self.nodes.get(nid)
            if item is not None and item.pos() != old:
                moves[nid] = ((old.x(), old.y()), (item.pos().x(), item.pos().y()))
        self._press_pos = {}
        if moves:
            self.doc.undo.push(commands.Move(self.graph, moves))

    def try_connect(self, start: PortItem, end: PortItem, screen_pos=None) -> bool:
        """Connect two ports (dragged either way), or show why not."""
        src, dst = (end, start) if end.is_output and not start.is_output else (start, end)
        reason = self.graph.check_connect(src.node_id, dst.node_id, src.name, dst.name)
        if reason:
            self.last_refusal = reason
            self.message.emit(f"Cannot connect: {reason}")
            if screen_pos is not None:
                QToolTip.showText(screen_pos, f"Cannot connect: {reason}")
            return False
        self.last_refusal = None
        self.doc.undo.push(commands.Connect(self.graph, src.node_id, dst.node_id, src.name, dst.name))
        return True
