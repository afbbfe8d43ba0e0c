"""The canvas's items kept in step with its graph, one handler per graph event.

Structural events (nodes and edges added or removed, renames, parameter
changes, moves) update the items at once; the analysis they call for comes
later (:mod:`gui.canvas.analysis_view`), and so does the rerouting of edges
after a move (:mod:`gui.canvas.route_queue`).
"""

from __future__ import annotations

from graph.graph import Edge, Node

from .analysis_view import edge_label
from .edge_item import EdgeItem
from .node_item import NodeItem

_ORIGIN = (0.0, 0.0)  # where a block without a position stands


class GraphMirror:
    """Makes, updates and drops a scene's block and edge items as its graph changes.

    Args:
        scene: the :class:`~gui.canvas.scene.CanvasScene`; its ``graph``,
            ``doc``, ``nodes``, ``edges``, ``dark``, ``vertical`` and item
            list are used.
        analysis: the scene's :class:`~gui.canvas.analysis_view.AnalysisView`.
        routing: the scene's :class:`~gui.canvas.route_queue.RouteQueue`.
    """

    def __init__(self, scene, analysis, routing):
        self._scene = scene
        self._analysis = analysis
        self._routing = routing
        self.follow(True)

    def follow(self, on: bool) -> None:
        """Subscribe to the graph's events, or (``on`` False: the scene is
        closing) stop following the graph."""
        ev = self._scene.graph.events
        for sig, cb in ((ev.node_added, self.node_added), (ev.node_removed, self.node_removed),
                        (ev.edge_added, self.edge_added), (ev.edge_removed, self.edge_removed),
                        (ev.param_changed, self.param_changed),
                        (ev.node_renamed, self.text_changed), (ev.node_moved, self.node_moved),
                        (ev.node_frozen, self.text_changed)):
            (sig.connect if on else sig.disconnect)(cb)

    def node_added(self, node: Node) -> None:
        """Make the item of a new block."""
        scene = self._scene
        item = NodeItem(node, scene.dark, scene.vertical)  # placed at node.pos
        scene.nodes[node.id] = item
        self._analysis.stale(node.id)
        scene.node_geometry_changed()
        scene.addItem(item)

    def node_removed(self, node: Node) -> None:
        """Drop the item of a removed block."""
        scene = self._scene
        item = scene.nodes.pop(node.id, None)
        scene.node_geometry_changed()
        if item is not None:
            scene.removeItem(item)
        self._analysis.forget(node.id)

    def edge_added(self, edge: Edge, opening: bool = False) -> None:
        """Make the item of a new edge.

        Args:
            edge: the graph's edge.
            opening: a large network is being opened: the edge gets a plain
                provisional line now and is routed later (see
                :mod:`gui.canvas.route_queue`).
        """
        scene = self._scene
        s, t = scene.nodes[edge.source], scene.nodes[edge.target]
        sp, tp = s.port(edge.source_port, True), t.port(edge.target_port, False)
        if sp is None or tp is None:
            return  # a broken edge in a loaded file: validation reports it
        item = EdgeItem(edge, sp, tp, scene.dark, route_now=False)
        s.edges.append(item)
        t.edges.append(item)
        scene.edges[edge] = item
        scene.overview_changed()
        scene.addItem(item)
        if opening:
            # labelled now, from the analysis the document already has: the
            # pill is placed once, not again when apply_analysis finds it
            item.label, item.error = edge_label(edge, scene.doc.view_analyzer.results
                                                .get(edge.source))
            # the ports' scene positions from the graph's (the items were
            # just put there) and the ports' offsets: no Qt call per end
            nodes = scene.graph.nodes
            (sx, sy), (tx, ty) = nodes[edge.source].pos or _ORIGIN, nodes[edge.target].pos or _ORIGIN
            (spx, spy), (tpx, tpy) = sp.offset(), tp.offset()
            item.provisional((sx + spx, sy + spy, tx + tpx, ty + tpy))
            self._routing.add(item)
        else:
            item.update_path()  # in the scene now: long edges can route around nodes
        self._analysis.stale(edge.source)  # relabel on the next analysis

    def edge_removed(self, edge: Edge) -> None:
        """Drop the item of a removed edge."""
        scene = self._scene
        item = scene.edges.pop(edge, None)
        if item is None:
            return
        self._routing.discard(item)
        scene.overview_changed()
        for nid in (edge.source, edge.target):
            n = scene.nodes.get(nid)
            if n is not None and item in n.edges:
                n.edges.remove(item)
        scene.removeItem(item)

    def param_changed(self, node: Node, _name: str) -> None:
        """A block's parameter changed: redraw its face."""
        self.text_changed(node)

    def text_changed(self, node: Node) -> None:
        """A block's name, parameters or frozen state changed: redraw its face."""
        self._scene.nodes[node.id].refresh_text(node)
        self._scene.overview_changed()

    def node_moved(self, node: Node) -> None:
        """A block moved in the graph (or a drag of its item ended there)."""
        scene = self._scene
        item = scene.nodes[node.id]
        if node.pos is not None and (item.pos().x(), item.pos().y()) != tuple(node.pos):
            # the edges wait for the reroute the queue sets off: routing them
            # now, while half of a many-node move is done, would route each
            # one many times
            item.setPos(*node.pos)
            scene.node_geometry_changed()
            self._routing.moved()
        elif node.pos is not None:
            self._routing.dropped(item.mapRectToScene(item.rect))  # a drag ended here
