"""Structure blocks against PyTorch: shapes (symbolic ones too), code lines, checks."""

import pytest

from graph import analyze, blocks
from graph.problems import Code
from support import chain, check_rejects, problems_of, run_and_compare, single

MANY = [
    ("Add", {}, [(16,), (16,)], "float32"),
    ("Add", {}, [(4, 1), (1, 5), (4, 5)], "float32"),
    ("Add", {}, [("T", 4), ("T", 4)], "float32"),
    ("Add", {}, [(3,), (3,)], "int64"),
    ("Multiply", {}, [(3, 1, 1), (3, 4, 4)], "float32"),
    ("Multiply", {}, [(1, "T"), (6, "T")], "float32"),
    ("Concat", {}, [(3, 4), (5, 4)], "float32"),
    ("Concat", {"dim": -1}, [("T", 4), ("T", 6), ("T", 1)], "float32"),
    ("Concat", {}, [("T", 4), ("T", 4)], "float32"),
    ("Concat", {"dim": 2}, [(2, 3), (2, 5)], "int64"),
]


@pytest.mark.parametrize("block,params,shapes,dtype", MANY)
def test_combining_blocks_match_torch(block, params, shapes, dtype):
    run_and_compare(single(block, params, {"in": shapes}, dtype=dtype))


ONE = [
    ("Flatten", {}, (2, 4, 4), "float32"),
    ("Flatten", {"start_dim": 2}, (2, 3, 4), "float32"),
    ("Flatten", {"end_dim": 2}, (2, 3, 4, 5), "float32"),
    ("Flatten", {}, ("T", 16), "float32"),
    ("Flatten", {}, (3, 4), "int64"),
    ("Reshape", {"shape": [4, 4]}, (16,), "float32"),
    ("Reshape", {"shape": [-1]}, (2, 8), "float32"),
    ("Reshape", {"shape": [2, -1, 2]}, (4, 4), "float32"),
    ("Reshape", {"shape": [-1, 4]}, ("T", 16), "float32"),
    ("Reshape", {"shape": [3, 2]}, (6,), "int64"),
    ("Permute", {}, (3, 4), "float32"),
    ("Permute", {"dims": [0, 3, 1, 2]}, (2, 3, 4), "float32"),
    ("Permute", {"dims": [0, -1, 1]}, ("T", 4), "int64"),
    ("Mean", {}, ("T", 8), "float32"),
    ("Mean", {"dim": -1, "keepdim": True}, (3, 4), "float32"),
    ("Mean", {"dim": 2}, (2, 3, 4), "float32"),
    ("SelectTimestep", {}, ("T", 8), "float32"),
    ("SelectTimestep", {"index": 2}, (5, 8), "float32"),
    ("SelectTimestep", {"index": -5}, (5, 2, 2), "float32"),
    ("SelectTimestep", {"index": 0}, ("T",), "int64"),
    ("Select", {}, (3, 4), "float32"),
    ("Select", {"dim": 2, "index": 0}, (3, 4, 5), "float32"),
    ("Select", {"dim": -1, "index": 1}, ("T", 4), "float32"),
    ("Select", {"dim": -2, "index": -1}, (2, 3, 4), "float32"),
    ("Select", {"dim": 1, "index": 0}, ("T",), "int64"),
    ("Scale", {"value": 2.5}, (3, 4), "float32"),
    ("Scale", {"value": -0.125}, ("T", 8), "float32"),
]


@pytest.mark.parametrize("block,params,shape,dtype", ONE)
def test_rearranging_blocks_match_torch(block, params, shape, dtype):
    run_and_compare(single(block, params, {"in": shape}, dtype=dtype))


@pytest.mark.parametrize("env", [{"T": 3}, {"T": 7}])
def test_symbolic_sizes_flow_through(env):
    g = chain(("Flatten", {}), ("Reshape", {"shape": [-1, 8]}), ("Permute", {"dims": [0, 2, 1]}),
              ("Mean", {"dim": -1}), input_shape=("T", 16))
    an = analyze(g)
    assert [str(an.output_type(n)) for n in ("l1", "l2", "l3", "l4")] == [
        "N×(16*T)", "N×(2*T)×8", "N×8×(2*T)", "N×8"]
    run_and_compare(g, env=env)


def test_every_structure_block_is_tested():
    specs = {s.type for s in blocks.all_specs() if s.family == "structure"}
    assert specs == {c[0] for c in MANY} | {c[0] for c in ONE}


# --------------------------------------------------------------- code

def test_combining_lines_read_like_hand_written_code():
    source = run_and_compare(single("Add", {}, {"in": [(4,), (4,), (4,)]}))["code"].source
    assert "x = x_1 + x_2 + x_3" in source
    source = run_and_compare(single("Multiply", {}, {"in": [(4,), (4,)]}))["code"].source
    assert "x = x_1 * x_2" in source
    source = run_and_compare(single("Concat", {}, {"in": [(4,), (2,)]}))["code"].source
    assert "x = torch.cat([x_1, x_2], dim=1)" in source


def test_residual_add_keeps_the_branch_variable():
    from graph import Graph
    g = Graph()
    g.add_node("Input", {"shape": [8]}, id="x")
    g.add_node("Linear", {"out_features": 8}, id="fc")
    g.add_node("ReLU", id="act")
    g.add_node("Add", id="add")
    g.add_node("Output", id="y")
    g.connect("x", "fc")
    g.connect("fc", "act")
    g.connect("act", "add")
    g.connect("x", "add")
    g.connect("add", "y")
    source = run_and_compare(g)["code"].source
    assert "x = self.relu_1(x)" in source
    assert "x = x + x_1" in source


def test_rearranging_lines():
    source = run_and_compare(chain(("Flatten", {}), ("Reshape", {"shape": [4, 2, 2]}),
                                   ("Permute", {"dims": [0, 2, 3, 1]}), ("Reshape", {"shape": [-1, 4]}),
                                   ("Mean", {"dim": 1}), ("SelectTimestep", {}),
                                   input_shape=(2, 2, 2, 2)))["code"].source
    for line in ("x = x_1.flatten(1)", "x = x.reshape(-1, 4, 2, 2)", "x = x.permute(0, 2, 3, 1)",
                 "x = x.reshape(x.shape[0], -1, 4)", "x = x.mean(dim=1)", "x = x[:, -1]"):
        assert line in source
    source = run_and_compare(chain(("Flatten", {"start_dim": 2, "end_dim": 3}),
                                   ("Mean", {"keepdim": True}), input_shape=(2, 3, 4)))["code"].source
    assert "x = x_1.flatten(2, 3)" in source
    assert "x = x.mean(dim=1, keepdim=True)" in source


# --------------------------------------------------------------- checks

def _one(g, code):
    found = [p for p in problems_of(g, code) if p.node == "b"]
    assert len(found) == 1, found
    return found[0]


def test_add_mismatch_offers_a_linear_projection():
    g = single("Add", {}, {"in": [(8,), (8,), (4,)]})
    p = _one(g, Code.BROADCAST)
    assert p.message == ('Add "add_1": input shapes N×8 and N×4 do not broadcast (dim 1: 8 vs 4); '
                         "insert a Linear projection on input 3")
    assert p.fix == {"kind": "insert", "type": "Linear", "params": {"out_features": 8},
                     "edge_index": 2}
    # applying the fix as the editor would makes the graph valid
    edge = g.in_edges("b", "in")[2]
    index = g.disconnect(edge)
    proj = g.add_node(p.fix["type"], p.fix["params"]).id
    g.connect(edge.source, proj)
    g.connect(proj, "b", index=index)
    run_and_compare(g)


def test_add_channel_mismatch_offers_a_1x1_conv():
    p = _one(single("Add", {}, {"in": [(16, 8, 8), (32, 8, 8)]}), Code.BROADCAST)
    assert "dim 1: 16 vs 32" in p.message and "insert a Conv2d projection on input 2" in p.message
    assert p.fix == {"kind": "insert", "type": "Conv2d",
                     "params": {"out_channels": 16, "kernel_size": 1}, "edge_index": 1}


def test_add_spatial_mismatch_has_no_projection():
    p = _one(single("Add", {}, {"in": [(16, 8, 8), (16, 4, 4)]}), Code.BROADCAST)
    assert "(dim 2: 8 vs 4, dim 3: 8 vs 4); sizes must be equal or 1" in p.message
    assert p.fix is None


def test_add_different_ranks():
    check_rejects("Add", {}, {"in": [(16,), (4, 16)]}, Code.BROADCAST,
                  contains=("must have the same rank, but input 1 is N×16 and input 2 is N×4×16",))


def test_multiply_variable_length_against_fixed():
    check_rejects("Multiply", {}, {"in": [("T",), (5,)]}, Code.BROADCAST,
                  contains=("N×T and N×5 do not broadcast (dim 1: T vs 5)",))


def test_add_needs_two_operands():
    check_rejects("Add", {}, {"in": [(4,)]}, Code.UNCONNECTED,
                  contains=("has 1 input; connect a second block's output",))


def test_add_mixed_dtypes():
    g = single("Add", {}, {"in": [(4,)]})
    tok = g.add_node("Input", {"shape": [4], "dtype": "int64"}).id
    g.connect(tok, "b")
    p = _one(g, Code.DTYPE)
    assert "mix element types: N×4 (float32), N×4 (int64)" in p.message


def test_mean_refuses_token_ids():
    check_rejects("Mean", {}, {"in": (4,)}, Code.DTYPE, dtype="int64")


def test_concat_mismatch_names_shapes():
    check_rejects("Concat", {}, {"in": [(3, 4), (3, 5)]}, Code.CONCAT,
                  contains=("agree in every dimension except dim 1, but input 1 is N×3×4 and "
                            "input 2 is N×3×5",))


@pytest.mark.parametrize("block,params,shape", [
    ("Concat", {"dim": 0}, [(3,), (3,)]), ("Mean", {"dim": 0}, (3,)),
    ("Flatten", {"start_dim": 0}, (3,)), ("Mean", {"dim": -2}, (3,)),
])
def test_batch_dimension_is_refused(block, params, shape):
    check_rejects(block, params, {"in": shape}, Code.PARAM, contains=("is the batch dimension of",))


def test_flatten_end_before_start():
    check_rejects("Flatten", {"start_dim": 2, "end_dim": 1}, {"in": (2, 3)}, Code.PARAM,
                  contains=("end_dim=1 comes before start_dim=2 for input N×2×3",))


def test_dim_out_of_range():
    check_rejects("Mean", {"dim": 3}, {"in": (2, 3)}, Code.PARAM,
                  contains=("dim=3 is out of range for an input of rank 3",))


def test_reshape_count_mismatch_names_both():
    check_rejects("Reshape", {"shape": [10, 10]}, {"in": (16, 4, 4)}, Code.RESHAPE,
                  contains=("cannot reshape N×16×4×4 (256 values per sample) into N×10×10 "
                            "(100 values)",))


def test_reshape_minus_one_not_divisible():
    check_rejects("Reshape", {"shape": [-1, 3]}, {"in": (8,)}, Code.RESHAPE,
                  contains=("8 is not a multiple of 3",))


@pytest.mark.parametrize("shape,text", [
    ([-1, -1], "more than one -1"), ([0, 4], "positive or -1"), ([-2, 4], "positive or -1"),
    ([], "positive or -1"),
])
def test_reshape_bad_shapes(shape, text):
    check_rejects("Reshape", {"shape": shape}, {"in": (8,)}, Code.PARAM, contains=(text,))


def test_reshape_symbolic_needs_minus_one():
    check_rejects("Reshape", {"shape": [4, 4]}, {"in": ("T", 16)}, Code.SYMBOLIC,
                  contains=("variable size 16*T per sample; put -1 in shape",))


def test_reshape_symbolic_must_divide():
    check_rejects("Reshape", {"shape": [-1, 2]}, {"in": ("T", 3)}, Code.SYMBOLIC,
                  contains=("(3*T values per sample) is not always a multiple of 2",))


@pytest.mark.parametrize("dims,text", [
    ([0, 1], "must list each of the 3 dimensions of N×3×4 exactly once (0 first), e.g. [0, 2, 1]"),
    ([0, 1, 1], "exactly once"),
    ([1, 0, 2], "must start with 0 so the batch stays first"),
])
def test_permute_bad_dims(dims, text):
    check_rejects("Permute", {"dims": dims}, {"in": (3, 4)}, Code.PARAM, contains=(text,))


def test_select_timestep_out_of_range():
    g = single("SelectTimestep", {"index": 5}, {"in": (5, 8)})
    p = _one(g, Code.SIZE)
    assert "index 5 is out of range for dim 1 of N×5×8 (length 5: valid -5..4)" in p.message
    assert p.fix == {"kind": "set_param", "param": "index", "value": -1}


def test_select_timestep_symbolic_index():
    check_rejects("SelectTimestep", {"index": 3}, {"in": ("T", 8)}, Code.SYMBOLIC,
                  contains=("index 3 may be out of range for the variable length T",))


def test_select_timestep_needs_a_sequence():
    g = chain(("Mean", {}), ("SelectTimestep", {}), input_shape=(4,))
    (p,) = problems_of(g, Code.RANK)
    assert "receives N (rank 1)" in p.message
