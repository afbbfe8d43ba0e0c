"""Test data driven by the block registry: a minimal valid graph for every block."""

from __future__ import annotations

import itertools

from graph import Graph, analyze, blocks

#: Candidate sample shapes (without the batch), tried in order per input port.
FLOAT_SHAPES = [(4, 6), (6,), (2, 6, 6), (2, 4, 6, 6), (8, 6), (8, 4, 4)]
INT_SHAPES = [(5,)]
#: Values for parameters that have no usable default.
PARAM_VALUES = {"num_heads": 2, "nhead": 2, "num_embeddings": 10, "embed_dim": 4}


def _params(spec: blocks.BlockSpec) -> dict:
    out = {}
    for p in spec.params:
        if p.name in PARAM_VALUES:
            out[p.name] = PARAM_VALUES[p.name]
        elif p.required:
            out[p.name] = p.choices[0] if p.choices else (int(p.min or 1) if p.kind == "int" else 1.0)
    return out


def minimal_graph(spec: blocks.BlockSpec) -> Graph | None:
    """Input(s) → the block → Output(s), with the first input shapes that validate."""
    if spec.role != "layer":
        return None
    ports = [p for p in spec.inputs if not p.optional]
    options = [INT_SHAPES if p.dtype == "int" else FLOAT_SHAPES for p in ports]
    for shapes in itertools.product(*options):
        g = Graph()
        node = g.add_node(spec.type, _params(spec), id="b")
        for k, (port, shape) in enumerate(zip(ports, shapes)):
            dt = "int64" if port.dtype == "int" else "float32"
            src = g.add_node("Input", {"shape": list(shape), "dtype": dt}, id=f"x{k}").id
            for _ in range(2 if port.variadic else 1):
                g.connect(src, node.id, target_port=port.name)
        for k, port in enumerate(spec.outputs):
            out = g.add_node("Output", id=f"y{k}").id
            g.connect(node.id, out, source_port=port.name)
        an = analyze(g)
        ok = not an.errors()
        an.close()
        if ok:
            return g
    return None
