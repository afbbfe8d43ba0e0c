"""Automatic layout: layered, left to right.

Algorithm: nodes are put in layers by networkx's topological generations
(a cycle's nodes share the layer of their strongly connected component);
within a layer nodes are ordered by the mean row of their predecessors
(one barycentre sweep, which removes most crossings of typical networks),
then spread vertically around the centre line.  The gap after a layer is
wide enough for the widest shape label on the edges leaving it, so labels
sit between nodes rather than on them.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

from graph.graph import Graph

from .style import NODE_WIDTH

MIN_GAP = 94  # the gap of the former fixed 270-px step
LABEL_MARGIN = 28
Y_STEP = 130
X_STEP = NODE_WIDTH + MIN_GAP


def layered_positions(graph: Graph, label_widths: Mapping[str, float] | None = None
                      ) -> dict[str, tuple[float, float]]:
    """Positions ``{node id: (x, y)}`` for every node.

    Args:
        graph: the graph to lay out.
        label_widths: the width of the widest label on each node's outgoing
            edges (missing nodes: no label), to widen the gap after its layer.
    """
    g = graph.nx_graph()
    if not g.number_of_nodes():
        return {}
    widths = label_widths or {}
    simple = nx.DiGraph(g)
    if not nx.is_directed_acyclic_graph(simple):
        cond = nx.condensation(simple)
        gens = [[n for c in gen for n in cond.nodes[c]["members"]]
                for gen in nx.topological_generations(cond)]
    else:
        gens = [list(gen) for gen in nx.topological_generations(simple)]
    order = {nid: i for i, nid in enumerate(graph.nodes)}
    row: dict[str, float] = {}
    pos: dict[str, tuple[float, float]] = {}
    x = 0.0
    for gen in gens:
        def key(nid: str) -> tuple[float, int]:
            preds = [row[p] for p in simple.predecessors(nid) if p in row]
            return (sum(preds) / len(preds) if preds else order[nid], order[nid])
        gen.sort(key=key)
        for k, nid in enumerate(gen):
            row[nid] = k - (len(gen) - 1) / 2
            pos[nid] = (x, float(row[nid] * Y_STEP))
        widest = max((widths.get(nid, 0.0) for nid in gen), default=0.0)
        x += NODE_WIDTH + max(MIN_GAP, widest + LABEL_MARGIN)
    return pos


def needs_layout(graph: Graph) -> bool:
    """True when positions are missing or an edge runs backwards or has no
    room for its label (e.g. a chain folded into rows)."""
    nodes = graph.nodes
    if any(n.pos is None for n in nodes.values()):
        return True
    for e in graph.edges:
        if nodes[e.target].pos[0] < nodes[e.source].pos[0] + NODE_WIDTH + MIN_GAP / 2:
            return True
    return False
