"""Automatic layout: layered, left to right, wrapped into bands to fit a view.

Algorithm: nodes are put in layers by networkx's topological generations
(a cycle's nodes share the layer of their strongly connected component);
within a layer nodes are ordered by the mean row of their predecessors
(one barycentre sweep, which removes most crossings of typical networks),
then spread vertically around the centre line.  The gap after a layer is
wide enough for the widest shape label on the edges leaving it, so labels
sit between nodes rather than on them.

A long network does not fit a window at a readable size as one row (LeNet is
ten layers, a ResNet twenty): given the view's size, the layers are cut into
bands of about equal width, stacked top to bottom like lines of text, with the
number of bands that shows the whole network largest.  An edge from the end
of one band to the start of the next runs back along the gap between them.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping

import networkx as nx

from graph.graph import Graph

from .style import FIT_MARGIN, NODE_HEIGHT, NODE_WIDTH

MIN_GAP = 80
LABEL_MARGIN = 18  # a label's pill keeps this much room to the nodes
Y_STEP = 130
X_STEP = NODE_WIDTH + MIN_GAP
BAND_GAP = 84  # between bands: room for the edges that run back, and their labels
WRAP_BULGE = 52  # how far such an edge curves out beside the bands
MAX_BANDS = 64
ZOOM_CAP = 0.85  # comfortable to read: more bands only to reach this zoom


def _layers(graph: Graph, widths: Mapping[str, float]
            ) -> tuple[list[list[str]], list[float], dict[str, float]]:
    """Layers (node ids in order), each layer's x, and each node's row."""
    g = graph.nx_graph()
    simple = nx.DiGraph(g)
    if not nx.is_directed_acyclic_graph(simple):
        cond = nx.condensation(simple)
        gens = [[n for c in gen for n in cond.nodes[c]["members"]]
                for gen in nx.topological_generations(cond)]
    else:
        gens = [list(gen) for gen in nx.topological_generations(simple)]
    order = {nid: i for i, nid in enumerate(graph.nodes)}
    row: dict[str, float] = {}
    xs: list[float] = []
    x = 0.0
    for gen in gens:
        def key(nid: str) -> tuple[float, int]:
            preds = [row[p] for p in simple.predecessors(nid) if p in row]
            return (sum(preds) / len(preds) if preds else order[nid], order[nid])
        gen.sort(key=key)
        for k, nid in enumerate(gen):
            row[nid] = k - (len(gen) - 1) / 2
        xs.append(x)
        widest = max((widths.get(nid, 0.0) for nid in gen), default=0.0)
        x += NODE_WIDTH + max(MIN_GAP, widest + LABEL_MARGIN)
    return gens, xs, row


def _starts(xs: list[float], width: float, limit: int) -> list[int]:
    """Greedy bands, each taking layers while it stays within ``width``: the
    first layer of each (at most ``limit`` + 1 of them are looked for)."""
    starts = [0]
    while len(starts) <= limit:
        j = bisect.bisect_right(xs, xs[starts[-1]] + width - NODE_WIDTH, lo=starts[-1] + 1)
        if j >= len(xs):
            break
        starts.append(j)
    return starts


def _bands(xs: list[float], k: int) -> list[list[int]]:
    """Cut the layers into at most ``k`` bands, the widest as narrow as can be
    (a binary search on the band width, each try a greedy fill)."""
    total = xs[-1] + NODE_WIDTH
    if k <= 1:
        return [list(range(len(xs)))]
    lo, hi = NODE_WIDTH - 1.0, total  # too narrow for any layer; one band
    for _ in range(24):
        mid = (lo + hi) / 2
        if len(_starts(xs, mid, k)) <= k:
            hi = mid
        else:
            lo = mid
    starts = _starts(xs, hi, k) + [len(xs)]
    return [list(range(a, b)) for a, b in zip(starts, starts[1:])]


def _extent(gens, xs, row, bands) -> tuple[float, float]:
    """Width and height of a banded layout (before the fit margin)."""
    width = height = 0.0
    for band in bands:
        rows = [row[n] for i in band for n in gens[i]]
        width = max(width, xs[band[-1]] - xs[band[0]] + NODE_WIDTH)
        height += (max(rows) - min(rows)) * Y_STEP + NODE_HEIGHT
    if len(bands) > 1:
        width += 2 * WRAP_BULGE
    return width, height + BAND_GAP * (len(bands) - 1)


def best_band_count(gens, xs, row, view: tuple[float, float]) -> int:
    """The number of bands that shows the whole network at the largest zoom
    (up to :data:`ZOOM_CAP`; fewer bands win a tie)."""
    vw, vh = view
    best_k, best_zoom, worse = 1, -1.0, 0
    for k in range(1, min(len(gens), MAX_BANDS) + 1):
        bands = _bands(xs, k)
        w, h = _extent(gens, xs, row, bands)
        zoom = min(ZOOM_CAP, vw / (w + 2 * FIT_MARGIN), vh / (h + 2 * FIT_MARGIN))
        if zoom > best_zoom + 1e-9:
            best_k, best_zoom, worse = k, zoom, 0
            if zoom >= ZOOM_CAP:
                break  # as large as is useful: fewer bands are better
        else:
            worse += 1
            if worse >= 3:
                break  # past the best: more bands only make it taller
    return best_k


def layered_positions(graph: Graph, label_widths: Mapping[str, float] | None = None,
                      view: tuple[float, float] | None = None
                      ) -> dict[str, tuple[float, float]]:
    """Positions ``{node id: (x, y)}`` for every node.

    Args:
        graph: the graph to lay out.
        label_widths: the width of the widest label on each node's outgoing
            edges (missing nodes: no label), to widen the gap after its layer.
        view: the size of the view (width, height in pixels at zoom 1) the
            network should fit; None keeps every layer in one row.
    """
    if not len(graph.nodes):
        return {}
    gens, xs, row = _layers(graph, label_widths or {})
    k = best_band_count(gens, xs, row, view) if view else 1
    pos: dict[str, tuple[float, float]] = {}
    top = 0.0
    for band in _bands(xs, k):
        rows = [row[n] for i in band for n in gens[i]]
        lo, hi = min(rows), max(rows)
        shift = top - lo * Y_STEP
        x0 = xs[band[0]]
        for i in band:
            for nid in gens[i]:
                pos[nid] = (xs[i] - x0, float(row[nid] * Y_STEP + shift) if k > 1
                            else float(row[nid] * Y_STEP))
        top += (hi - lo) * Y_STEP + NODE_HEIGHT + BAND_GAP
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
