"""The order in which analysis visits a graph's nodes, cycles included.

Algorithm: Kahn's, over the graph's own adjacency (sources taken in
insertion order, so the order is deterministic); the nodes left over sit on
or behind a cycle, and networkx finds which are on one.  Those behind a
cycle follow in the order they would have if the cycle's edges were cut,
then the nodes on cycles, in insertion order: every node gets a place, so
each can be given its problem.
"""

from __future__ import annotations

from collections import deque

import networkx as nx

from .graph import Graph


def order_with_cycles(g: Graph) -> tuple[list[str], dict[str, int], set[str]]:
    """Every node id of ``g`` in topological order, with the nodes on cycles last.

    Returns:
        ``(order, index, cyclic)``: the ids in order, each id's place in it,
        and the ids of the nodes on a cycle (a self-loop included).
    """
    ins, outs = g.adjacency()
    indeg = {nid: len(edges) for nid, edges in ins.items()}  # in node order
    ready = deque(nid for nid, k in indeg.items() if not k)
    order: list[str] = []
    index: dict[str, int] = {}
    while ready:
        nid = ready.popleft()
        index[nid] = len(order)
        order.append(nid)
        for e in outs[nid]:
            t = e.target
            k = indeg[t] - 1
            indeg[t] = k
            if not k:
                ready.append(t)
    cyclic: set[str] = set()
    if len(order) < len(g.nodes):
        nxg = g.nx_graph()
        rest = nxg.subgraph(nid for nid in g.nodes if indeg[nid] > 0)
        for comp in nx.strongly_connected_components(rest):
            if len(comp) > 1:
                cyclic |= comp
        cyclic |= {u for u, v in nx.selfloop_edges(rest)}
        # Behind a cycle: order the rest as if the cycle's edges were cut.
        sub = rest.subgraph(n for n in rest if n not in cyclic)
        rank = {nid: i for i, nid in enumerate(g.nodes)}
        order += list(nx.lexicographical_topological_sort(sub, key=rank.__getitem__))
        order += sorted(cyclic, key=rank.__getitem__)
        index = {nid: i for i, nid in enumerate(order)}
    return order, index, cyclic
