"""When the canvas's edges are routed round the blocks, if not at once.

- A network opened with more than :data:`ROUTE_NOW_MAX` edges shows them as
  plain lines first (:meth:`gui.canvas.edge_item.EdgeItem.provisional`) and
  routes them in idle batches of at most :data:`ROUTE_BATCH_S`, those in
  sight at a readable zoom before they are painted (:meth:`RouteQueue.route_in`):
  routing 5,000 edges takes seconds.
- Blocks moved through the graph (an undoable, possibly many-node move):
  every edge is rerouted once, after the whole move has been applied.
- Blocks a mouse drag put down (their own edges followed them during the
  drag): the edges of other blocks that they now lie on go round them.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, Qt, QTimer

#: a network opened with more edges than this shows them as plain curves
#: first and routes them round the blocks in idle batches (those in sight at
#: a readable zoom before they are painted): routing 5,000 edges takes seconds
ROUTE_NOW_MAX = 200
#: the longest an idle batch of routing may hold the event loop (seconds)
ROUTE_BATCH_S = 0.012


class RouteQueue:
    """The edges of one scene waiting to be routed (see the module docstring).

    Args:
        scene: the :class:`~gui.canvas.scene.CanvasScene`; its ``edges``,
            ``items``, ``reroute``, ``overview_changed`` and ``update`` are used.
    """

    def __init__(self, scene):
        self._scene = scene
        self._closed = False
        self._reroute_pending = False
        self._dropped: list[QRectF] = []  # blocks a drag just put down (see dropped)
        self._unrouted: dict = {}  # edge items with provisional paths, in routing order
        # a timer, not a chain of 0-ms single shots: it fires once per pass of
        # the event loop, so painting and input go between the batches
        self._timer = QTimer(scene, interval=0)
        self._timer.timeout.connect(self._route_batch)

    def add(self, item) -> None:
        """``item`` has its provisional path: route it later."""
        self._unrouted[item] = None

    def discard(self, item) -> None:
        """``item`` is gone: it needs no routing."""
        self._unrouted.pop(item, None)

    def start(self) -> None:
        """Route the waiting edges in idle batches (after an open)."""
        if self._unrouted:
            self._timer.start()

    def clear(self) -> None:
        """Every edge is being routed now: nothing waits any more."""
        self._reroute_pending = False
        self._unrouted.clear()
        self._timer.stop()

    def close(self) -> None:
        """The scene is closing: route nothing from now on."""
        self._closed = True
        self._timer.stop()
        self._unrouted.clear()

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
        near = self._scene.items(area, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
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
            self._timer.stop()
            # the far-out picture (and the minimap) draw the routed paths now;
            # rebuilding it per batch would cost more than the routing
            self._scene.overview_changed()
            self._scene.update()

    def moved(self) -> None:
        """A block was moved through the graph: reroute every edge once the
        whole move has been applied (other edges may route around it)."""
        if not self._reroute_pending:
            self._reroute_pending = True
            QTimer.singleShot(0, self._scene, self._scene.reroute)

    def dropped(self, rect: QRectF) -> None:
        """A drag put a block down at ``rect`` (scene): the edges of other
        blocks that it now lies on go round it (its own edges followed it
        during the drag)."""
        if self._reroute_pending:
            return  # every edge is rerouted anyway
        if not self._dropped:
            QTimer.singleShot(0, self._scene, self._reroute_dropped)
        self._dropped.append(rect)

    def _reroute_dropped(self) -> None:
        rects, self._dropped = self._dropped, []
        if self._closed or self._reroute_pending:
            return
        for item in self._scene.edges.values():
            box = item.boundingRect()
            if any(box.intersects(r) for r in rects):
                item.update_path()
