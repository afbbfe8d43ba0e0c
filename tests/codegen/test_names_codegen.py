"""Names in generated code: a layer's attribute is its node's name verbatim
(so state-dict keys are the canvas names), and forward's inputs and outputs
follow node order."""

import importlib.util
import json

import pytest
import torch

from codegen import build_model, generate
from codegen.compile import module_class
from codegen.export import write_model
from graph import Graph
from graph.project import Project, project_from_dict, project_to_dict


def test_layer_attributes_are_the_node_names_as_written():
    g = Graph()
    g.add_node("Input", {"shape": [4]}, id="x", name="features")
    for nid, name in [("a", "Stem"), ("b", "convBlock1"), ("c", "input"), ("d", "x")]:
        g.add_node("Linear", {"out_features": 4}, id=nid, name=name)
    g.add_node("Output", id="y", name="result")
    for s, t in zip("xabcd", "abcdy"):
        g.connect(s, t)
    code = generate(g, "Names")
    assert code.attrs == {"a": "Stem", "b": "convBlock1", "c": "input", "d": "x"}
    assert "self.convBlock1 = nn.Linear(4, 4)" in code.source
    model = module_class(code)()
    assert {k.split(".")[0] for k in model.state_dict()} == {"Stem", "convBlock1", "input", "x"}
    assert model(torch.zeros(2, 4)).shape == (2, 4)


def test_the_model_handed_to_training_has_the_canvas_names_as_state_dict_keys():
    """Add two Conv2d, rename the first ``stem``: training gets the project as a
    dict (project_to_dict → project_from_dict in the child process); its model's
    checkpoint keys were ``stem.*, conv2d_1.*`` while the canvas said conv2d_2."""
    g = Graph()
    g.add_node("Input", {"shape": [3, 8, 8]}, id="x")
    first = g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3})
    second = g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3})
    g.add_node("Output", id="y")
    g.connect("x", first.id)
    g.connect(first.id, second.id)
    g.connect(second.id, "y")
    g.rename(first.id, "stem")
    child = project_from_dict(json.loads(json.dumps(project_to_dict(Project("p", g))))).graph
    model, code = build_model(child, "p")
    canvas = {n.name for n in g.nodes.values() if n.type == "Conv2d"}
    assert canvas == {"stem", "conv2d_2"}
    assert {k.split(".")[0] for k in model.state_dict()} == canvas
    assert set(code.attrs.values()) == canvas


def _outputs_against_topological_order() -> Graph:
    """Two outputs; the first Output node is fed by the last layer in
    topological order (x → a → b; the first Output takes b, the second a)."""
    g = Graph()
    g.add_node("Input", {"shape": [4]}, id="x", name="features")
    g.add_node("Output", id="first", name="deep_out")
    g.add_node("Linear", {"out_features": 2}, id="a", name="shallow")
    g.add_node("Linear", {"out_features": 3}, id="b", name="deep")
    g.add_node("Output", id="second", name="shallow_out")
    g.connect("x", "a")
    g.connect("a", "b")
    g.connect("b", "first")
    g.connect("a", "second")
    return g


def test_forward_returns_the_outputs_in_output_node_order(tmp_path):
    g = _outputs_against_topological_order()
    path = tmp_path / "two_outputs.py"
    code = write_model(g, path, "Two outputs")
    assert code.outputs == ["first", "second"]
    assert "Output 1: N×3\n    Output 2: N×2" in code.source  # the docstring, in that order
    spec = importlib.util.spec_from_file_location("two_outputs", path)
    exported = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exported)
    torch.manual_seed(0)
    model = getattr(exported, code.class_name)()
    x = torch.randn(5, 4)
    first, second = model(x)
    assert torch.allclose(first, model.deep(model.shallow(x)))
    assert torch.allclose(second, model.shallow(x))


def test_forward_takes_the_inputs_in_input_node_order():
    g = Graph()
    g.add_node("Input", {"shape": [3]}, id="b_in", name="second_in")
    g.add_node("Input", {"shape": [5]}, id="a_in", name="first_in")
    g.add_node("Bilinear", {"out_features": 2}, id="bil", name="mix")
    g.add_node("Output", id="y")
    g.connect("a_in", "bil", target_port="in1")  # the later Input feeds the first port
    g.connect("b_in", "bil", target_port="in2")
    g.connect("bil", "y")
    code = generate(g)
    assert code.inputs == ["b_in", "a_in"] and code.arg_names == ["second_in", "first_in"]
    model = module_class(code)()
    a, b = torch.randn(2, 5), torch.randn(2, 3)
    assert torch.allclose(model(b, a), model.mix(a, b))
    with pytest.raises(RuntimeError):
        model(a, b)
