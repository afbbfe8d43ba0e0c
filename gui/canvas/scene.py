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

import contextlib
import functools
import gc
import time

import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPen, QColor
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QToolTip

from graph.graph import Edge, GraphEditError, Node
from graph.dims import format_shape
from graph import unit_library
from graph.fixes import plan_fix
from graph.placement import PLACE_GAP, make_room

from .. import commands
from .edge_item import EdgeItem, curve, label_width, label_widths
from .fix_item import FixMarker
from . import layout
from .layout import layered_positions
from .node_item import NodeItem
from .overview import Overview
from .port_item import HIT_RADIUS, PortItem
from .style import NODE_HEIGHT, NODE_WIDTH, canvas_background

_ORIGIN = (0.0, 0.0)  # where a block without a position stands
#: the highlight of the edge a dragged palette block would be inserted on
DROP_COLOR = QColor(30, 120, 230, 110)


CELL = 256.0  # grid bucket size of the node-rectangle index (scene units)
#: a network opened with more edges than this shows them as plain curves
#: first and routes them round the blocks in idle batches (those in sight at
#: a readable zoom before they are painted): routing 5,000 edges takes seconds
ROUTE_NOW_MAX = 200
#: the longest an idle batch of routing may hold the event loop (seconds)
ROUTE_BATCH_S = 0.012


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


@functools.lru_cache(maxsize=4096)
def _shape_text(shape: tuple) -> str:
    """A shape label's text (a large network repeats a few shapes thousands of times)."""
    return format_shape(shape)


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
        self.markers: list[FixMarker] = []
        self._results: dict[str, object] = {}
        self._problems: dict[str, tuple] = {}
        self._drag = None  # (start port, temp path item) while drawing an edge
        self._press_pos: dict[str, QPointF] = {}
        self._drag_pos: dict[str, QPointF] = {}  # where a drag's blocks were at its last step
        self.last_refusal: str | None = None
        self._closed = False
        self._reroute_pending = False
        self._dropped: list[QRectF] = []  # blocks a drag just put down (see _node_moved)
        self._rects: dict | None = None  # node rectangles by grid cell, while unchanged
        self._overview: Overview | None = None  # the far-out picture, while unchanged
        self._drop_mark: QGraphicsPathItem | None = None  # the edge a drop would go on
        self._over_port = False  # the mouse hovers a port (the cross cursor is shown)
        self.selectionChanged.connect(self.overview_changed)
        ev = self.graph.events
        self._subs = [(ev.node_added, self._node_added), (ev.node_removed, self._node_removed),
                      (ev.edge_added, self._edge_added), (ev.edge_removed, self._edge_removed),
                      (ev.param_changed, lambda n, _k: self._text_changed(n)),
                      (ev.node_renamed, self._text_changed), (ev.node_moved, self._node_moved),
                      (ev.node_frozen, self._text_changed)]
        for sig, cb in self._subs:
            sig.connect(cb)
        doc.analysed.connect(self.apply_analysis)
        self._unrouted: dict[EdgeItem, None] = {}  # provisional paths, in routing order
        # a timer, not a chain of 0-ms single shots: it fires once per pass of
        # the event loop, so painting and input go between the batches
        self._route_timer = QTimer(self, interval=0)
        self._route_timer.timeout.connect(self._route_batch)
        self._opening = len(self.graph.edges) > ROUTE_NOW_MAX
        with long_lived_objects():
            for node in self.graph.nodes.values():
                self._node_added(node)
            sizes = {nid: (item.rect.width(), item.rect.height())
                     for nid, item in self.nodes.items()}
            if (layout.flow_of(self.graph, sizes=sizes) == "TB") != self.vertical:
                self.vertical = not self.vertical
                for item in self.nodes.values():
                    item.set_vertical(self.vertical)
            for edge in self.graph.edges:
                self._edge_added(edge)
            self._opening = False
            if self._unrouted:
                self._route_timer.start()
            self.apply_analysis()

    def close(self) -> None:
        """Unsubscribe and drop every item (before the scene is deleted)."""
        if self._closed:
            return
        self._closed = True
        self._route_timer.stop()
        self._unrouted.clear()
        for sig, cb in self._subs:
            sig.disconnect(cb)
        if shiboken6.isValid(self.doc):
            self.doc.analysed.disconnect(self.apply_analysis)
        self.clear()
        self._drop_mark = None
        self._overview = None  # it holds the (now deleted) items
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
                left, top = r.left(), r.top()
                right, bottom = left + r.width(), top + r.height()
                # the edges as numbers too: a query compares in Python, with no
                # call into Qt per block it looks at (thousands while routing)
                entry = (item, r, left, top, right, bottom)
                for ix in range(int(left // CELL), int(right // CELL) + 1):
                    for iy in range(int(top // CELL), int(bottom // CELL) + 1):
                        grid.setdefault((ix, iy), []).append(entry)
            self._rects = grid
        grid = self._rects
        left, top = area.left(), area.top()
        right, bottom = left + area.width(), top + area.height()
        if left == right or top == bottom:
            return []  # an empty area meets nothing (as QRectF.intersects says)
        left, right = min(left, right), max(left, right)
        top, bottom = min(top, bottom), max(top, bottom)
        cells_x = range(int(left // CELL), int(right // CELL) + 1)
        cells_y = range(int(top // CELL), int(bottom // CELL) + 1)
        found: dict[int, tuple] = {}
        if len(cells_x) * len(cells_y) > len(grid):
            buckets = grid.values()  # a huge area: walk what exists instead
        else:
            buckets = [grid[c] for c in ((x, y) for x in cells_x for y in cells_y) if c in grid]
        for bucket in buckets:
            for item, r, l2, t2, r2, b2 in bucket:
                # QRectF.intersects: the open rectangles overlap
                if l2 < right and left < r2 and t2 < bottom and top < b2:
                    found[id(item)] = (item, r)
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
        item = NodeItem(node, self.dark, self.vertical)  # placed at node.pos
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
        item = EdgeItem(edge, sp, tp, self.dark, route_now=False)
        s.edges.append(item)
        t.edges.append(item)
        self.edges[edge] = item
        self._overview = None
        self.addItem(item)
        if self._opening:
            # labelled now, from the analysis the document already has: the
            # pill is placed once, not again when apply_analysis finds it
            item.label, item.error = self._edge_label(edge, self.doc.view_analyzer.results
                                                      .get(edge.source))
            # the ports' scene positions from the graph's (the items were
            # just put there) and the ports' offsets: no Qt call per end
            nodes = self.graph.nodes
            (sx, sy), (tx, ty) = nodes[edge.source].pos or _ORIGIN, nodes[edge.target].pos or _ORIGIN
            (spx, spy), (tpx, tpy) = sp.offset(), tp.offset()
            item.provisional((sx + spx, sy + spy, tx + tpx, ty + tpy))
            self._unrouted[item] = None
        else:
            item.update_path()  # in the scene now: long edges can route around nodes
        self._results.pop(edge.source, None)  # relabel on the next analysis

    def _edge_removed(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is None:
            return
        self._unrouted.pop(item, None)
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
            item.setPos(*node.pos)
            self.node_geometry_changed()
            if not self._reroute_pending:
                # other edges may route around this node: redo all once the
                # whole (undoable, possibly many-node) move has been applied
                self._reroute_pending = True
                QTimer.singleShot(0, self, self.reroute)
        elif node.pos is not None and not self._reroute_pending:
            # a drag ended here: the edges of other blocks that it now lies
            # on go round it (its own edges followed it during the drag)
            if not self._dropped:
                QTimer.singleShot(0, self, self._reroute_dropped)
            self._dropped.append(item.mapRectToScene(item.rect))

    def unrouted_count(self) -> int:
        """How many edges still have their provisional path."""
        return sum(not item.routed for item in self._unrouted)

    def route_in(self, area: QRectF) -> None:
        """Route the provisional edges that reach into ``area`` now (they are
        about to be painted at a readable zoom)."""
        if not self._unrouted:
            return
        # Qt finds the items in the area from their bounding rectangles, in
        # C++: asking each of thousands of provisional edges from Python cost
        # more than routing the few in sight
        near = self.items(area, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
        for item in [i for i in near if i in self._unrouted]:
            del self._unrouted[item]
            item.ensure_routed()

    def _route_batch(self) -> None:
        """Route provisional edges for up to :data:`ROUTE_BATCH_S` (idle time)."""
        deadline = time.perf_counter() + ROUTE_BATCH_S
        while self._unrouted and time.perf_counter() < deadline:
            item = next(iter(self._unrouted))
            del self._unrouted[item]
            item.ensure_routed()
        if not self._unrouted:
            self._route_timer.stop()
            # the far-out picture (and the minimap) draw the routed paths now;
            # rebuilding it per batch would cost more than the routing
            self._overview = None
            self.update()

    def _reroute_dropped(self) -> None:
        rects, self._dropped = self._dropped, []
        if self._closed or self._reroute_pending:
            return
        for item in self.edges.values():
            box = item.boundingRect()
            if any(box.intersects(r) for r in rects):
                item.update_path()

    def reroute(self, follow_positions: bool = True) -> None:
        """Recompute every edge's path (after nodes moved).

        Args:
            follow_positions: an undone or redone layout may have turned the
                network round: put the ports the other way when the positions
                now read only that way.
        """
        self._reroute_pending = False
        if self._closed:
            return
        self._overview = None
        self._unrouted.clear()  # every edge is routed below
        self._route_timer.stop()
        if follow_positions:
            flow = layout.flow_of(self.graph, "TB" if self.vertical else "LR")
            if (flow == "TB") != self.vertical:
                self.vertical = flow == "TB"
                for node in self.nodes.values():
                    node.set_vertical(self.vertical)
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
                        e.set_label(*self._edge_label(e.edge, r))
        self._place_markers(by_node)

    @staticmethod
    def _edge_label(edge: Edge, result) -> tuple[str, bool]:
        """An edge's shape label from its source's analysis result, and
        whether it is an error (no shape)."""
        tt = result.outs.get(edge.source_port) if result and result.outs else None
        return (_shape_text(tuple(tt.shape)) if tt else "?"), tt is None

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
        cmd = commands.quick_fix(self.graph, problem,
                                 size_of=lambda t: layout.type_size(self.graph, t))
        if cmd is None:
            self.message.emit("this quick fix no longer applies")
            return
        try:
            self.doc.push(cmd)
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
            self.doc.push(cmd)
        except GraphEditError as exc:
            self.message.emit(str(exc))
            return None
        self.clearSelection()
        self.nodes[cmd.node.id].setSelected(True)
        return cmd.node.id

    def spec_for(self, type_name: str):
        """The spec a block of ``type_name`` (a palette entry, ``library:NAME``
        included) would have here, or None when there is no such type."""
        if type_name.startswith(commands.LIBRARY_PREFIX):
            try:
                name, unit = unit_library.plan_library_unit(
                    self.doc.graph, type_name[len(commands.LIBRARY_PREFIX):])
            except GraphEditError:
                return None
            return unit.spec() if unit is not None else self.doc.graph.spec_of_type(name)
        return self.graph.spec_of_type(type_name)

    def insert_refusal(self, type_name: str, edge: Edge) -> str | None:
        """Why a block of ``type_name`` cannot go on ``edge`` (its ports do not
        fit: it needs an input and an output port), or None when it can."""
        spec = self.spec_for(type_name)
        label = type_name.removeprefix(commands.LIBRARY_PREFIX)
        if spec is None:
            return f"unknown block type {label!r}"
        outs = spec.outputs if spec.role != "output" else ()
        if spec.role == "input" or not spec.inputs:
            return f"{label} has no input port to take the edge's tensor"
        if not outs:
            return f"{label} has no output port to pass the tensor on"
        if edge not in self.edges:
            return "that edge is gone"
        return None

    def insert_on_edge(self, type_name: str, edge: Edge) -> str | None:
        """Insert a block of ``type_name`` on ``edge``: source → new block →
        target, in one undo step; the blocks after it move along the flow
        when there is no room (as a quick fix's insert).  A block whose ports
        do not fit is refused with the reason (a status message).

        Returns:
            The new block's id, or None (refused).
        """
        label = type_name.removeprefix(commands.LIBRARY_PREFIX)
        why = self.insert_refusal(type_name, edge)
        if why is None:
            size = layout.type_size(self.graph, type_name)
            boxes = {nid: (item.pos().x(), item.pos().y(), item.rect.width(), item.rect.height())
                     for nid, item in self.nodes.items()}
            gap = 2 * PLACE_GAP
            if not self.vertical:  # side by side: the shape labels need the room between
                gap = max(gap, label_width(self.edges[edge].label) + 2 * PLACE_GAP)
            (spot,), moves = make_room(boxes, edge.source, edge.target, [size], gap)
            add, why = commands.add_block(self.doc, type_name, spot)
        if why:
            self.message.emit(f"Cannot insert {label} on this edge: {why}")
            return None
        nid = self.graph.new_id((label[:1] or "n").lower())
        add.add_node.args["id"] = nid  # the edges below need it before the macro runs
        index = self.graph.edges.index(edge)
        cmd = commands.macro(f"Insert {label}")
        cmd.add(commands.Disconnect(self.graph, edge))
        if moves:
            cmd.add(commands.Move(self.graph, {n: (self.graph.nodes[n].pos, p)
                                               for n, p in moves.items()},
                                  "Make room", mergeable=False))
        cmd.add(add)
        cmd.add(commands.Connect(self.graph, edge.source, nid, edge.source_port, None))
        cmd.add(commands.Connect(self.graph, nid, edge.target, None, edge.target_port,
                                 index=index))
        try:
            self.doc.push(cmd)
        except GraphEditError as exc:
            self.message.emit(f"Cannot insert {label} on this edge: {exc}")
            return None
        self.select_nodes([nid])
        return nid

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
        """The port whose circle is under ``pos`` (scene), or None.

        Ports are drawn by their nodes, not items of their own: the nodes
        near ``pos`` come from the rectangle grid (:meth:`node_rects_in`) and
        the nearest of their ports within :data:`HIT_RADIUS` wins; the
        topmost node's when ports of two overlap.
        """
        area = QRectF(pos.x() - HIT_RADIUS, pos.y() - HIT_RADIUS, 2 * HIT_RADIUS, 2 * HIT_RADIUS)
        best, best_key = None, None
        for item, _rect in self.node_rects_in(area):
            for port in item.ports.values():
                d = port.distance(pos)
                key = (-item.zValue(), d)
                if d <= HIT_RADIUS and (best_key is None or key < best_key):
                    best, best_key = port, key
        return best

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

    def _hover_cursor(self, pos: QPointF) -> None:
        """A cross over a port (a press there draws an edge), else the default."""
        over = self.port_at(pos) is not None
        if over != self._over_port:
            self._over_port = over
            for view in self.views():
                if over:
                    view.viewport().setCursor(Qt.CursorShape.CrossCursor)
                else:
                    view.viewport().unsetCursor()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            port = self.port_at(event.scenePos())
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
        self._drag_pos = dict(self._press_pos)

    def mouseMoveEvent(self, event) -> None:
        if self._drag:
            port, temp = self._drag
            a, b = port.scenePos(), event.scenePos()
            temp.setPath(curve(a, b, self.vertical) if port.is_output
                         else curve(b, a, self.vertical))
            event.accept()
            return
        if event.buttons() == Qt.MouseButton.NoButton:
            self._hover_cursor(event.scenePos())
        super().mouseMoveEvent(event)
        if self._press_pos and event.buttons() & Qt.MouseButton.LeftButton:
            self._follow_drag()

    def _follow_drag(self) -> None:
        """The blocks being dragged moved (Qt moved them in the step above):
        their edges follow now, as the block is seen to move."""
        moved = []
        for nid, was in self._drag_pos.items():
            item = self.nodes.get(nid)
            if item is not None and item.pos() != was:
                self._drag_pos[nid] = item.pos()
                moved.append(item)
        if not moved:
            return
        self.node_geometry_changed()
        routed: set[int] = set()
        for item in moved:
            for e in item.edges:
                if id(e) not in routed:  # an edge between two dragged blocks: once
                    routed.add(id(e))
                    e.update_path()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag:
            port, temp = self._drag
            self._drag = None
            self.removeItem(temp)
            target = self.port_at(event.scenePos())
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
        self._drag_pos = {}
        if moves:
            self.doc.push(commands.Move(self.graph, moves))

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
        self.doc.push(commands.Connect(self.graph, src.node_id, dst.node_id, src.name, dst.name))
        return True
