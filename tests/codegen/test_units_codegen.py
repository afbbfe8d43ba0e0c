"""Units in generated code: one class per unit, nested state-dict keys, the
exported file equal to the in-app model, and every export working with units."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from codegen import build_model, generate
from codegen.compile import module_class
from graph.project import loads_project

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "graph"))
from test_units import BASIC, TorchBasicBlock, nested_doc, project, two_stage  # noqa: E402

black = pytest.importorskip("black")
ROOT = Path(__file__).resolve().parents[2]


def load(doc):
    return loads_project(json.dumps(doc))


def exported(doc, name="ResNetish"):
    """The generated source, and the model made by executing it as a user would."""
    code = generate(load(doc).graph, name)
    namespace: dict = {"__name__": "exported"}
    exec(compile(code.source, "exported.py", "exec"), namespace)
    return code, namespace


def test_one_class_per_unit_with_nested_state_dict_keys():
    code, ns = exported(two_stage(repeat1=2))
    src = code.source
    assert src.count("class BasicBlock(nn.Module):") == 1
    assert src.index("class BasicBlock") < src.index("class ResNetish")
    assert "def __init__(self, in_channels, channels=64, stride=1):" in src
    assert "nn.Conv2d(\n            in_channels, channels, kernel_size=3, stride=stride" in src
    assert "self.layer1 = nn.Sequential(" in src
    model = ns["ResNetish"]()
    keys = list(model.state_dict())
    assert "layer1.0.conv1.weight" in keys and "layer1.1.bn1.running_mean" in keys
    assert "layer2.conv1.weight" in keys
    assert black.format_str(src, mode=black.Mode()) == src
    assert set(ns) >= {"torch", "nn", "BasicBlock", "ResNetish"}
    assert not [line for line in src.splitlines()
                if line.startswith(("import ", "from ")) and "torch" not in line]


def test_exported_model_equals_the_in_app_model_and_a_hand_written_block():
    doc = two_stage(repeat1=2)
    app, code = build_model(load(doc).graph, "ResNetish")
    _, ns = exported(doc)
    mine = ns["ResNetish"]()
    mine.load_state_dict(app.state_dict())
    app.eval()
    mine.eval()
    x = torch.randn(3, 16, 8, 8)
    torch.testing.assert_close(mine(x), app(x), rtol=0, atol=0)
    # the unit's class computes what the BasicBlock written by hand computes
    hand = TorchBasicBlock(32).eval()
    hand.load_state_dict(app.layer2.state_dict())
    y = torch.randn(2, 32, 8, 8)
    torch.testing.assert_close(app.layer2(y), hand(y))
    assert code.params == sum(p.numel() for p in app.parameters())


def test_stride_from_an_instance_reaches_the_layer():
    doc = project(
        [{"id": "img", "type": "Input", "params": {"shape": [4, 8, 8]}},
         {"id": "d", "type": "Down", "name": "down", "params": {"channels": 6, "stride": 2}},
         {"id": "k", "type": "Down", "name": "keep", "params": {"channels": 6}},
         {"id": "out", "type": "Output"}],
        [{"source": "img", "target": "d"}, {"source": "d", "target": "k"},
         {"source": "k", "target": "out"}],
        {"Down": {"params": {"channels": 8, "stride": 1}, "nodes": BASIC["nodes"][:3]
                  + [{"id": "y", "type": "Output"}],
                  "edges": BASIC["edges"][:2] + [{"source": "b1", "target": "y"}]}})
    code, ns = exported(doc, "Net")
    assert "self.down = Down(4, channels=6, stride=2)" in code.source
    assert "self.keep = Down(6, channels=6)" in code.source
    assert ns["Net"]()(torch.zeros(1, 4, 8, 8)).shape == (1, 6, 4, 4)


def test_instances_needing_different_sizes_get_constructor_arguments():
    """A Linear after Flatten: its in_features comes from the spatial size,
    which differs between the two instances; one class serves both."""
    head = {"params": {"classes": 3}, "nodes": [
        {"id": "x", "type": "Input"}, {"id": "f", "type": "Flatten", "name": "flat"},
        {"id": "fc", "type": "Linear", "name": "fc", "params": {"out_features": "$classes"}},
        {"id": "y", "type": "Output"}],
        "edges": [{"source": "x", "target": "f"}, {"source": "f", "target": "fc"},
                  {"source": "fc", "target": "y"}]}
    doc = project(
        [{"id": "a", "type": "Input", "params": {"shape": [2, 4, 4]}},
         {"id": "b", "type": "Input", "params": {"shape": [2, 3, 3]}},
         {"id": "ha", "type": "Head", "name": "head_a"},
         {"id": "hb", "type": "Head", "name": "head_b", "params": {"classes": 5}},
         {"id": "ya", "type": "Output"}, {"id": "yb", "type": "Output"}],
        [{"source": "a", "target": "ha"}, {"source": "b", "target": "hb"},
         {"source": "ha", "target": "ya"}, {"source": "hb", "target": "yb"}],
        {"Head": head})
    code, ns = exported(doc, "Two")
    assert code.source.count("class Head(nn.Module):") == 1
    assert "self.fc = nn.Linear(fc_arg, classes)" in code.source
    assert "Head(32)" in code.source and "Head(18, classes=5)" in code.source
    ya, yb = ns["Two"]()(torch.zeros(2, 2, 4, 4), torch.zeros(2, 2, 3, 3))
    assert ya.shape == (2, 3) and yb.shape == (2, 5)
    assert black.format_str(code.source, mode=black.Mode()) == code.source


def test_a_unit_inside_a_unit_is_defined_after_the_unit_it_uses():
    code, ns = exported(nested_doc(), "Nest")
    src = code.source
    assert src.index("class BasicBlock(") < src.index("class Pair(") < src.index("class Nest(")
    model = ns["Nest"]()
    assert "pair.second.1.conv1.weight" in model.state_dict()
    assert model(torch.zeros(2, 8, 4, 4)).shape == (2, 8, 4, 4)
    app, _ = build_model(load(nested_doc()).graph, "Nest")
    assert sum(p.numel() for p in app.parameters()) == \
        sum(p.numel() for p in model.parameters()) == 3 * sum(
            p.numel() for p in TorchBasicBlock(8).parameters())


def test_a_unit_with_two_inputs_and_two_outputs():
    split = {"params": {}, "nodes": [
        {"id": "a", "type": "Input"}, {"id": "b", "type": "Input"},
        {"id": "s", "type": "Add", "name": "total"},
        {"id": "m", "type": "Multiply", "name": "product"},
        {"id": "sum", "type": "Output"}, {"id": "prod", "type": "Output"}],
        "edges": [{"source": "a", "target": "s"}, {"source": "b", "target": "s"},
                  {"source": "a", "target": "m"}, {"source": "b", "target": "m"},
                  {"source": "s", "target": "sum"}, {"source": "m", "target": "prod"}]}
    doc = project(
        [{"id": "x", "type": "Input", "params": {"shape": [4]}},
         {"id": "u", "type": "Both", "name": "both"},
         {"id": "fc", "type": "Linear", "name": "fc", "params": {"out_features": 2}},
         {"id": "y1", "type": "Output"}, {"id": "y2", "type": "Output"}],
        [{"source": "x", "target": "u", "target_port": "a"},
         {"source": "x", "target": "u", "target_port": "b"},
         {"source": "u", "target": "fc", "source_port": "prod"},
         {"source": "u", "target": "y1", "source_port": "sum"},
         {"source": "fc", "target": "y2"}],
        {"Both": split})
    code, ns = exported(doc, "Multi")
    model = ns["Multi"]()
    x = torch.randn(3, 4)
    s, out = model(x)
    torch.testing.assert_close(s, x + x)
    torch.testing.assert_close(out, model.fc(x * x))


def test_cli_export_with_training_script_trains_a_project_with_units(tmp_path):
    doc = project(
        [{"id": "img", "type": "Input", "name": "image", "params": {"shape": [1, 8, 8]}},
         {"id": "stem", "type": "Conv2d", "name": "stem",
          "params": {"out_channels": 8, "kernel_size": 3, "padding": 1}},
         {"id": "l1", "type": "BasicBlock", "name": "layer1", "params": {"channels": 8},
          "repeat": 2},
         {"id": "f", "type": "Flatten", "name": "flat"},
         {"id": "fc", "type": "Linear", "name": "fc", "params": {"out_features": 10}},
         {"id": "out", "type": "Output"}],
        [{"source": "img", "target": "stem"}, {"source": "stem", "target": "l1"},
         {"source": "l1", "target": "f"}, {"source": "f", "target": "fc"},
         {"source": "fc", "target": "out"}],
        {"BasicBlock": copy.deepcopy(BASIC)})
    doc["training"] = {"dataset": {"name": "digits", "n": 120}, "epochs": 1, "batch_size": 32}
    path = tmp_path / "res.json"
    path.write_text(json.dumps(doc), "utf-8")
    out = tmp_path / "res.py"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(path), "-o", str(out),
                        "--training-script"], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    script = tmp_path / "res_train.py"
    assert script.exists(), r.stdout
    r = subprocess.run([sys.executable, "-I", str(script), "--epochs", "1", "--device", "cpu"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    metrics = json.loads(r.stdout.strip().splitlines()[-1])
    assert metrics["epochs"] == 1
    ns: dict = {"__name__": "x"}
    exec(compile(out.read_text("utf-8"), str(out), "exec"), ns)
    model = next(v for k, v in ns.items() if isinstance(v, type) and issubclass(v, nn.Module)
                 and k != "BasicBlock")()
    assert "layer1.1.conv1.weight" in model.state_dict()


def test_the_in_app_module_is_made_from_the_same_source():
    g = load(two_stage()).graph
    model, code = build_model(g, "Same")
    assert type(model).__name__ == "Same"
    assert type(model.layer1).__name__ == "BasicBlock"
    assert module_class(code)().state_dict().keys() == model.state_dict().keys()
