"""Every block of the registry: generated, black-formatted, run, imported back."""

import pytest
import torch

from codegen import build_model, generate
from codegen.fx_import import import_model
from codegen.source import GeneratedCode
from codegen.compile import module_class
from graph import blocks
from codegen_cases import minimal_graph
from support import run_and_compare

black = pytest.importorskip("black")

SPECS = [s for s in blocks.all_specs() if s.role == "layer"]
#: Blocks whose code imports back as an equivalent block of another type.
IMPORTS_AS = {"GlobalAvgPool": "Mean"}


@pytest.fixture(params=SPECS, ids=lambda s: s.type)
def graph(request):
    g = minimal_graph(request.param)
    assert g is not None, f"no minimal valid graph found for {request.param.type}; extend codegen_cases.py"
    return g


def test_every_block_compiles_and_runs_with_inferred_shapes(graph):
    run_and_compare(graph)


def test_every_block_source_is_black_formatted(graph):
    src = generate(graph, "Block test").source
    assert black.format_str(src, mode=black.Mode()) == src


def test_every_block_round_trips_through_fx_import(graph):
    torch.manual_seed(0)
    model, code = build_model(graph)
    back = import_model(model)
    types = sorted(IMPORTS_AS.get(n.type, n.type) for n in graph.nodes.values())
    assert sorted(n.type for n in back.nodes.values()) == types
    for n in graph.nodes.values():
        if n.type not in ("Input", "Output") and n.type not in IMPORTS_AS:
            twin = [m for m in back.nodes.values() if m.type == n.type]
            assert twin and twin[0].params == n.params, (n.params, twin and twin[0].params)
    model2 = module_class(generate(back))()
    model2.load_state_dict(model.state_dict())
    _same_outputs(model, model2, code)


def _same_outputs(a, b, code: GeneratedCode):
    a.eval(), b.eval()
    args = [torch.randint(0, 5, (2,) + tuple(p.shape[1:])) if p.dtype == torch.int64 else
            torch.randn(p.shape) for p in _probe(a, code)]
    with torch.no_grad():
        ya, yb = a(*args), b(*args)
    for u, v in zip(ya if isinstance(ya, tuple) else (ya,), yb if isinstance(yb, tuple) else (yb,)):
        assert torch.equal(u, v)


def _probe(model, code):
    from graph import dims

    shapes = []
    for line in (type(model).__doc__ or "").splitlines():
        line = line.strip()
        if line.startswith("Input "):
            shape, dtype = line.split(": ", 1)[1].rsplit(" (", 1)
            sizes = [dims.nominal(int(p) if p.isdigit() else p) for p in shape.split("×")[1:]]
            shapes.append(torch.empty([2] + sizes, dtype=torch.int64 if "int64" in dtype else torch.float32))
    assert len(shapes) == len(code.inputs)
    return shapes
