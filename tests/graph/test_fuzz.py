"""Random graphs from the whole block catalogue (quality.md R1).

Hypothesis draws a seed and a size; a small generator turns them into a graph
of random blocks with random plausible (and some implausible) parameters and
random edges — mostly chains that often validate, sometimes chaos (cycles,
extra edges, dangling inputs, wrong dtypes).  Validation must never raise;
every problem names a real node and a code from the fixed list; an invalid
graph has at least one error; a valid graph has positive concrete sizes.
Drawing a seed keeps each example cheap, so a run checks thousands.

The one graph excluded from "every problem names a real node" is the empty
graph (no node at all): it is invalid (no Input, no Output) with node None.
:func:`random_graph` always adds an Input, so it never draws it;
:func:`test_the_empty_graph_is_invalid_without_a_node` covers it.
"""

import random

from hypothesis import example, given, settings
from hypothesis import strategies as st

from graph import Analyzer, Edge, Graph, analyze, blocks
from graph.problems import ERROR, Code

CODES = Code.all()


def _value(rng: random.Random, prm):
    k = prm.kind
    if rng.random() < 0.01:
        return rng.choice(["abc", None, [], -3, 1.5, {"a": 1}])
    if prm.nullable and rng.random() < 0.2:
        return None
    bad = rng.random() < 0.05
    if k == "int":
        usual = [prm.default] * 4 if prm.default is not None else []  # None: required
        return rng.choice([-1, 0] if bad else [1, 2, 3, 4, 8, 16] + usual)
    if k == "float":
        # 1.0 included: a dropout of 1 is legal in PyTorch (nothing passes)
        return rng.choice([-0.5, 2.0] if bad else [0.0, 0.1, 0.5, 1.0, 1e-5] + [prm.default] * 4)
    if k == "bool":
        return rng.random() < 0.5
    if k == "choice":
        return rng.choice(prm.choices) if prm.choices else prm.default
    if k == "size":
        r = rng.random()
        if r < 0.15 and prm.choices:
            return rng.choice(prm.choices)
        if r < 0.35:
            return [rng.randint(0 if bad else 1, 3) for _ in range(prm.length or rng.randint(1, 3))]
        return rng.choice([0] if bad else [1, 1, 2, 3])
    if k == "ints":
        n = prm.length or rng.randint(1, 4)
        if rng.random() < 0.5:
            perm = list(range(n))
            rng.shuffle(perm)
            return perm
        return [rng.randint(-2, 6) for _ in range(n)]
    if k == "shape":
        return [rng.choice([1, 2, 3, 4, 6, 8, "T"]) for _ in range(rng.randint(1, 3))]
    return prm.default


def _params(rng: random.Random, spec) -> dict:
    out = {}
    for prm in spec.params:
        if prm.required or rng.random() < 0.3:
            out[prm.name] = _value(rng, prm)
    if rng.random() < 0.005:
        out["no_such_param"] = 1
    if spec.inferred and rng.random() < 0.005:
        out[spec.inferred[0]] = 3
    return out


def _input(rng: random.Random, g: Graph, k: int) -> str:
    shape = [rng.choice([1, 2, 3, 4, 5, 8, 16, "T"]) for _ in range(rng.randint(1, 4))]
    dtype = "int64" if rng.random() < 0.15 else "float32"
    return g.add_node("Input", {"shape": shape, "dtype": dtype}, id=f"in{k}").id


def random_graph(seed: int, size: int) -> Graph:
    rng = random.Random(seed)
    layers = [s for s in blocks.all_specs() if s.role == "layer"]
    g = Graph()
    chaos = rng.random() < 0.2
    sources = [_input(rng, g, k) for k in range(1 if rng.random() < 0.85 else 2)]
    for k in range(size):
        spec = rng.choice(layers)
        nid = g.add_node(spec.type, _params(rng, spec), id=f"n{k}").id
        for port in spec.inputs:
            if port.optional and rng.random() < 0.5:
                continue
            if not chaos and rng.random() < 0.97:
                picks = [sources[-1] if rng.random() < 0.9 else rng.choice(sources)]
                if port.variadic:
                    picks += rng.choices(sources, k=rng.randint(0, 2))
                for src in picks:
                    g.add_edge_unchecked(Edge(src, nid, "out", port.name))
        sources.append(nid)
    if chaos:
        ids = list(g.nodes)
        for _ in range(rng.randint(0, 2 * size + 2)):
            src, dst = rng.choice(ids), rng.choice(ids)
            tspec = g.nodes[dst].spec
            if not tspec.inputs:
                continue
            sport = "out" if rng.random() < 0.95 else "bogus"
            g.add_edge_unchecked(Edge(src, dst, sport, rng.choice(tspec.inputs).name))
    if rng.random() < 0.95:
        out = g.add_node("Output", id="y").id
        g.add_edge_unchecked(Edge(sources[-1], out))
    return g


def check_invariants(g: Graph, an: Analyzer) -> None:
    assert g.nodes, "the empty graph is the documented exception (see the module docstring)"
    problems = an.problems()
    for p in problems:
        assert p.code in CODES, p
        assert p.node in g.nodes, p
        assert p.message and p.severity in ("error", "warning")
    if not an.valid():
        assert any(p.severity == ERROR for p in problems)
    else:
        for (nid, _port), tt in an.shapes().items():
            assert tt.shape[0] == "N"
            assert all(d > 0 for d in tt.shape[1:] if isinstance(d, int)), (nid, tt)
        totals = an.totals()
        assert all(isinstance(v, int) and v >= 0 for v in totals.values()), totals


@settings(max_examples=2000, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 9))
def test_validation_of_random_graphs_never_raises(seed, size):
    g = random_graph(seed, size)
    check_invariants(g, analyze(g, {"loss": {"type": "CrossEntropyLoss"}}, 1000))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.integers(0, 2**32 - 1))
def test_incremental_analysis_after_random_edits_equals_a_fresh_one(seed, size, edit_seed):
    g = random_graph(seed, size)
    an = Analyzer(g).refresh()
    rng = random.Random(edit_seed)
    for _ in range(3):
        node = rng.choice(list(g.nodes.values()))
        settable = [p for p in node.spec.params if p.name not in node.spec.inferred]
        if settable:
            prm = rng.choice(settable)
            g.set_param(node.id, prm.name, _value(rng, prm))
        an.refresh()
    fresh = analyze(g)
    assert an.shapes() == fresh.shapes()
    assert an.problems() == fresh.problems()
    assert an.totals() == fresh.totals()
    check_invariants(g, an)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
@example(seed=390504, size=5)  # a dilated MaxPool3d over T: valid from T = 7 only
@example(seed=2618537, size=5)  # xavier_normal with a negative gain: invalid, not a crash
@example(seed=10069, size=2)  # AvgPool3d, ceil_mode, a depth of 1: PyTorch refuses it
@example(seed=464, size=5)  # weight_norm of an all-zero initial weight: NaN everywhere
@example(seed=1415, size=1)  # Dropout p=1: legal in PyTorch
@example(seed=144, size=1)  # a recurrent layer's dropout of 1: legal too
@example(seed=653, size=1)  # InstanceNorm over a variable channel count
@example(seed=229886, size=5)  # a PositionalEncoding(max_len=2) over T: valid for T <= 2 only
@example(seed=132266, size=3)  # LocalResponseNorm with k < 0: NaN in torch, refused
@example(seed=3886, size=2)  # a ceil_mode pool over T whose last window may start in padding
def test_every_graph_that_validates_runs_in_torch_with_the_inferred_shapes(seed, size):
    """No false passes: the generated model's outputs, dtypes and parameter
    count are exactly what validation said (symbolic sizes evaluated at the
    smallest length from 5 up that every layer accepts), and its output is not
    NaN for every input."""
    import torch

    from support import run_and_compare

    for k in range(200):  # the first valid graph from this seed onwards
        g = random_graph(seed + k, size)
        if analyze(g).valid():
            out = run_and_compare(g)["out"]
            for t in out if isinstance(out, tuple) else (out,):
                assert not (t.is_floating_point() and t.numel() and torch.isnan(t).all()), \
                    "the model outputs NaN whatever the input"
            return


def test_the_empty_graph_is_invalid_without_a_node():
    an = analyze(Graph())
    assert not an.valid()
    assert [(p.code, p.node, p.severity) for p in an.problems()] == [
        (Code.NO_INPUT, None, ERROR), (Code.NO_OUTPUT, None, ERROR)]
