"""Units (composite blocks): the file format (version 2), analysis through
instances (repeat, nesting, recursion), and the graph API's unit edits."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from graph.analysis import Analyzer, analyze
from graph.graph import Graph
from graph.problems import GraphEditError
from graph.project import (ProjectLoadError, dumps_project, load_project, loads_project,
                           save_project)
from graph.units import UnitDef

ROOT = Path(__file__).resolve().parents[2]

BASIC = {
    "params": {"channels": 64, "stride": 1},
    "nodes": [
        {"id": "x", "type": "Input"},
        {"id": "c1", "type": "Conv2d", "name": "conv1",
         "params": {"out_channels": "$channels", "kernel_size": 3, "stride": "$stride",
                    "padding": 1, "bias": False}},
        {"id": "b1", "type": "BatchNorm2d", "name": "bn1"},
        {"id": "r", "type": "ReLU", "name": "relu"},
        {"id": "add", "type": "Add"},
        {"id": "y", "type": "Output"},
    ],
    "edges": [{"source": "x", "target": "c1"}, {"source": "c1", "target": "b1"},
              {"source": "b1", "target": "add"}, {"source": "x", "target": "add"},
              {"source": "add", "target": "r"}, {"source": "r", "target": "y"}],
}


def project(nodes, edges, units=None, version=2):
    doc = {"format": "netcanvas", "version": version, "name": "units",
           "nodes": nodes, "edges": edges, "training": {}}
    if units is not None:
        doc["units"] = units
    return doc


def two_stage(repeat1=1):
    """Input 16×8×8 → BasicBlock(16) → Conv2d 32 → BasicBlock(32) → Output."""
    l1 = {"id": "l1", "type": "BasicBlock", "name": "layer1", "params": {"channels": 16}}
    if repeat1 != 1:
        l1["repeat"] = repeat1
    return project(
        [{"id": "img", "type": "Input", "name": "image", "params": {"shape": [16, 8, 8]}},
         l1,
         {"id": "up", "type": "Conv2d", "name": "up",
          "params": {"out_channels": 32, "kernel_size": 1}},
         {"id": "l2", "type": "BasicBlock", "name": "layer2", "params": {"channels": 32}},
         {"id": "out", "type": "Output", "name": "out"}],
        [{"source": "img", "target": "l1"}, {"source": "l1", "target": "up"},
         {"source": "up", "target": "l2"}, {"source": "l2", "target": "out"}],
        {"BasicBlock": copy.deepcopy(BASIC)})


def load(doc):
    return loads_project(json.dumps(doc))


def load_error(doc) -> ProjectLoadError:
    with pytest.raises(ProjectLoadError) as info:
        load(doc)
    return info.value


class TorchBasicBlock(nn.Module):
    """The doc's BasicBlock written by hand: relu(bn(conv(x)) + x)."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(self.bn1(self.conv1(x)) + x)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# ------------------------------------------------------------------ file format
def test_version_1_file_loads_unchanged_and_saves_as_version_1():
    doc = project([{"id": "x", "type": "Input", "name": "x", "params": {"shape": [4]}},
                   {"id": "y", "type": "Output", "name": "y", "params": {}}],
                  [{"source": "x", "target": "y"}], version=1)
    p = load(doc)
    assert not p.graph.units
    saved = json.loads(dumps_project(p))
    assert saved["version"] == 1 and "units" not in saved
    assert saved["nodes"] == doc["nodes"] and saved["edges"] == doc["edges"]


def test_file_with_units_saves_as_version_2_and_reopens_unchanged(tmp_path):
    doc = two_stage(repeat1=2)
    p = load(doc)
    path = save_project(p, tmp_path / "u.json")
    saved = json.loads(path.read_text("utf-8"))
    assert saved["version"] == 2
    assert list(saved)[:4] == ["format", "version", "name", "units"]
    assert saved["units"]["BasicBlock"]["params"] == BASIC["params"]
    assert [n["id"] for n in saved["units"]["BasicBlock"]["nodes"]] == \
        [n["id"] for n in BASIC["nodes"]]
    assert saved["nodes"][1]["repeat"] == 2
    again = load_project(path)
    assert dumps_project(again) == path.read_text("utf-8")


def test_frozen_is_loaded_and_saved():
    doc = two_stage()
    doc["nodes"][1]["frozen"] = True
    p = load(doc)
    assert p.graph.nodes["l1"].frozen and not p.graph.nodes["l2"].frozen
    saved = json.loads(dumps_project(p))
    assert saved["nodes"][1]["frozen"] is True and "frozen" not in saved["nodes"][3]


def test_a_program_knowing_version_2_refuses_version_3_naming_both():
    doc = two_stage()
    doc["version"] = 3
    err = load_error(doc)
    assert "version 3" in str(err) and "up to version 2" in str(err)


def _units_with(**changes):
    doc = two_stage()
    unit = doc["units"]["BasicBlock"]
    for key, value in changes.items():
        unit[key] = value
    return doc


BAD_FILES = {
    "missing Output": (
        lambda: _units_with(nodes=BASIC["nodes"][:-1], edges=BASIC["edges"][:-1]),
        "units.BasicBlock.nodes", "has no Output node"),
    "missing Input": (
        lambda: _units_with(nodes=BASIC["nodes"][1:], edges=BASIC["edges"][1:3]
                            + BASIC["edges"][4:]),
        "units.BasicBlock.nodes", "has no Input node"),
    "unknown unit": (
        lambda: {**two_stage(), "nodes": [{**n, "type": "BasicBlok"} if n["id"] == "l1" else n
                                          for n in two_stage()["nodes"]]},
        "nodes[1].type", "unknown block type or unit 'BasicBlok' (did you mean 'BasicBlock'?)"),
    "$name not a parameter": (
        lambda: _units_with(nodes=[{**n, "params": {**n["params"], "stride": "$strides"}}
                                   if n["id"] == "c1" else n for n in BASIC["nodes"]]),
        "units.BasicBlock.nodes[1].params.stride",
        "$strides is not a parameter of unit BasicBlock (its parameters: channels, stride)"),
    "repeat not a number": (
        lambda: {**two_stage(), "nodes": [{**n, "repeat": "2"} if n["id"] == "l1" else n
                                          for n in two_stage()["nodes"]]},
        "nodes[1].repeat", "must be a whole number from 1 to 10000, got \"2\""),
    "repeat zero": (
        lambda: {**two_stage(), "nodes": [{**n, "repeat": 0} if n["id"] == "l1" else n
                                          for n in two_stage()["nodes"]]},
        "nodes[1].repeat", "got 0"),
    "repeat true": (
        lambda: {**two_stage(), "nodes": [{**n, "repeat": True} if n["id"] == "l1" else n
                                          for n in two_stage()["nodes"]]},
        "nodes[1].repeat", "got true"),
    "repeat on a block": (
        lambda: {**two_stage(), "nodes": [{**n, "repeat": 2} if n["id"] == "up" else n
                                          for n in two_stage()["nodes"]]},
        "nodes[2].repeat", "only a unit instance can repeat; Conv2d is a catalogue block"),
    "frozen not a bool": (
        lambda: {**two_stage(), "nodes": [{**n, "frozen": "yes"} if n["id"] == "up" else n
                                          for n in two_stage()["nodes"]]},
        "nodes[2].frozen", "must be true or false"),
    "unit name not an identifier": (
        lambda: {**two_stage(), "units": {"Basic Block": BASIC}},
        "units.Basic Block", "must be a Python identifier"),
    "unit shadows a block": (
        lambda: {**two_stage(), "units": {"Conv2d": BASIC}},
        "units.Conv2d", "is a catalogue block; a unit must not shadow it"),
    "unit Input with a shape": (
        lambda: _units_with(nodes=[{**BASIC["nodes"][0], "params": {"shape": [16, 8, 8]}}]
                            + BASIC["nodes"][1:]),
        "units.BasicBlock.nodes[0].params.shape", "a unit's Input has no shape"),
    "unknown unit key": (
        lambda: _units_with(parameters={}),
        "units.BasicBlock", "unknown key 'parameters'"),
    "units not an object": (
        lambda: {**two_stage(), "units": []},
        "units", "must be an object"),
    "bad edge port inside a unit": (
        lambda: _units_with(edges=BASIC["edges"] + [{"source": "x", "target": "r",
                                                     "target_port": "nope"}]),
        "units.BasicBlock.edges[6].target_port", "has no input port 'nope'"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_unit_files_give_a_located_error(case):
    make, location, words = BAD_FILES[case]
    err = load_error(make())
    assert err.location == location, str(err)
    assert words in err.message, str(err)


def test_repeat_on_a_unit_with_two_inputs_is_refused():
    two_in = {
        "params": {},
        "nodes": [{"id": "a", "type": "Input"}, {"id": "b", "type": "Input"},
                  {"id": "s", "type": "Add"}, {"id": "y", "type": "Output"}],
        "edges": [{"source": "a", "target": "s"}, {"source": "b", "target": "s"},
                  {"source": "s", "target": "y"}]}
    doc = project([{"id": "x", "type": "Input", "params": {"shape": [4]}},
                   {"id": "u", "type": "Sum2", "repeat": 2},
                   {"id": "y", "type": "Output"}],
                  [{"source": "x", "target": "u", "target_port": "a"},
                   {"source": "x", "target": "u", "target_port": "b"},
                   {"source": "u", "target": "y"}], {"Sum2": two_in})
    err = load_error(doc)
    assert err.location == "nodes[1].repeat"
    assert "unit Sum2 has 2 inputs and 1 outputs; only a unit with one input and one " \
           "output can repeat" in err.message


def test_recursion_is_refused_with_the_cycle_named():
    def user(other):
        return {"params": {}, "nodes": [{"id": "x", "type": "Input"},
                                        {"id": "i", "type": other},
                                        {"id": "y", "type": "Output"}],
                "edges": [{"source": "x", "target": "i"}, {"source": "i", "target": "y"}]}

    doc = project([{"id": "x", "type": "Input", "params": {"shape": [4]}},
                   {"id": "a", "type": "A"}, {"id": "y", "type": "Output"}],
                  [{"source": "x", "target": "a"}, {"source": "a", "target": "y"}],
                  {"A": user("B"), "B": user("A")})
    err = load_error(doc)
    assert err.location == "units.A"
    assert "unit A uses itself: A → B → A" in err.message


def test_a_unit_using_itself_directly_is_refused():
    doc = project([], [], {"Loop": {"params": {}, "nodes": [
        {"id": "x", "type": "Input"}, {"id": "i", "type": "Loop"}, {"id": "y", "type": "Output"}],
        "edges": []}})
    assert "Loop → Loop" in load_error(doc).message


# ------------------------------------------------------------------ analysis
def test_one_unit_serves_16_and_32_channels_shapes_and_counts_match_torch():
    p = load(two_stage())
    an = analyze(p.graph)
    assert not an.errors(), an.errors()
    x = torch.zeros(2, 16, 8, 8)
    ref16, ref32 = TorchBasicBlock(16).eval(), TorchBasicBlock(32).eval()
    y1 = ref16(x)
    y2 = ref32(nn.Conv2d(16, 32, 1)(y1))
    assert an.output_type("l1", "y").shape == ("N",) + tuple(y1.shape[1:])
    assert an.output_type("l2", "y").shape == ("N",) + tuple(y2.shape[1:])
    assert an.result("l1").n_params == n_params(ref16)
    assert an.result("l2").n_params == n_params(ref32)
    assert an.totals()["params"] == n_params(ref16) + n_params(ref32) + 32 * 16 + 32
    # inner shapes, by dotted id relative to the instance
    assert an.result("l2").inner["c1"].outs["out"].shape == ("N", 32, 8, 8)
    assert an.result("l1").flops > 0 and an.totals()["flops"] >= an.result("l1").flops


def test_repeat_chains_copies_each_with_its_own_weights():
    p = load(two_stage(repeat1=3))
    an = analyze(p.graph)
    assert not an.errors(), an.errors()
    r = an.result("l1")
    assert r.n_params == 3 * n_params(TorchBasicBlock(16))
    assert {k for k in r.inner if k.endswith(".c1")} == {"0.c1", "1.c1", "2.c1"}
    single = analyze(load(two_stage()).graph).result("l1")
    assert r.flops == 3 * single.flops


def test_repeated_copy_whose_output_does_not_fit_says_which_copy():
    shrink = {"params": {"c": 4}, "nodes": [
        {"id": "x", "type": "Input"},
        {"id": "conv", "type": "Conv2d", "params": {"out_channels": "$c", "kernel_size": 3}},
        {"id": "y", "type": "Output"}],
        "edges": [{"source": "x", "target": "conv"}, {"source": "conv", "target": "y"}]}
    doc = project([{"id": "x", "type": "Input", "params": {"shape": [1, 5, 5]}},
                   {"id": "s", "type": "Shrink", "name": "shrink", "repeat": 3},
                   {"id": "y", "type": "Output"}],
                  [{"source": "x", "target": "s"}, {"source": "s", "target": "y"}],
                  {"Shrink": shrink})
    an = analyze(load(doc).graph)
    mine = [pr for pr in an.errors() if pr.node == "s"]
    assert len(mine) == 1
    assert "copy 3 of 3 (its input N×4×1×1)" in mine[0].message
    assert "inner block 2.conv" in mine[0].message
    inner = [pr for pr in an.errors() if pr.node == "s.2.conv"]
    assert inner and 'in Shrink "shrink"' in inner[0].message
    # the copies that worked keep their shapes
    assert an.result("s").inner["1.conv"].outs["out"].shape == ("N", 4, 1, 1)


def test_problem_inside_an_instance_is_on_the_instance_and_the_dotted_inner_node():
    doc = two_stage()
    doc["nodes"][1]["params"]["stride"] = 2  # the residual Add no longer matches
    an = analyze(load(doc).graph)
    on_instance = [pr for pr in an.errors() if pr.node == "l1"]
    assert len(on_instance) == 1
    assert on_instance[0].message.startswith('BasicBlock "layer1": inner block add — Add "add_1"')
    dotted = [pr for pr in an.errors() if pr.node == "l1.add"]
    assert dotted and dotted[0].message.startswith('in BasicBlock "layer1": Add "add_1"')
    # the instance's problem is listed before its inner node's
    order = [pr.node for pr in an.errors()]
    assert order.index("l1") < order.index("l1.add")


def test_unit_parameter_of_the_wrong_kind_is_a_problem_on_the_instance():
    doc = two_stage()
    doc["nodes"][1]["params"]["channels"] = "abc"
    an = analyze(load(doc).graph)
    mine = [pr for pr in an.errors() if pr.node == "l1"]
    assert mine and "channels must be a whole number, got 'abc'" in mine[0].message


def test_unknown_unit_parameter_on_an_instance_is_a_problem():
    doc = two_stage()
    doc["nodes"][1]["params"] = {"chanels": 16}
    with pytest.raises(ProjectLoadError) as info:
        load(doc)
    assert info.value.location == "nodes[1].params"
    assert "did you mean 'channels'" in info.value.message


def nested_doc():
    pair = {"params": {"ch": 8}, "nodes": [
        {"id": "x", "type": "Input"},
        {"id": "a", "type": "BasicBlock", "name": "first", "params": {"channels": "$ch"}},
        {"id": "b", "type": "BasicBlock", "name": "second", "params": {"channels": "$ch"},
         "repeat": 2},
        {"id": "y", "type": "Output"}],
        "edges": [{"source": "x", "target": "a"}, {"source": "a", "target": "b"},
                  {"source": "b", "target": "y"}]}
    return project([{"id": "img", "type": "Input", "params": {"shape": [8, 4, 4]}},
                    {"id": "p", "type": "Pair", "name": "pair"},
                    {"id": "out", "type": "Output"}],
                   [{"source": "img", "target": "p"}, {"source": "p", "target": "out"}],
                   {"Pair": pair, "BasicBlock": copy.deepcopy(BASIC)})


def test_a_unit_inside_a_unit():
    an = analyze(load(nested_doc()).graph)
    assert not an.errors(), an.errors()
    r = an.result("p")
    assert r.n_params == 3 * n_params(TorchBasicBlock(8))
    assert r.inner["a.c1"].outs["out"].shape == ("N", 8, 4, 4)
    assert "b.1.c1" in r.inner and "b.0.bn1" not in r.inner  # ids, not names
    assert "b.0.b1" in r.inner


def test_graph_api_refuses_a_recursive_definition():
    g = load(nested_doc()).graph
    loop = g.units["BasicBlock"].graph
    with pytest.raises(GraphEditError, match="would use itself: BasicBlock → Pair → BasicBlock"):
        new = UnitDef("BasicBlock", {"channels": 4}, loop.copy(units=False))
        new.graph.units = g.units  # the project's units, as the editor's definition has
        new.graph.add_node("Pair", id="inner_pair")
        g.replace_unit(new)
    assert g.units["BasicBlock"].graph is loop  # unchanged after the refusal


# ------------------------------------------------------------------ incremental
def _count_analyses(monkeypatch):
    seen: list[str] = []
    real = Analyzer._analyse

    def spy(self, node):
        if self._seeds is None:  # the project's analyser, not a unit's inner run
            seen.append(node.id)
        return real(self, node)

    monkeypatch.setattr(Analyzer, "_analyse", spy)
    inner_runs = []
    real_inner = UnitDef._analyse

    def inner_spy(self, *args):
        inner_runs.append(self.name)
        return real_inner(self, *args)

    monkeypatch.setattr(UnitDef, "_analyse", inner_spy)
    return seen, inner_runs


def sixteen(same=True):
    nodes = [{"id": "img", "type": "Input", "params": {"shape": [16, 8, 8]}}]
    edges = []
    prev = "img"
    for k in range(16):
        nodes.append({"id": f"b{k}", "type": "BasicBlock", "params": {"channels": 16}})
        edges.append({"source": prev, "target": f"b{k}"})
        prev = f"b{k}"
    nodes.append({"id": "head", "type": "Flatten"})
    nodes.append({"id": "out", "type": "Output"})
    edges += [{"source": prev, "target": "head"}, {"source": "head", "target": "out"}]
    return project(nodes, edges, {"BasicBlock": copy.deepcopy(BASIC)})


def test_sixteen_equal_instances_cost_one_inner_analysis(monkeypatch):
    seen, inner_runs = _count_analyses(monkeypatch)
    g = load(sixteen()).graph
    an = Analyzer(g, memory=None).refresh()
    assert not an.errors()
    assert inner_runs == ["BasicBlock"]


def test_an_edit_inside_a_unit_rechecks_only_its_instances(monkeypatch):
    g = load(sixteen()).graph
    g.add_node("Input", {"shape": [3]}, id="other_in")
    g.add_node("Linear", {"out_features": 2}, id="other")
    g.add_node("Output", id="other_out")
    g.connect("other_in", "other")
    g.connect("other", "other_out")
    an = Analyzer(g, memory=None).refresh()
    seen, inner_runs = _count_analyses(monkeypatch)
    g.units["BasicBlock"].graph.set_param("c1", "kernel_size", 1)
    g.units["BasicBlock"].graph.set_param("c1", "padding", 0)
    an.refresh()
    assert not an.errors(), an.errors()
    assert set(seen) == {f"b{k}" for k in range(16)}  # not "other", nor the head (same shape)
    assert inner_runs == ["BasicBlock"]
    assert an.result("b0").inner["c1"].params["kernel_size"] == 1
    assert an.result("b0").n_params == 16 * 16 + 2 * 16


def test_an_edit_inside_a_nested_unit_reaches_the_outer_instances():
    g = load(nested_doc()).graph
    an = Analyzer(g, memory=None).refresh()
    before = an.result("p").n_params
    g.units["BasicBlock"].graph.set_param("c1", "bias", True)
    assert an.refresh().result("p").n_params == before + 3 * 8


def test_copy_copies_units():
    g = load(two_stage()).graph
    c = g.copy()
    assert c.units["BasicBlock"] is not g.units["BasicBlock"]
    c.units["BasicBlock"].graph.set_param("c1", "kernel_size", 1)
    c.units["BasicBlock"].graph.set_param("c1", "padding", 0)
    assert g.units["BasicBlock"].graph.nodes["c1"].params["kernel_size"] == 3
    an = analyze(c)
    assert not an.errors() and an.result("l1").inner["c1"].params["kernel_size"] == 1


# ------------------------------------------------------------------ check --json
def test_check_json_reports_dotted_inner_shapes_and_problems(tmp_path):
    doc = two_stage(repeat1=2)
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(doc), "utf-8")
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "check", str(path), "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["valid"], r.stdout + r.stderr
    shapes = out["shapes"]
    assert shapes["l1.y"] == ["N", 16, 8, 8]  # the instance's own port: a plain key
    assert shapes["l1.0.c1.out"] == ["N", 16, 8, 8]
    assert shapes["l1.1.c1.out"] == ["N", 16, 8, 8]
    assert shapes["l2.c1.out"] == ["N", 32, 8, 8]

    doc["nodes"][1]["params"]["stride"] = 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), "utf-8")
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "check", str(bad), "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    out = json.loads(r.stdout)
    assert r.returncode == 1 and not out["valid"]
    nodes = [p["node"] for p in out["problems"]]
    assert "l1" in nodes and "l1.0.add" in nodes
    assert out["shapes"]["l1.0.c1.out"] == ["N", 16, 4, 4]


# ------------------------------------------------------------------ group / ungroup
def residual_graph():
    """x → conv → bn → relu → add ← x; add → y."""
    g = Graph()
    g.add_node("Input", {"shape": [4, 8, 8]}, id="x", name="image", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}, id="c",
               name="conv", pos=(100, 0))
    g.add_node("BatchNorm2d", id="b", name="bn", pos=(200, 0))
    g.add_node("ReLU", id="r", name="relu", pos=(300, 0))
    g.add_node("Add", id="add", name="plus", pos=(400, 0))
    g.add_node("Output", id="y", name="out", pos=(500, 0))
    for s, t in [("x", "c"), ("c", "b"), ("b", "r"), ("r", "add"), ("x", "add"), ("add", "y")]:
        g.connect(s, t)
    return g


def text(g: Graph) -> str:
    from graph.project import Project

    return dumps_project(Project("p", g))


def test_group_makes_a_unit_wired_to_the_same_edges_and_undo_restores_the_graph():
    g = residual_graph()
    before = text(g)
    shapes = analyze(g).shapes()
    done = g.group(["c", "b", "r"], "ConvBnRelu")
    unit = g.units["ConvBnRelu"]
    assert unit.input_ids() == ["x"] and unit.output_ids() == ["y"]
    assert [n.id for n in unit.graph.nodes.values()] == ["x", "c", "b", "r", "y"]
    inst = g.nodes[done.instance]
    assert inst.type == "ConvBnRelu" and list(g.nodes).index(inst.id) == 1
    assert inst.pos == (200, 0)
    assert [(e.source, e.target) for e in g.in_edges(inst.id)] == [("x", inst.id)]
    assert [(e.source, e.target) for e in g.out_edges(inst.id)] == [(inst.id, "add")]
    an = analyze(g)
    assert not an.errors(), an.errors()
    assert an.output_type("add") == shapes[("add", "out")]
    assert an.result(inst.id).n_params == 4 * 4 * 9 + 4 + 8
    g.undo_group(done)
    assert text(g) == before and not g.units


def test_group_gives_one_port_per_value_crossing_the_selection():
    g = residual_graph()
    done = g.group(["c", "b", "r", "add"], "Residual")  # x feeds conv and the Add inside
    assert g.units["Residual"].input_ids() == ["x"]
    assert len(g.in_edges(done.instance)) == 1
    an = analyze(g)
    assert not an.errors() and an.output_type(done.instance, "y").shape == ("N", 4, 8, 8)


def test_group_refuses_inputs_outputs_and_taken_names():
    g = residual_graph()
    with pytest.raises(GraphEditError, match="model input or output"):
        g.group(["x", "c"], "Stem")
    with pytest.raises(GraphEditError, match="catalogue block"):
        g.group(["c"], "Conv2d")
    with pytest.raises(GraphEditError, match="Python identifier"):
        g.group(["c"], "my block")
    g.group(["c"], "One")
    with pytest.raises(GraphEditError, match="already exists"):
        g.group(["b"], "One")


def test_ungroup_puts_the_blocks_back_with_the_instance_parameters_and_undo():
    g = load(two_stage()).graph
    before = text(g)
    done = g.ungroup("l1")
    assert "l1" not in g.nodes
    conv = g.nodes["c1"]
    assert conv.params["out_channels"] == 16 and conv.params["stride"] == 1
    assert conv.name == "conv1"
    an = analyze(g)
    assert not an.errors(), an.errors()
    assert an.output_type("r").shape == ("N", 16, 8, 8)
    # the second instance's blocks clash with the first's: renamed, never merged
    second = g.ungroup("l2")
    names = [g.nodes[nid].name for nid in second.added_nodes]
    assert "conv1" not in names and len(set(g.names())) == len(g.nodes)
    assert not analyze(g).errors()
    g.undo_ungroup(second)
    g.undo_ungroup(done)
    assert text(g) == before


def test_ungroup_of_a_repeated_instance_is_refused_with_the_reason():
    g = load(two_stage(repeat1=2)).graph
    with pytest.raises(GraphEditError, match="repeats 2 times; set repeat to 1"):
        g.ungroup("l1")


def test_define_replace_remove_are_undoable_steps():
    g = load(two_stage()).graph
    an = Analyzer(g, memory=None).refresh()
    params = an.result("l1").n_params
    new = g.units["BasicBlock"].copy()
    new.graph.set_param("c1", "bias", True)
    old = g.replace_unit(new)
    assert an.refresh().result("l1").n_params == params + 16
    g.replace_unit(old)  # undo
    assert an.refresh().result("l1").n_params == params
    with pytest.raises(GraphEditError, match="used by 2 block"):
        g.remove_unit("BasicBlock")
    spare = UnitDef("Spare", {}, Graph())
    g.define_unit(spare)
    assert g.remove_unit("Spare") is spare and "Spare" not in g.units


def test_set_repeat_checks_and_returns_the_old_value():
    g = load(two_stage()).graph
    an = Analyzer(g, memory=None).refresh()
    assert g.set_repeat("l1", 3) == 1
    assert an.refresh().result("l1").n_params == 3 * n_params(TorchBasicBlock(16))
    with pytest.raises(GraphEditError, match="whole number"):
        g.set_repeat("l1", 0)
    with pytest.raises(GraphEditError, match="not a unit"):
        g.set_repeat("up", 2)


# ------------------------------------------------------------------ broken unit files
def test_a_thousand_mutants_of_unit_projects_never_crash():
    """Damaged version-2 files: a located load error, or a project whose
    analysis (and, when valid, code generation) runs without an exception."""
    import random

    from codegen import generate
    from test_broken_files import _byte_level, _structural

    rng = random.Random(2024)
    sources = [json.dumps(two_stage(repeat1=2)), json.dumps(nested_doc())]
    counts = {"refused": 0, "loaded": 0, "valid": 0}
    for k in range(1200):
        text = sources[k % 2]
        data = _structural(rng, text) if k % 2 == 0 else _byte_level(rng, text.encode())
        try:
            p = loads_project(data)
        except ProjectLoadError as exc:
            assert str(exc)
            counts["refused"] += 1
            continue
        counts["loaded"] += 1
        an = Analyzer(p.graph, p.training, memory=None).refresh()
        problems = an.problems()
        for pr in problems:
            assert pr.node is None or pr.node.split(".")[0] in p.graph.nodes, pr
        if not an.model_errors():
            counts["valid"] += 1
            generate(p.graph, p.name)
    assert counts["refused"] > 500 and counts["loaded"] > 30 and counts["valid"] > 10, counts


def test_an_instance_is_added_like_a_block_and_unknown_types_stay_refused():
    g = load(two_stage()).graph
    node = g.add_node("BasicBlock", {"channels": 8})
    assert node.spec.type == "BasicBlock" and [p.name for p in node.spec.params] == \
        ["channels", "stride"]
    assert node.spec.inputs[0].name == "x" and node.spec.outputs[0].name == "y"
    with pytest.raises(GraphEditError, match="unknown block type 'BasicBlok'"):
        g.add_node("BasicBlok")
    with pytest.raises(GraphEditError, match="has no parameter 'planes'"):
        g.set_param(node.id, "planes", 3)
    g.connect("img", node.id)
    assert analyze(g).output_type(node.id, "y") is None  # 16 channels into an 8-channel block
