"""Project files: round trip, stable text, and the structural load errors."""

import json
from pathlib import Path

import pytest

from graph import analyze, blocks
from graph.project import (VERSION, Project, ProjectLoadError, ProjectSaveError, dumps_project,
                           load_project, loads_project, project_to_dict, save_project)

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples").glob("*.json"))


def doc(nodes=None, edges=None, **top):
    d = {"format": "netcanvas", "version": 1, "name": "t",
         "nodes": nodes if nodes is not None else [
             {"id": "x", "type": "Input", "params": {"shape": [4]}},
             {"id": "fc", "type": "Linear", "name": "hidden", "params": {"out_features": 3}},
             {"id": "y", "type": "Output", "params": {}}],
         "edges": edges if edges is not None else [
             {"source": "x", "target": "fc"}, {"source": "fc", "target": "y"}]}
    d.update(top)
    return json.dumps(d)


def load_error(text) -> ProjectLoadError:
    with pytest.raises(ProjectLoadError) as info:
        loads_project(text)
    return info.value


def test_loads_nodes_edges_names_and_positions():
    p = loads_project(doc())
    g = p.graph
    assert list(g.nodes) == ["x", "fc", "y"]
    assert g.nodes["fc"].name == "hidden" and not g.nodes["fc"].auto_name
    assert g.nodes["x"].auto_name and g.nodes["x"].pos is None
    assert [(e.source, e.target, e.source_port, e.target_port) for e in g.edges] == \
        [("x", "fc", "out", "in"), ("fc", "y", "out", "in")]
    assert analyze(g, p.training).valid()
    assert p.training == {} and p.extra == {}


def test_round_trip_keeps_unknown_keys_and_writes_every_name(tmp_path):
    text = doc(training={"epochs": 3}, comment={"by": "me"}, z_last=[1, 2])
    p = loads_project(text)
    p.graph.move("fc", (10.5, -3))
    path = save_project(p, tmp_path / "p.json")
    q = load_project(path)
    assert project_to_dict(q) == project_to_dict(p)
    assert q.extra == {"comment": {"by": "me"}, "z_last": [1, 2]}
    saved = json.loads(path.read_text("utf-8"))
    assert list(saved)[:6] == ["format", "version", "name", "nodes", "edges", "training"]
    # a derived name is saved too: reloading must not derive it afresh
    assert saved["nodes"][0]["name"] == "x_1" and saved["nodes"][1]["name"] == "hidden"
    assert saved["nodes"][1]["pos"] == [10.5, -3]
    assert dumps_project(q) == path.read_text("utf-8")  # stable: saving twice changes nothing


def test_saved_text_has_one_node_and_one_edge_per_line():
    text = dumps_project(loads_project(doc()))
    lines = text.splitlines()
    assert sum('"type":' in line for line in lines) == 3
    assert sum('"source":' in line for line in lines) == 2
    assert lines[0] == "{" and lines[1] == '  "format": "netcanvas",'


def test_auto_names_do_not_collide_with_later_explicit_names():
    p = loads_project(doc(nodes=[
        {"id": "x", "type": "Input", "params": {"shape": [4]}},
        {"id": "a", "type": "Linear", "params": {}},
        {"id": "b", "type": "Linear", "name": "linear_1", "params": {}},
        {"id": "y", "type": "Output"}], edges=[]))
    assert p.graph.nodes["a"].name != "linear_1"


def test_named_ports_default_ports_written_only_when_needed():
    p = loads_project(doc(nodes=[
        {"id": "a", "type": "Input", "params": {"shape": [3]}},
        {"id": "b", "type": "Input", "params": {"shape": [5]}},
        {"id": "bi", "type": "Bilinear", "params": {"out_features": 2}},
        {"id": "y", "type": "Output"}],
        edges=[{"source": "a", "target": "bi", "target_port": "in1"},
               {"source": "b", "target": "bi", "target_port": "in2"},
               {"source": "bi", "target": "y"}]))
    edges = project_to_dict(p)["edges"]
    assert edges[0] == {"source": "a", "target": "bi"}  # in1 is the first input port
    assert edges[1] == {"source": "b", "target": "bi", "target_port": "in2"}
    assert analyze(p.graph).output_type("bi").shape == ("N", 2)


def test_cycles_and_extra_edges_are_loaded_for_validation_to_report():
    p = loads_project(doc(edges=[{"source": "x", "target": "fc"}, {"source": "x", "target": "fc"},
                                 {"source": "fc", "target": "y"}]))
    codes = {pr.code for pr in analyze(p.graph).problems()}
    assert "extra_edge" in codes


def test_out_of_range_values_load_and_are_reported_by_validation():
    p = loads_project(doc(nodes=[{"id": "x", "type": "Input", "params": {"shape": [4]}},
                                 {"id": "fc", "type": "Linear", "params": {"out_features": -2}},
                                 {"id": "y", "type": "Output"}]))
    msgs = [pr.message for pr in analyze(p.graph).errors()]
    assert any("out_features must be >= 1" in m for m in msgs)


def test_new_project_is_empty_and_saves(tmp_path):
    p = Project.new()
    assert p.name == "Untitled" and len(p.graph) == 0
    q = load_project(save_project(p, tmp_path / "new.json"))
    assert q.name == "Untitled" and len(q.graph) == 0


def test_nan_parameter_cannot_be_saved_and_says_so():
    p = loads_project(doc())
    p.graph.nodes["fc"].params["out_features"] = float("nan")
    with pytest.raises(ProjectSaveError, match="cannot be written as JSON"):
        dumps_project(p)


@pytest.mark.parametrize("nodes,edges,where,text", [
    ([{"id": "x", "type": "Conv9d"}], [], "nodes[0].type", "unknown block type 'Conv9d'"),
    ([{"id": "fc", "type": "Linear", "params": {"out_feature": 3}}], [], "nodes[0].params",
     "unknown parameter 'out_feature' for Linear (did you mean 'out_features'?)"),
    ([{"id": "fc", "type": "Linear", "params": {"in_features": 3}}], [], "nodes[0].params",
     "in_features of Linear is inferred"),
    ([{"id": "a", "type": "Output"}, {"id": "a", "type": "Output"}], [], "nodes[1].id",
     "duplicate node id 'a'"),
    ([{"id": 7, "type": "Output"}], [], "nodes[0].id", "must be a non-empty string"),
    ([{"type": "Output"}], [], "nodes[0].id", "is missing"),
    ([{"id": "a", "type": "Output", "pos": [1]}], [], "nodes[0].pos", "two numbers"),
    ([{"id": "a", "type": "Output", "pos": [1, "2"]}], [], "nodes[0].pos", "two numbers"),
    ([{"id": "a", "type": "Output", "params": [1]}], [], "nodes[0].params", "must be an object"),
    ([{"id": "a", "type": "Output", "name": ""}], [], "nodes[0].name", "non-empty string"),
    ([{"id": "a", "type": "Output", "colour": "red"}], [], "nodes[0]", "unknown key 'colour'"),
    ([{"id": "a", "type": "Output"}], [{"source": "a", "target": "zz"}], "edges[0].target",
     "there is no node with id 'zz'"),
    ([{"id": "a", "type": "Output"}], [{"target": "a"}], "edges[0].source", "is missing"),
    ([{"id": "x", "type": "Input"}, {"id": "b", "type": "Bilinear"}],
     [{"source": "x", "target": "b", "target_port": "in3"}], "edges[0].target_port",
     "no input port 'in3' (its input ports: in1, in2)"),
    ([{"id": "x", "type": "Input"}, {"id": "y", "type": "Output"}],
     [{"source": "y", "target": "x"}], "edges[0]", "Input \"x_1\" has no input port"),
    ("nodes", [], "nodes", "must be a list"),
    ([], {"a": 1}, "edges", "must be a list"),
])
def test_structural_errors_name_their_location(nodes, edges, where, text):
    err = load_error(doc(nodes=nodes, edges=edges))
    assert err.location == where, str(err)
    assert text in str(err)
    assert str(err).startswith(where + ": ")


@pytest.mark.parametrize("top,where,text", [
    ({"format": "keras"}, "format", "must be 'netcanvas'"),
    ({"version": "1"}, "version", "must be a whole number"),
    ({"version": 0}, "version", "not a valid format version"),
    ({"version": VERSION + 1}, "version",
     f"format version {VERSION + 1}, but this program knows only up to version {VERSION}"),
    ({"name": 3}, "name", "must be a string"),
    ({"training": [1]}, "training", "must be an object"),
])
def test_top_level_errors(top, where, text):
    err = load_error(doc(**top))
    assert err.location == where and text in str(err)


def test_missing_format_is_not_a_project():
    err = load_error(json.dumps({"version": 1, "nodes": []}))
    assert "format: is missing; this is not a NetCanvas project" == str(err)


def test_load_error_carries_the_file_name(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(doc(format="x"))
    with pytest.raises(ProjectLoadError) as info:
        load_project(path)
    assert info.value.source == str(path)
    with pytest.raises(ProjectLoadError, match="No such file"):
        load_project(tmp_path / "missing.json")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_round_trip(path, tmp_path):
    text = path.read_text("utf-8")
    types = {n["type"] for n in json.loads(text)["nodes"]}
    missing = sorted(t for t in types if blocks.get(t) is None)
    assert not missing, f"the example uses blocks that are not registered: {missing}"
    p = loads_project(text, str(path))
    q = loads_project(dumps_project(p))
    assert project_to_dict(q) == project_to_dict(p)
    saved, written = project_to_dict(p)["nodes"], json.loads(text)["nodes"]

    def unnamed(nodes):
        return [{k: v for k, v in n.items() if k != "name"} for n in nodes]
    assert unnamed(saved) == unnamed(written)
    # a name the file gives is kept; one it leaves out is derived, then saved
    assert all(s["name"] == w.get("name", s["name"]) for s, w in zip(saved, written))


def test_hostile_strings_round_trip_as_data(tmp_path):
    names = ['"); __import__("os").system("x") #', "line\nbreak", "\u00e9\u6f22\U0001F600",
             "\ud800 lone surrogate", "__class__"]
    p = loads_project(doc())
    for k, name in enumerate(names):
        p.graph.add_node("Identity", name=name, id=f"h{k}\n\"")
    p.name = names[0]
    q = load_project(save_project(p, tmp_path / "h.json"))
    assert [n.name for n in q.graph.nodes.values()][3:] == names
    assert q.name == names[0] and list(q.graph.nodes)[3] == 'h0\n"'


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_build_and_run_with_the_inferred_shapes(path):
    from support import run_and_compare

    run_and_compare(load_project(path).graph, env={"T": 7}, int_high=8)
