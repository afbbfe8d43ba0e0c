"""Quick fixes through the graph API: the proposed edit really removes the error.

Each case builds a graph with a shape problem, takes the problem's ``fix``,
applies it with :func:`graph.fixes.apply_fix`, and checks that the graph then
validates (and, for a few, that the generated model runs with those shapes).
"""

import pytest

from graph import Graph, analyze
from graph.fixes import DEFAULT_SIZE, apply_fix, plan_fix
from graph.problems import Code
from support import chain, run_and_compare, single


def _only_error(g: Graph, code: str):
    errors = analyze(g).errors()
    assert [p.code for p in errors] == [code], [p.message for p in errors]
    return errors[0]


@pytest.mark.parametrize("shape,layer,target", [
    ([64], ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), [1, 8, 8]),
    ([192], ("Conv2d", {"out_channels": 4, "kernel_size": 3}), [3, 8, 8]),
    ([48], ("MaxPool2d", {"kernel_size": 2}), [3, 4, 4]),
    ([27], ("Conv3d", {"out_channels": 2, "kernel_size": 2}), [1, 3, 3, 3]),
    ([12], ("Conv1d", {"out_channels": 4, "kernel_size": 3}), [1, 12]),
    (["T"], ("Conv1d", {"out_channels": 4, "kernel_size": 1}), [1, -1]),
    ([3, 8], ("Conv2d", {"out_channels": 2, "kernel_size": 2}), [1, 3, 8]),
    ([16], ("BatchNorm2d", {}), [1, 4, 4]),
    ([6], ("LSTM", {"hidden_size": 5}), [6, 1]),
    ([6], ("RNN", {"hidden_size": 5}), [6, 1]),
    (["T"], ("GRU", {"hidden_size": 5}), [-1, 1]),
    ([8], ("MultiheadAttention", {"num_heads": 2}), [1, 8]),
])
def test_rank_fix_reshapes_to_a_shape_that_fits(shape, layer, target):
    g = chain(layer, input_shape=shape)
    problem = _only_error(g, Code.RANK)
    assert problem.fix == {"kind": "insert", "type": "Reshape", "params": {"shape": target}}
    assert f"add a Reshape to N×{'×'.join(map(str, target))} before it" in problem.message
    new = apply_fix(g, problem)
    assert g.nodes[new].type == "Reshape" and g.nodes[new].params == {"shape": target}
    assert g.predecessors(new) == ["x"] and g.successors(new) == ["l1"]
    an = analyze(g)
    assert an.valid(), [p.message for p in an.errors()]
    assert an.output_type(new).shape[1:] == tuple("T" if v == -1 else v for v in target)


def test_fixed_conv_graph_runs_with_the_inferred_shapes():
    g = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), "Flatten", input_shape=[64])
    apply_fix(g, _only_error(g, Code.RANK))
    got = run_and_compare(g)
    assert list(got["out"].shape) == [2, 4 * 6 * 6]


def test_fixed_lstm_graph_runs_with_the_inferred_shapes():
    g = chain(("LSTM", {"hidden_size": 3, "return_sequences": False}), input_shape=[7])
    apply_fix(g, _only_error(g, Code.RANK))
    run_and_compare(g)


@pytest.mark.parametrize("shape,layer", [
    ([10], ("Conv2d", {"out_channels": 4, "kernel_size": 1})),  # 10 is no C·s² (C 1 or 3)
    (["T"], ("Conv2d", {"out_channels": 4, "kernel_size": 1})),  # a variable size
    (["T", "S"], ("Conv2d", {"out_channels": 4, "kernel_size": 1})),  # two of them
])
def test_no_reshape_fix_when_no_shape_makes_sense(shape, layer):
    problem = _only_error(chain(layer, input_shape=shape), Code.RANK)
    assert problem.fix is None
    assert problem.message.endswith("; add a Reshape before it")


def test_too_high_rank_for_a_sequence_layer_gets_a_flatten_keeping_dim_1():
    g = chain(("Conv1d", {"out_channels": 4, "kernel_size": 3}), input_shape=[2, 4, 4])
    problem = _only_error(g, Code.RANK)
    assert problem.fix == {"kind": "insert", "type": "Flatten", "params": {"start_dim": 2}}
    apply_fix(g, problem)
    assert analyze(g).valid()


def test_flatten_fix_for_a_vector_input_still_works_on_a_named_port():
    # a query of rank 4 (N×2×3×4): neither one vector nor one per step
    g = single("AdditiveAttention", {}, {"query": (2, 3, 4), "keys": ("T", 4)})
    problem = _only_error(g, Code.RANK)
    assert problem.port == "query"
    assert problem.fix == {"kind": "insert", "type": "Flatten"}
    source = g.in_edges("b", "query")[0].source
    g.move(source, (0, 100))
    g.move("b", (300, 40))
    new = apply_fix(g, problem)
    assert g.in_edges("b", "query")[0].source == new
    assert analyze(g).valid()
    # on the edge's line, between its ends, overlapping no block (the target
    # shifted along the flow to make room)
    w, h = DEFAULT_SIZE
    x, y = g.nodes[new].pos
    assert g.nodes[source].pos[0] + w < x < x + w < g.nodes["b"].pos[0]
    assert not any(n.pos is not None and n.id != new and abs(n.pos[0] - x) < w
                   and abs(n.pos[1] - y) < h for n in g.nodes.values())


@pytest.mark.parametrize("block,params,inputs,port", [
    ("AdditiveAttention", {}, {"query": (4,), "keys": (4,)}, "keys"),
    ("MultiheadAttention", {"num_heads": 2}, {"query": (5, 8), "key": (1, 8), "value": (8,)},
     "value"),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 16},
     {"tgt": (5, 8), "memory": (8,)}, "memory"),
])
def test_a_fix_for_a_later_port_goes_on_that_port(block, params, inputs, port):
    # the problem is on a port other than the block's first, so a fix placed on
    # the first port would leave the error and break a good input
    g = single(block, params, inputs)
    problem = _only_error(g, Code.RANK)
    assert problem.port == port != g.nodes["b"].spec.inputs[0].name
    feeds = {p: g.in_edges("b", p)[0].source for p in inputs}
    new = apply_fix(g, problem)
    assert g.nodes[new].type == "Reshape"
    assert {p: g.in_edges("b", p)[0].source for p in inputs} == dict(feeds, **{port: new})
    assert g.predecessors(new) == [feeds[port]]
    run_and_compare(g)


# --------------------------------------------------------------------------- Permute
@pytest.mark.parametrize("block,shapes,dims", [
    ("Add", [(8, 16), (16, 8)], [0, 2, 1]),
    ("Multiply", [(8, 16), (16, 8)], [0, 2, 1]),
    ("Add", [(8, 8, 3), (3, 8, 8)], [0, 2, 3, 1]),
    ("Multiply", [(4, "T", 6), (6, 4, "T")], [0, 2, 3, 1]),
])
def test_operands_in_another_order_get_a_permute_fix(block, shapes, dims):
    g = single(block, {}, {"in": [list(s) for s in shapes]})
    problem = _only_error(g, Code.BROADCAST)
    assert problem.fix == {"kind": "insert", "type": "Permute", "params": {"dims": dims},
                           "edge_index": 1}
    assert f"insert a Permute with dims={dims} on input 2" in problem.message
    new = apply_fix(g, problem)
    an = analyze(g)
    assert an.valid(), [p.message for p in an.errors()]
    # the operand order is kept: the Permute feeds the second operand
    assert [e.source for e in g.in_edges("b")] == ["x1", new]
    assert an.output_type("b").shape == ("N",) + tuple(shapes[0])


def test_permuted_add_runs_in_torch():
    g = single("Add", {}, {"in": [[3, 5], [5, 3]]})
    apply_fix(g, _only_error(g, Code.BROADCAST))
    run_and_compare(g)


def test_concat_inputs_in_another_order_get_a_permute_fix():
    g = single("Concat", {"dim": 1}, {"in": [[4, 16], [16, 6]]})
    problem = _only_error(g, Code.CONCAT)
    assert problem.fix == {"kind": "insert", "type": "Permute", "params": {"dims": [0, 2, 1]},
                           "edge_index": 1}
    assert "insert a Permute with dims=[0, 2, 1] on input 2" in problem.message
    apply_fix(g, problem)
    an = analyze(g)
    assert an.valid() and an.output_type("b").shape == ("N", 10, 16)
    run_and_compare(g)


def test_sizes_that_are_no_permutation_keep_the_projection_fix():
    g = single("Add", {}, {"in": [[8, 16], [8, 12]]})
    problem = _only_error(g, Code.BROADCAST)
    assert problem.fix["type"] == "Linear"
    apply_fix(g, problem)
    assert analyze(g).valid()


def test_concat_mismatch_without_a_permutation_has_no_fix():
    problem = _only_error(single("Concat", {"dim": 1}, {"in": [[4, 16], [4, 6]]}), Code.CONCAT)
    assert problem.fix is None


# ------------------------------------------------------------------------- plan_fix
def test_plan_of_a_fix_whose_edge_is_gone_is_none():
    g = chain(("Conv2d", {"out_channels": 4, "kernel_size": 1}), input_shape=[64])
    problem = _only_error(g, Code.RANK)
    plan = plan_fix(g, problem)
    assert plan.kind == "insert" and plan.edge.source == "x" and plan.edge_index == 0
    g.disconnect(plan.edge)
    assert plan_fix(g, problem) is None and apply_fix(g, problem) is None


def test_set_param_fix_is_applied():
    g = single("MultiheadAttention", {"num_heads": 4}, {"query": ("T", 30)})
    problem = _only_error(g, Code.HEADS)
    assert apply_fix(g, problem) == "b"
    assert g.nodes["b"].params["num_heads"] == 3 and analyze(g).valid()
