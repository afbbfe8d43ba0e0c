"""Layered (Sugiyama-style) layout of a network, as plain geometry.

Qt-free: node sizes come in as numbers and positions go out as numbers, so
the editor, a notebook and the tests share one implementation.

The network flows in ONE direction, top to bottom (``"TB"``) or left to right
(``"LR"``); nothing wraps.  The algorithm works in a frame of a *flow* axis
(along the edges) and a *cross* axis, and swaps them for ``"TB"``:

1. **Cycles** (a loaded file may have one): inside each strongly connected
   component (networkx) the edges that run against the nodes' order are
   reversed.
2. **Layering**: longest path from the sources (in topological order); a
   source that feeds only deeper layers (a second input, a mask) moves down
   next to its first consumer.
3. **Long edges** get one dummy node per layer they cross, so they reserve a
   lane beside the blocks and take part in the crossing reduction.
4. **Crossing reduction**: barycentre sweeps, down then up, a few rounds (two
   rounds for graphs of thousands of nodes: each sweep is O(V + E)).
5. **Main path**: the longest path from a source to a sink (every layer holds
   one of its nodes) is pinned to cross position 0, one straight line.
6. **Coordinates**: in each layer the nodes left of the main node are packed
   leftwards from it and those right of it rightwards, each as near the mean
   of its neighbours as the minimum gap allows (down, up and down again), so
   branches and long edges run straight beside the main path.  No two boxes
   of a layer overlap by construction, and layers do not share flow space.

The result gives each node's top-left corner and the points of each long
edge's dummies (the route a renderer can draw beside the blocks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

#: the two directions: top to bottom, left to right
DIRECTIONS = ("TB", "LR")
#: above this many nodes and dummies the ordering does fewer sweeps
LARGE = 3000


class LayoutError(ValueError):
    """The layout was asked for something it cannot do (an unknown direction)."""


@dataclass
class Layout:
    """The result of :func:`layered_layout`.

    Attributes:
        positions: each node's top-left corner ``(x, y)``.
        layers: each node's layer (0 first along the flow).
        main_path: the straight main path, first node first.
        routes: for each edge ``(source, target)`` that spans layers, the
            centre points of its dummies in flow order (where the edge runs).
        direction: ``"TB"`` or ``"LR"``.
    """

    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    layers: dict[str, int] = field(default_factory=dict)
    main_path: list[str] = field(default_factory=list)
    routes: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)
    direction: str = "TB"


def _acyclic(g: nx.DiGraph, order: Mapping[str, int]) -> nx.DiGraph:
    """``g`` with the edges that close cycles reversed (see step 1)."""
    if nx.is_directed_acyclic_graph(g):
        return g
    comp: dict[str, int] = {}
    for k, members in enumerate(nx.strongly_connected_components(g)):
        for n in members:
            comp[n] = k
    dag = nx.DiGraph()
    dag.add_nodes_from(g.nodes)
    for u, v in g.edges:
        if comp[u] == comp[v] and order[u] >= order[v]:
            u, v = v, u  # forward in the given order: no cycle is left
        if u != v:
            dag.add_edge(u, v)
    return dag


def _topo(nodes: Sequence[str], succ: Mapping[str, set]) -> list[str] | None:
    """Kahn's topological order, or None when there is a cycle."""
    indeg = dict.fromkeys(nodes, 0)
    for v in nodes:
        for w in succ[v]:
            indeg[w] += 1
    todo = [v for v in nodes if not indeg[v]]
    todo.reverse()
    out = []
    while todo:
        v = todo.pop()
        out.append(v)
        for w in succ[v]:
            indeg[w] -= 1
            if not indeg[w]:
                todo.append(w)
    return out if len(out) == len(indeg) else None


def _layering(order: Sequence[str], pred: Mapping[str, set], succ: Mapping[str, set]
              ) -> dict[str, int]:
    layer: dict[str, int] = {}
    for v in order:
        layer[v] = max((layer[u] + 1 for u in pred[v]), default=0)
    for v in order:  # a source feeding only deeper layers sits just above its first consumer
        if not pred[v] and succ[v]:
            layer[v] = min(layer[s] for s in succ[v]) - 1
    return layer


def _main_path(pred: Mapping[str, set], layer: Mapping[str, int],
               order: Mapping[str, int]) -> list[str]:
    """The longest path, walked back from the deepest sink through a
    predecessor one layer up (the first such in the given order)."""
    if not layer:
        return []
    deepest = max(layer.values())
    end = min((v for v in layer if layer[v] == deepest), key=order.__getitem__)
    path = [end]
    while layer[path[-1]] > 0:
        v = path[-1]
        preds = [u for u in pred[v] if layer[u] == layer[v] - 1]
        if not preds:
            break
        path.append(min(preds, key=order.__getitem__))
    path.reverse()
    return path


def _sweep(layers: list[list], neigh: Mapping, downward: bool) -> bool:
    """One barycentre sweep: reorder each layer by its neighbours' indices in
    the layer before it (in the sweep's direction).  Returns whether any
    layer's order changed."""
    seq = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
    index = {v: k for k, v in enumerate(layers[0 if downward else -1])}
    changed = False
    for i in seq:
        row = layers[i]
        if len(row) > 1:  # most layers of a deep network hold one node: nothing to sort
            keys = {}
            for k, v in enumerate(row):
                ns = [index[u] for u in neigh[v] if u in index]
                keys[v] = (sum(ns) / len(ns), k) if ns else (float(k), k)
            new = sorted(row, key=keys.__getitem__)
            if new != row:
                row[:] = new
                changed = True
        index = {v: k for k, v in enumerate(row)} if len(row) > 1 else {row[0]: 0} if row else {}
    return changed


def _place_layer(row: list, size: Mapping, desired: Mapping, anchor, gap: float,
                 centre: dict) -> None:
    """Cross centres for one ordered layer: the anchor (a main-path node) at
    0, the others as near their desired centre as ``gap`` allows."""
    if not row:
        return
    if anchor is not None and anchor in row:
        m = row.index(anchor)
        centre[anchor] = 0.0
    else:
        m = None
    if m is None:
        # no main node: left to right, each at its wish or right after the previous one
        prev = None
        for v in row:
            want = desired.get(v)
            if prev is None:
                c = want if want is not None else 0.0
            else:
                lo = centre[prev] + (size[prev] + size[v]) / 2 + gap
                c = max(lo, want) if want is not None else lo
            centre[v] = c
            prev = v
        return
    for k in range(m - 1, -1, -1):
        v, right = row[k], row[k + 1]
        hi = centre[right] - (size[right] + size[v]) / 2 - gap
        want = desired.get(v)
        centre[v] = min(hi, want) if want is not None else hi
    for k in range(m + 1, len(row)):
        v, left = row[k], row[k - 1]
        lo = centre[left] + (size[left] + size[v]) / 2 + gap
        want = desired.get(v)
        centre[v] = max(lo, want) if want is not None else lo


def layered_layout(nodes: Sequence[str], edges: Iterable[tuple[str, str]],
                   sizes: Mapping[str, tuple[float, float]], direction: str = "TB",
                   layer_gap: float = 80.0, node_gap: float = 40.0,
                   dummy_size: float = 24.0,
                   gap_after: Mapping[str, float] | None = None) -> Layout:
    """Lay a directed graph out in layers along one direction.

    Args:
        nodes: node ids; their order breaks ties (and cycles).
        edges: ``(source, target)`` pairs (repeats and self-loops are fine).
        sizes: each node's ``(width, height)``.
        direction: ``"TB"`` (top to bottom) or ``"LR"`` (left to right).
        layer_gap: free space between consecutive layers along the flow.
        node_gap: free space between neighbours in a layer.
        dummy_size: the cross-axis room a long edge takes in each layer it crosses.
        gap_after: extra flow space a node needs after it (a wide edge label),
            by node id; a layer's gap is at least its largest.

    Returns:
        The :class:`Layout` (empty for no nodes).

    Raises:
        LayoutError: ``direction`` is not one of :data:`DIRECTIONS`.
    """
    if direction not in DIRECTIONS:
        raise LayoutError(f"unknown layout direction {direction!r}: expected 'TB' or 'LR'")
    tb = direction == "TB"
    order = {n: k for k, n in enumerate(nodes)}
    succ: dict[str, set] = {n: set() for n in nodes}
    pred: dict[str, set] = {n: set() for n in nodes}
    for u, v in edges:
        if u != v and u in succ and v in succ:
            succ[u].add(v)
            pred[v].add(u)
    topo = _topo(nodes, succ)
    if topo is None:  # a cycle: networkx finds the components, their back edges turn round
        g = nx.DiGraph()
        g.add_nodes_from(nodes)
        g.add_edges_from((u, v) for u in nodes for v in succ[u])
        dag = _acyclic(g, order)
        succ = {n: set(dag.successors(n)) for n in nodes}
        pred = {n: set(dag.predecessors(n)) for n in nodes}
        topo = _topo(nodes, succ)
    layer = _layering(topo, pred, succ)
    out = Layout(direction=direction)
    if not layer:
        return out
    depth = max(layer.values()) + 1

    # flow and cross extents of the real nodes
    flow_size = {n: float(sizes[n][1] if tb else sizes[n][0]) for n in nodes}
    cross_size: dict = {n: float(sizes[n][0] if tb else sizes[n][1]) for n in nodes}

    # long edges get dummies; neighbours over the extended graph
    preds: dict = {n: [] for n in nodes}
    succs: dict = {n: [] for n in nodes}
    layers: list[list] = [[] for _ in range(depth)]
    for n in sorted(nodes, key=lambda v: (layer[v], order[v])):
        layers[layer[n]].append(n)
    chains: dict[tuple[str, str], list] = {}
    for u, v in ((u, v) for u in nodes for v in sorted(succ[u], key=order.__getitem__)):
        prev = u
        chain = []
        for i in range(layer[u] + 1, layer[v]):
            d = ("dummy", u, v, i)
            chain.append(d)
            layers[i].append(d)
            cross_size[d] = dummy_size
            preds[d], succs[d] = [prev], []
            succs[prev].append(d)
            prev = d
        succs[prev].append(v)
        preds[v].append(prev)
        if chain:
            chains[(u, v)] = chain

    # crossing reduction
    large = sum(map(len, layers)) > LARGE
    rounds = 1 if large else 4
    for _ in range(rounds):
        down = _sweep(layers, preds, True)
        if not (_sweep(layers, succs, False) or down):
            break  # settled
    _sweep(layers, preds, True)

    # cross coordinates: the main path straight at 0, the rest packed around it
    main = _main_path(pred, layer, order)
    anchor_of = {layer[n]: n for n in main}
    centre: dict = {}

    def mean(vs) -> float | None:
        if len(vs) == 1:  # the common case, a chain
            return centre.get(vs[0])
        cs = [centre[u] for u in vs if u in centre]
        return sum(cs) / len(cs) if cs else None

    for i, row in enumerate(layers):
        anchor = anchor_of.get(i)
        if len(row) == 1 and row[0] == anchor:
            centre[anchor] = 0.0  # a layer of the main path alone
            continue
        want = {}
        for v in row:
            w = mean(preds[v])
            if w is not None:
                want[v] = w
        _place_layer(row, cross_size, want, anchor, node_gap, centre)
    # refine: up, then down again (thousands of blocks: the first pass only,
    # which keeps branches and lanes straight already)
    for passes in () if large else ((range(depth - 1, -1, -1), True), (range(depth), False)):
        seq, up = passes
        for i in seq:
            row = layers[i]
            want = {}
            for v in row:
                w = mean(succs[v] + preds[v]) if not isinstance(v, tuple) else \
                    mean(succs[v] if up else preds[v])
                if w is not None:
                    want[v] = w
            _place_layer(row, cross_size, want, anchor_of.get(i), node_gap, centre)

    # flow coordinates: each layer as thick as its thickest node, nodes centred in it
    extra = gap_after or {}
    flow0: list[float] = []
    f = 0.0
    for row in layers:
        real = [v for v in row if not isinstance(v, tuple)]
        thick = max((flow_size[v] for v in real), default=0.0)
        flow0.append(f)
        gap = max([layer_gap] + [extra.get(v, 0.0) for v in real])
        f += thick + gap
    thick_of = [max((flow_size[v] for v in row if not isinstance(v, tuple)), default=0.0)
                for row in layers]

    for n in nodes:
        i = layer[n]
        fl = flow0[i] + (thick_of[i] - flow_size[n]) / 2
        cr = centre[n] - cross_size[n] / 2
        out.positions[n] = (cr, fl) if tb else (fl, cr)
    for key, chain in chains.items():
        pts = []
        for d in chain:
            i = d[3]
            fl = flow0[i] + thick_of[i] / 2
            pts.append((centre[d], fl) if tb else (fl, centre[d]))
        out.routes[key] = pts
    out.layers = dict(layer)
    out.main_path = main
    return out
