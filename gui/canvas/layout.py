"""Automatic layout: layered, left to right.

Algorithm: nodes are put in layers by networkx's topological generations
(a cycle's nodes share the layer of their strongly connected component);
within a layer nodes are ordered by the mean row of their predecessors
(one barycentre sweep, which removes most crossings of typical networks),
then spread vertically around the centre line.
"""

from __future__ import annotations

import networkx as nx

from graph.graph import Graph

X_STEP = 270
Y_STEP = 130


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """Positions ``{node id: (x, y)}`` for every node."""
    g = graph.nx_graph()
    if not g.number_of_nodes():
        return {}
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
    for x, gen in enumerate(gens):
        def key(nid: str) -> tuple[float, int]:
            preds = [row[p] for p in simple.predecessors(nid) if p in row]
            return (sum(preds) / len(preds) if preds else order[nid], order[nid])
        gen.sort(key=key)
        for k, nid in enumerate(gen):
            row[nid] = k
            pos[nid] = (float(x * X_STEP), float((k - (len(gen) - 1) / 2) * Y_STEP))
    return pos
