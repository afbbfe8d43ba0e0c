"""Shared test helpers: build small graphs and run a block on real tensors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from graph import Graph, analyze
from graph import dims


def chain(*layers: tuple[str, dict] | str, input_shape=(1, 8, 8), dtype="float32") -> Graph:
    """Input → layers... → Output, each layer ``"Type"`` or ``("Type", params)``."""
    g = Graph()
    prev = g.add_node("Input", {"shape": list(input_shape), "dtype": dtype}, id="x").id
    for k, layer in enumerate(layers):
        t, p = (layer, {}) if isinstance(layer, str) else layer
        nid = g.add_node(t, p, id=f"l{k + 1}").id
        g.connect(prev, nid)
        prev = nid
    g.connect(prev, g.add_node("Output", id="y").id)
    return g


def chain_file(path: Path, nodes: Sequence[Mapping], training: Mapping, name: str) -> Path:
    """Write a version-1 project file whose ``nodes`` (dicts as in the file)
    are connected in a chain, in list order; returns ``path``."""
    ids = [n["id"] for n in nodes]
    doc = {"format": "netcanvas", "version": 1, "name": name, "nodes": list(nodes),
           "edges": [{"source": a, "target": b} for a, b in zip(ids, ids[1:])],
           "training": dict(training)}
    path.write_text(json.dumps(doc))
    return path


class StopAtStep:
    """A training callback that asks for a stop as soon as global step ``k``
    is reported (report_every=0); set ``trainer`` before training."""

    def __init__(self, k: int):
        self.k = k
        self.trainer = None

    def on_step(self, m):
        if m["step"] == self.k:
            self.trainer.stop()


def single(block: str, params: Mapping[str, Any], inputs: Mapping[str, Any],
           dtype: str | Mapping[str, str] = "float32") -> Graph:
    """A graph with one block fed by one Input per input (a list of shapes for
    a variadic port).  Shapes are sample shapes, without the batch."""
    g = Graph()
    node = g.add_node(block, dict(params), id="b")
    k = 0
    for port, shapes in inputs.items():
        many = isinstance(shapes, list) and shapes and isinstance(shapes[0], (list, tuple))
        for shape in (shapes if many else [shapes]):
            k += 1
            dt = dtype if isinstance(dtype, str) else dtype.get(port, "float32")
            src = g.add_node("Input", {"shape": list(shape), "dtype": dt}, id=f"x{k}").id
            g.connect(src, node.id, target_port=port)
    g.connect(node.id, g.add_node("Output", id="y").id)
    return g


def workable_env(an, names=("T", "S"), start: int = 5, stop: int = 512) -> dict[str, int]:
    """The smallest sizes (from ``start``) for the symbolic names at which every
    inferred dimension of the graph is at least 1.

    A graph with a symbolic length is valid when some length works: pooling
    ``T`` with a dilated window of 7 needs ``T >= 7``; evaluating it at 5
    would test an input the user could never feed it.
    """
    dims_ = [d for tt in an.shapes().values() for d in tt.shape[1:] if not dims.is_concrete(d)]
    # a PositionalEncoding takes sequences up to its max_len: never evaluate past that
    caps = [r.params.get("max_len") for nid, r in an.results.items()
            if an.graph.nodes[nid].type == "PositionalEncoding" and r.params]
    stop = min([stop, *[c + 1 for c in caps if isinstance(c, int)]])
    for size in [*range(start, stop), *range(min(start, stop) - 1, 0, -1)]:
        env = {n: size for n in names}
        if all(dims.evaluate(d, env, default=size) >= 1 for d in dims_):
            return env
    raise AssertionError(f"no size in [{start}, {stop}) makes every dimension positive: {dims_}")


def run_and_compare(g: Graph, batch: int = 2, env: Mapping[str, int] | None = None,
                    int_high: int = 10, train: bool = False) -> dict:
    """Build the model from generated code, run it, and compare with analysis.

    Asserts: no errors; the output shape equals the inferred shape (symbolic
    sizes evaluated with ``env``, by default :func:`workable_env`); the parameter count equals graph's count.

    Returns:
        ``{"model": module, "code": GeneratedCode, "out": tensor(s)}``.
    """
    import torch

    from codegen import build_model

    an = analyze(g)
    env = dict(env or workable_env(an))
    errors = an.errors()
    assert not errors, [p.message for p in errors]
    model, code = build_model(g, "Block test")
    model.train(train)
    # token ids a user's data could hold: within every vocabulary they index
    tables = [an.result(nid).params.get("num_embeddings") for nid in g.nodes
              if g.nodes[nid].type == "Embedding"]
    int_high = min([int_high, *[t for t in tables if isinstance(t, int)]])
    args = []
    for nid in code.inputs:
        tt = an.output_type(nid)
        shape = [batch] + [dims.evaluate(d, env) for d in tt.shape[1:]]
        if tt.dtype == "int64":
            args.append(torch.randint(0, int_high, shape))
        else:
            args.append(torch.randn(shape))
    with torch.no_grad():
        out = model(*args)
    outs = out if isinstance(out, tuple) else (out,)
    for nid, got in zip(code.outputs, outs):
        tt = an.output_type(nid)
        want = [batch] + [dims.evaluate(d, env) for d in tt.shape[1:]]
        assert list(got.shape) == want, f"torch gives {list(got.shape)}, rule says {want} ({tt})"
        assert str(got.dtype).replace("torch.", "") == tt.dtype, (got.dtype, tt.dtype)
    n_torch = sum(p.numel() for p in model.parameters())
    n_graph = an.totals()["params"]
    assert n_torch == n_graph, f"torch counts {n_torch} parameters, graph counts {n_graph}"
    return {"model": model, "code": code, "out": out, "analyzer": an}


def problems_of(g: Graph, code: str | None = None) -> list:
    found = analyze(g).problems()
    return [p for p in found if code is None or p.code == code]


def check_rejects(block: str, params: Mapping[str, Any], inputs: Mapping[str, Any],
                  code: str, dtype: str | Mapping[str, str] = "float32",
                  contains: Sequence[str] = ()) -> str:
    """Assert the block gets an error of ``code`` on node ``b``; return its message."""
    g = single(block, params, inputs, dtype)
    found = [p for p in analyze(g).problems() if p.node == "b" and p.code == code]
    assert found, f"expected a {code} error, got {[(p.code, p.message) for p in analyze(g).problems()]}"
    for text in contains:
        assert text in found[0].message, (text, found[0].message)
    return found[0].message


def blobs(n: int = 96, d: int = 2, classes: int = 2, seed: int = 0, val: int = 32):
    """A tiny separable classification set, ``n`` training and ``val`` validation
    samples of ``d`` features (a :class:`runtime.data.Dataset`, no file read)."""
    import numpy as np

    from runtime.data import Dataset

    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n + val)
    X = (rng.normal(size=(n + val, d)) + 3 * np.eye(classes, d)[y]).astype(np.float32)
    return Dataset("blobs", "classification", X[:n], y[:n], X[n:], y[n:], (d,), "float32",
                   classes, [f"c{k}" for k in range(classes)], (), "test blobs")

