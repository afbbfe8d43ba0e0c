"""Node names are code: the rule for a usable name, renames refused with the
reason, names kept across save and reopen, derived names for files without
them (stable, linear), and the warning on a hand-written name the code cannot use."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import Graph, GraphEditError, analyze
from graph.fixes import apply_fix
from graph.names import DefaultNames, code_names, name_problem, usable
from graph.problems import Code
from graph.project import Project, loads_project, project_from_dict, project_to_dict


def _two_convs() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [3, 8, 8]}, id="x")
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3}, id="c1")
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3}, id="c2")
    g.add_node("Output", id="y")
    g.connect("x", "c1")
    g.connect("c1", "c2")
    g.connect("c2", "y")
    return g


def test_a_renamed_block_keeps_every_name_through_the_project_dict():
    """The training process and a reopened file get the project as this dict:
    a derived name must not be derived afresh (it was conv2d_1 there)."""
    g = _two_convs()
    assert [g.nodes[n].name for n in ("c1", "c2")] == ["conv2d_1", "conv2d_2"]
    g.rename("c1", "stem")
    doc = json.loads(json.dumps(project_to_dict(Project("p", g))))
    assert [n["name"] for n in doc["nodes"]] == ["x_1", "stem", "conv2d_2", "output_1"]
    back = project_from_dict(doc).graph
    assert {nid: n.name for nid, n in back.nodes.items()} == \
        {nid: n.name for nid, n in g.nodes.items()}


REFUSED = [
    ("conv2d_2", "'conv2d_2' is already the name of another block; each block has its own name"),
    ("class", "'class' is a Python keyword; choose another name (e.g. 'class_')"),
    ("None", "'None' is a Python keyword; choose another name (e.g. 'None_')"),
    ("forward", "'forward' is an attribute of every nn.Module, which a layer of that name "
                "would hide; choose another name (e.g. 'forward_')"),
    ("training", "'training' is an attribute of every nn.Module, which a layer of that name "
                 "would hide; choose another name (e.g. 'training_')"),
    ("self", "'self' is a name the generated code itself uses; choose another name (e.g. 'self_')"),
    ("torch", "'torch' is a name the generated code itself uses; choose another name "
              "(e.g. 'torch_')"),
    ("F", "'F' is a name the generated code itself uses; choose another name (e.g. 'F_')"),
    ("1abc", "'1abc' is not a Python identifier (it starts with a digit); use letters, digits "
             "and _, starting with a letter (e.g. 'layer_1abc')"),
    ("my pool", "'my pool' is not a Python identifier (it has a space); use letters, digits "
                "and _, starting with a letter (e.g. 'my_pool')"),
    ("conv-1", "'conv-1' is not a Python identifier (it has '-'); use letters, digits and _, "
               "starting with a letter (e.g. 'conv_1')"),
    ("café", "'café' is not an ASCII identifier (it has 'é'); use letters, digits and _, "
             "starting with a letter (e.g. 'cafe')"),
    ("_modules", "'_modules' starts with _, which is kept for PyTorch's own attributes "
                 "(like _modules); start with a letter"),
    ("a" * 65, "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is 65 characters long; use at most 64"),
    ("  ", "a node name must not be empty"),
]


@pytest.mark.parametrize("name, message", REFUSED, ids=[r[0][:10] for r in REFUSED])
def test_a_rename_the_code_could_not_follow_is_refused_with_the_reason(name, message):
    g = _two_convs()
    with pytest.raises(GraphEditError) as info:
        g.rename("c1", name)
    assert str(info.value) == message
    assert g.nodes["c1"].name == "conv2d_1"
    if name.strip():
        assert g.name_problem(name, "c1") == message  # what the inspector shows before trying


@pytest.mark.parametrize("name", ["stem", "Stem", "conv_2", "input", "x", "max", "layer1",
                                  "Float", "a" * 64])
def test_usable_names_are_taken_as_they_are(name):
    """Builtins and other spellings of module attributes shadow nothing on ``self``."""
    g = _two_convs()
    g.rename("c1", name)
    assert g.nodes["c1"].name == name
    assert not [p for p in analyze(g).problems() if p.code == Code.BAD_NAME]


def test_a_block_may_keep_its_own_name_and_a_freed_name_can_be_taken():
    g = _two_convs()
    g.rename("c1", "conv2d_1")  # its own name: not "taken"
    g.rename("c2", "head")
    g.rename("c1", "conv2d_2")  # freed by the rename above
    assert [g.nodes[n].name for n in ("c1", "c2")] == ["conv2d_2", "head"]


def test_undo_puts_back_a_name_from_a_hand_written_file():
    g = loads_project(json.dumps({"format": "netcanvas", "version": 1, "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [4]}},
        {"id": "fc", "type": "Linear", "name": "class", "params": {"out_features": 2}}]})).graph
    g.rename("fc", "head")
    with pytest.raises(GraphEditError, match="'class' is a Python keyword"):
        g.rename("fc", "class")
    g.rename("fc", "class", restore=True)  # what the Rename command's undo does
    assert g.nodes["fc"].name == "class"


def _file(nodes, edges=()) -> str:
    return json.dumps({"format": "netcanvas", "version": 1, "nodes": nodes, "edges": list(edges)})


def test_derived_names_are_the_first_free_ones_and_the_same_on_every_load():
    text = _file([
        {"id": "x", "type": "Input", "params": {"shape": [4]}},
        {"id": "a", "type": "Linear", "params": {}},
        {"id": "b", "type": "Linear", "name": "linear_1", "params": {}},
        {"id": "c", "type": "Linear", "params": {}},
        {"id": "d", "type": "Linear", "name": "linear_3", "params": {}},
        {"id": "e", "type": "Linear", "params": {}},
        {"id": "r", "type": "ReLU", "params": {}},
        {"id": "y", "type": "Output"}])
    names = [n.name for n in loads_project(text).graph.nodes.values()]
    assert names == ["x_1", "linear_2", "linear_1", "linear_4", "linear_3", "linear_5",
                     "relu_1", "output_1"]
    assert [n.name for n in loads_project(text).graph.nodes.values()] == names


def test_a_long_unnamed_chain_gets_unique_stable_names():
    """Correctness of derived naming at scale (its speed is bench/validate_scaling.py's)."""
    n = 5000
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [4]}}]
    nodes += [{"id": f"r{k}", "type": "ReLU"} for k in range(n)]
    nodes[1 + n // 2]["name"] = "relu_7"  # an explicit name among the derived ones
    nodes.append({"id": "y", "type": "Output"})
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(nodes, nodes[1:])]
    text = _file(nodes, edges)
    g = loads_project(text).graph
    names = [node.name for node in g.nodes.values()]
    assert len(set(names)) == len(names)
    assert names[1:8] == [f"relu_{k}" for k in range(1, 7)] + ["relu_8"]
    assert names == [node.name for node in loads_project(text).graph.nodes.values()]
    assert not [p for p in analyze(g).problems() if p.code == Code.BAD_NAME]


class _Counting(set):
    lookups = 0

    def __contains__(self, item):
        _Counting.lookups += 1
        return super().__contains__(item)


def test_derived_naming_is_linear_in_the_number_of_nodes():
    """Each name costs O(1) look-ups amortised: a scan from prefix_1 per node
    (10,000 unnamed nodes took 7.8 s to open) would make ~n²/2 of them."""
    n = 20_000
    taken = _Counting({f"linear_{k}" for k in range(1, n, 2)})  # every other one explicit
    names = DefaultNames(taken)
    _Counting.lookups = 0
    made = [names.add("linear") for _ in range(n)]
    assert len(set(made)) == n and not set(made) & taken
    assert made[:3] == ["linear_2", "linear_4", "linear_6"]
    assert _Counting.lookups <= 3 * n


# ------------------------------------------------ hand-written names the code cannot use
BAD_FILE = _file([
    {"id": "x", "type": "Input", "name": "image", "params": {"shape": [4]}},
    {"id": "a", "type": "Linear", "name": "class", "params": {"out_features": 4}},
    {"id": "b", "type": "Linear", "name": "conv", "params": {"out_features": 4}},
    {"id": "c", "type": "Linear", "name": "conv", "params": {"out_features": 4}},
    {"id": "d", "type": "Linear", "name": "my pool", "params": {"out_features": 4}},
    {"id": "e", "type": "Linear", "name": "1abc", "params": {"out_features": 4}},
    {"id": "f", "type": "Linear", "name": "forward", "params": {"out_features": 4}},
    {"id": "y", "type": "Output"}],
    [{"source": s, "target": t} for s, t in zip("xabcdef", "abcdefy")])


def test_a_hand_written_name_the_code_cannot_use_is_a_warning_that_says_what_the_code_uses():
    g = loads_project(BAD_FILE).graph
    an = analyze(g)
    assert an.valid()  # the code still works: warnings, not errors
    found = {p.node: p for p in an.problems() if p.code == Code.BAD_NAME}
    assert set(found) == {"a", "c", "d", "e", "f"}  # "b" is the first "conv": it keeps it
    assert found["a"].severity == "warning"
    assert found["a"].message == (
        'Linear "class": \'class\' is a Python keyword, so the code, exported files and '
        "checkpoints call this block 'class_'; rename it")
    assert found["c"].message == (
        'Linear "conv": \'conv\' is already the name of another block, so the code, exported '
        "files and checkpoints call this block 'conv_2'; rename it")
    assert "'my pool' is not a Python identifier (it has a space)" in found["d"].message
    assert found["d"].fix == {"kind": "rename", "name": "my_pool"}
    assert found["e"].fix == {"kind": "rename", "name": "linear_1abc"}
    assert found["f"].fix == {"kind": "rename", "name": "forward_"}
    assert code_names(g.nodes.values()) == {
        "x": "image", "a": "class_", "b": "conv", "c": "conv_2", "d": "my_pool",
        "e": "linear_1abc", "f": "forward_", "y": "output_1"}


def test_the_quick_fix_renames_to_what_the_code_already_calls_it():
    g = loads_project(BAD_FILE).graph
    before = code_names(g.nodes.values())
    for _ in range(5):
        problem = next(p for p in analyze(g).problems() if p.code == Code.BAD_NAME)
        assert apply_fix(g, problem) == problem.node
    assert not [p for p in analyze(g).problems() if p.code == Code.BAD_NAME]
    assert {nid: n.name for nid, n in g.nodes.items()} == before  # checkpoints still fit


def test_a_derived_name_never_takes_a_later_nodes_usable_name():
    g = loads_project(_file([
        {"id": "a", "type": "Linear", "name": "class", "params": {}},
        {"id": "b", "type": "Linear", "name": "class_", "params": {}}])).graph
    assert code_names(g.nodes.values()) == {"a": "class__2", "b": "class_"}


def test_name_problem_without_advice_says_only_what_is_wrong():
    assert name_problem("class", advice=False) == "'class' is a Python keyword"
    assert name_problem("conv", {"conv"}, advice=False) == "'conv' is already the name of another block"
    assert name_problem("conv", {"other"}) is None


@given(st.one_of(st.text(max_size=70), st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,66}", fullmatch=True),
                 st.sampled_from(["class", "forward", "T_destination", "self", "F", "_x", "x" * 64,
                                  "x" * 65, "input", "match", "None"])),
       st.sets(st.sampled_from(["conv", "x", "stem", "input"])))
@settings(max_examples=500, deadline=None)
def test_the_quick_test_agrees_with_the_reasons(name, taken):
    assert usable(name, taken) == (name_problem(name, taken) is None)
