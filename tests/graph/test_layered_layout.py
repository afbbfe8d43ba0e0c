"""The pure layered layout (graph.layout): no overlaps, one direction, the
main path straight, long edges beside the blocks, fast on big graphs."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.layout import LayoutError, layered_layout


def _overlap(a, b, margin=0.0) -> bool:
    (ax, ay, aw, ah), (bx, by, bw, bh) = a, b
    return (ax < bx + bw + margin and bx < ax + aw + margin
            and ay < by + bh + margin and by < ay + ah + margin)


@st.composite
def dags(draw):
    """A random DAG: nodes in order, edges only forward, sizes of real blocks."""
    n = draw(st.integers(1, 30))
    nodes = [f"n{i}" for i in range(n)]
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    edges = [(nodes[min(a, b)], nodes[max(a, b)])
             for a, b in draw(st.lists(pairs, max_size=3 * n)) if a != b]
    sizes = {v: (draw(st.sampled_from([150.0, 180.0])), draw(st.sampled_from([94.0, 112.0])))
             for v in nodes}
    return nodes, edges, sizes


@settings(max_examples=60, deadline=None)
@given(dags(), st.sampled_from(["TB", "LR"]))
def test_random_dags_have_no_overlaps_and_monotone_layers(dag, flow):
    nodes, edges, sizes = dag
    lay = layered_layout(nodes, edges, sizes, flow)
    boxes = {v: (*lay.positions[v], *sizes[v]) for v in nodes}
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            assert not _overlap(boxes[a], boxes[b]), (a, b, boxes[a], boxes[b])
    axis = 1 if flow == "TB" else 0
    for u, v in edges:
        # every edge goes one way, one layer down or more, with its target
        # wholly after its source along the flow
        assert lay.layers[v] > lay.layers[u]
        assert boxes[v][axis] >= boxes[u][axis] + sizes[u][axis]
    main = lay.main_path
    assert all(lay.layers[b] == lay.layers[a] + 1 for a, b in zip(main, main[1:]))
    cross = 1 - axis
    centres = {boxes[v][cross] + sizes[v][cross] / 2 for v in main}
    assert max(centres) - min(centres) < 1e-6  # straight


def test_a_residual_chain_is_one_straight_column_with_the_skips_beside_it():
    nodes = [f"n{i}" for i in range(10)]
    edges = [(a, b) for a, b in zip(nodes, nodes[1:])] + [("n1", "n4"), ("n4", "n7")]
    sizes = {v: (150.0, 94.0) for v in nodes}
    lay = layered_layout(nodes, edges, sizes, "TB")
    assert lay.main_path == nodes
    assert {lay.positions[v][0] for v in nodes} == {-75.0}
    ys = [lay.positions[v][1] for v in nodes]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    for key in (("n1", "n4"), ("n4", "n7")):
        lane = lay.routes[key]
        assert len(lane) == 2 and len({x for x, _ in lane}) == 1
        assert lane[0][0] > 75 or lane[0][0] < -75  # beside the column, not through it


def test_left_to_right_is_the_same_layout_turned():
    nodes = ["a", "b", "c", "d"]
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
    sizes = {v: (150.0, 94.0) for v in nodes}
    tb = layered_layout(nodes, edges, sizes, "TB")
    lr = layered_layout(nodes, edges, sizes, "LR")
    assert tb.layers == lr.layers
    assert lr.positions["d"][0] > lr.positions["b"][0] > lr.positions["a"][0]
    assert lr.positions["b"][1] != lr.positions["c"][1]  # side by side across the flow


def test_cycles_and_loose_nodes_are_laid_out_too():
    nodes = ["a", "b", "c", "loose"]
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("b", "b")]
    sizes = {v: (150.0, 94.0) for v in nodes}
    lay = layered_layout(nodes, edges, sizes, "TB")
    assert set(lay.positions) == set(nodes)
    boxes = [(*lay.positions[v], *sizes[v]) for v in nodes]
    assert not any(_overlap(p, q) for i, p in enumerate(boxes) for q in boxes[i + 1:])


def test_an_unknown_direction_is_refused_with_the_choices():
    with pytest.raises(LayoutError, match="unknown layout direction 'up'.*'TB' or 'LR'"):
        layered_layout(["a"], [], {"a": (1.0, 1.0)}, "up")


def test_an_empty_graph_has_an_empty_layout():
    assert layered_layout([], [], {}).positions == {}


def test_five_thousand_blocks_with_skips_lay_out_fast():
    n = 5000
    nodes = [f"n{i}" for i in range(n)]
    edges = [(nodes[i], nodes[i + 1]) for i in range(n - 1)]
    edges += [(nodes[i], nodes[i + 3]) for i in range(0, n - 3, 3)]
    sizes = {v: (150.0, 94.0) for v in nodes}
    best = min(_timed(nodes, edges, sizes) for _ in range(2))
    # ~0.35 s on a busy 2-core machine: a generous bar that still catches a
    # quadratic step (which takes many seconds at this size)
    assert best < 1.5


def _timed(nodes, edges, sizes) -> float:
    t = time.perf_counter()
    layered_layout(nodes, edges, sizes, "TB")
    return time.perf_counter() - t
