"""Add, Multiply and Concat with thousands of operands export, compile and run.

``a + b + c + ...`` parses into a tree as deep as its operands: 3,000 of them
overflowed Python's parser (``RecursionError ... during ast construction``) in
export, train and the Code panel.  Many operands now become one flat call
applied in the same order, so the result is the same to the bit.
"""

import importlib.util

import pytest
import torch

from codegen import build_model, generate
from codegen.export import write_model
from graph import Graph
from graph.blocks.structure import CHAIN_MAX
from support import single

SOURCES = ("Tanh", "Sigmoid", "ReLU")


def many(kind: str, n: int, **params) -> Graph:
    """Input → three activations → ``kind`` with ``n`` operands (cycling over them)."""
    g = Graph()
    g.add_node("Input", {"shape": [5]}, id="x")
    for k, t in enumerate(SOURCES):
        g.add_node(t, {}, id=f"s{k}")
        g.connect("x", f"s{k}")
    g.add_node(kind, params, id="c")
    for i in range(n):
        g.connect(f"s{i % len(SOURCES)}", "c")
    g.connect("c", g.add_node("Output", id="y").id)
    return g


def expected(kind: str, n: int, x: torch.Tensor) -> torch.Tensor:
    ops = [torch.tanh(x), torch.sigmoid(x), torch.relu(x)]
    xs = [ops[i % 3] for i in range(n)]
    if kind == "Concat":
        return torch.cat(xs, dim=1)
    out = xs[0]
    for t in xs[1:]:  # left to right, as ``a + b + c`` is evaluated
        out = out + t if kind == "Add" else out * t
    return out


def exported(graph: Graph, path):
    code = write_model(graph, path, "Many")
    spec = importlib.util.spec_from_file_location(f"many_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, code.class_name)()


@pytest.mark.parametrize("kind,n", [("Add", 3_000), ("Multiply", 3_000), ("Concat", 3_000),
                                    ("Add", 100_000)])
def test_thousands_of_operands_export_compile_and_compute_exactly(kind, n, tmp_path):
    g = many(kind, n, **({"dim": 1} if kind == "Concat" else {}))
    x = torch.randn(2, 5, generator=torch.Generator().manual_seed(0))
    want = expected(kind, n, x)
    model, _code = build_model(g, "Many")
    assert torch.equal(model(x), want)
    assert torch.equal(exported(g, tmp_path / f"{kind.lower()}.py")(x), want)


@pytest.mark.parametrize("kind,op", [("Add", "+"), ("Multiply", "*")])
def test_a_few_operands_stay_one_readable_expression(kind, op):
    src = generate(many(kind, 3)).source
    line = next(ln.strip() for ln in src.splitlines() if f" {op} " in ln)
    assert line.count(f" {op} ") == 2 and "sum(" not in line and "prod(" not in line


@pytest.mark.parametrize("n", [2, 3, 5, CHAIN_MAX, CHAIN_MAX + 1])
@pytest.mark.parametrize("kind", ["Add", "Multiply"])
def test_every_operand_counts_in_the_result(kind, n):
    # one Input per operand, each a different tensor: an operand dropped or
    # used twice changes the result (the readable a + b + c form and the
    # flat call for more than CHAIN_MAX operands alike)
    inputs = {f"x{k}": torch.randn(2, 4, generator=torch.Generator().manual_seed(k))
              for k in range(1, n + 1)}
    model, code = build_model(single(kind, {}, {"in": [(4,)] * n}), "Many")
    assert sorted(code.inputs) == sorted(inputs)
    with torch.no_grad():
        got = model(*(inputs[nid] for nid in code.inputs))
    want = torch.stack(list(inputs.values()))
    want = want.sum(0) if kind == "Add" else want.prod(0)
    assert torch.allclose(got, want, atol=1e-6)
