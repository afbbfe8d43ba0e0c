"""Activation blocks against PyTorch: shapes, parameter counts, values, checks."""

import pytest
import torch

from codegen import build_model
from graph import blocks
from graph.problems import Code
from support import chain, check_rejects, problems_of, run_and_compare, single

CASES = [
    ("ReLU", {}, (5,)),
    ("LeakyReLU", {"negative_slope": 0.2}, (3, 4)),
    ("PReLU", {}, (3, 4)),
    ("PReLU", {"num_parameters": 3, "init": 0.1}, (3, 4, 4)),
    ("PReLU", {"num_parameters": 6}, (6,)),
    ("RReLU", {"lower": 0.1, "upper": 0.3}, (4,)),
    ("ELU", {"alpha": 0.5}, (2, 3)),
    ("SELU", {}, (4,)),
    ("CELU", {"alpha": 2.0}, (4,)),
    ("GELU", {}, (4,)),
    ("GELU", {"approximate": "tanh"}, ("T", 4)),
    ("SiLU", {}, (4,)),
    ("Mish", {}, (4,)),
    ("Sigmoid", {}, (4,)),
    ("Tanh", {}, (2, 2, 2)),
    ("Hardtanh", {"min_val": -2.0, "max_val": 3.0}, (4,)),
    ("ReLU6", {}, (4,)),
    ("Softplus", {"beta": 2.0, "threshold": 10.0}, (4,)),
    ("Softsign", {}, (4,)),
    ("Softmax", {}, (3, 5)),
    ("Softmax", {"dim": 1}, (3, 5)),
    ("LogSoftmax", {"dim": -2}, ("T", 5)),
    ("ArcTan", {}, (4,)),
    ("BinaryStep", {}, (4,)),
    ("ISRU", {"alpha": 0.5}, (4,)),
    ("ISRLU", {}, (2, 3)),
    ("SquareNonlinearity", {}, (4,)),
    ("BipolarReLU", {}, (4, 3, 3)),
    ("BipolarReLU", {}, (5,)),
    ("AbsoluteReLU", {}, (4,)),
]


@pytest.mark.parametrize("block,params,shape", CASES)
def test_shape_and_count_match_torch(block, params, shape):
    run_and_compare(single(block, params, {"in": shape}))


def test_every_activation_is_tested_and_documented():
    specs = [s for s in blocks.all_specs() if s.family == "activation"]
    assert {s.type for s in specs} == {c[0] for c in CASES}
    for s in specs:
        assert s.formula and s.doc, s.type


def test_saturating_flags():
    flagged = {s.type for s in blocks.all_specs() if s.family == "activation" and s.saturating}
    assert flagged == {"Sigmoid", "Tanh", "Hardtanh", "Softsign", "ISRU", "ArcTan"}


def _apply(block, params, values, shape=None):
    """Run one block on the given values; return the output tensor."""
    x = torch.tensor(values, dtype=torch.float32)
    x = x.reshape(shape) if shape else x.reshape(1, -1)
    model, _ = build_model(single(block, params, {"in": tuple(x.shape[1:])}))
    model.eval()
    with torch.no_grad():
        return model(x)


def test_helper_values():
    xs = [-3.0, -1.0, 0.0, 1.0, 3.0]
    assert _apply("BinaryStep", {}, xs).tolist() == [[0, 0, 1, 1, 1]]
    assert _apply("AbsoluteReLU", {}, xs).tolist() == [[3, 1, 0, 1, 3]]
    assert _apply("SquareNonlinearity", {}, xs).tolist() == [[-1, -0.75, 0, 0.75, 1]]
    torch.testing.assert_close(_apply("ArcTan", {}, xs), torch.atan(torch.tensor([xs])))
    isru = _apply("ISRU", {"alpha": 3.0}, [1.0, -1.0])
    torch.testing.assert_close(isru, torch.tensor([[0.5, -0.5]]))
    isrlu = _apply("ISRLU", {"alpha": 3.0}, [1.0, -1.0])
    torch.testing.assert_close(isrlu, torch.tensor([[1.0, -0.5]]))


def test_bipolar_relu_flips_odd_channels():
    x = [[1.0, -1.0], [1.0, -1.0], [1.0, -1.0]]  # 3 channels × 2 positions
    y = _apply("BipolarReLU", {}, x, shape=(1, 3, 2))
    assert y.tolist() == [[[1, 0], [0, -1], [1, 0]]]


def test_prelu_channelwise_has_one_slope_per_channel():
    out = run_and_compare(single("PReLU", {"num_parameters": 4, "init": 0.5}, {"in": (4, 2)}))
    assert "nn.PReLU(num_parameters=4, init=0.5)" in out["code"].source
    assert "init_weights_" not in out["code"].source


def test_only_used_helpers_are_emitted():
    source = run_and_compare(chain("ISRU", "ReLU", input_shape=(4,)))["code"].source
    assert "class ISRU(nn.Module)" in source
    assert "self.isru_1 = ISRU()" in source
    for other in ("ISRLU", "ArcTan", "BinaryStep", "BipolarReLU", "AbsoluteReLU",
                  "SquareNonlinearity"):
        assert f"class {other}(" not in source
    assert "class " not in run_and_compare(chain("ReLU", input_shape=(4,)))["code"].source.split(
        "class BlockTest")[0]


def test_non_default_arguments_only():
    source = run_and_compare(chain(("ELU", {"alpha": 1.0}), ("LeakyReLU", {"negative_slope": 0.1}),
                                   "Softmax", input_shape=(4,)))["code"].source
    assert "nn.ELU()" in source
    assert "nn.LeakyReLU(negative_slope=0.1)" in source
    assert "nn.Softmax(dim=-1)" in source


def test_saturating_stack_warns_after_six():
    assert not problems_of(chain(*["Tanh"] * 6, input_shape=(4,)), Code.SATURATING)
    found = problems_of(chain(*["Sigmoid", "Tanh", "ArcTan", "ISRU", "Softsign", "Hardtanh",
                                "Tanh"], input_shape=(4,)), Code.SATURATING)
    assert len(found) == 1 and "vanish" in found[0].message


# --------------------------------------------------------------- checks

def test_hardtanh_min_must_be_below_max():
    msg = check_rejects("Hardtanh", {"min_val": 1.0, "max_val": 1.0}, {"in": (4,)}, Code.PARAM)
    assert "min_val (1) must be below max_val (1)" in msg


def test_rrelu_lower_above_upper():
    check_rejects("RReLU", {"lower": 0.5, "upper": 0.1}, {"in": (4,)}, Code.PARAM,
                  contains=("lower (0.5) must not exceed upper (0.1)",))


def test_celu_alpha_zero():
    check_rejects("CELU", {"alpha": 0}, {"in": (4,)}, Code.PARAM, contains=("alpha must not be 0",))


def test_isru_alpha_must_be_positive():
    check_rejects("ISRU", {"alpha": 0.0}, {"in": (4,)}, Code.PARAM, contains=("alpha must be > 0",))


def test_softmax_over_batch_is_refused():
    msg = check_rejects("Softmax", {"dim": 0}, {"in": (4,)}, Code.PARAM,
                        contains=("dim=0 is the batch dimension of N×4",))
    assert msg.startswith('Softmax "softmax_1"')


def test_softmax_dim_out_of_range():
    check_rejects("LogSoftmax", {"dim": 3}, {"in": (4,)}, Code.PARAM,
                  contains=("dim=3 is out of range for an input of rank 2",))


def test_prelu_num_parameters_must_match_channels():
    g = single("PReLU", {"num_parameters": 5}, {"in": (3, 8)})
    (p,) = problems_of(g, Code.SIZE)
    assert "must be 1 (one shared slope) or the number of channels, 3 for input N×3×8" in p.message
    assert p.fix == {"kind": "set_param", "param": "num_parameters", "value": 3}


def test_prelu_channelwise_needs_fixed_channels():
    check_rejects("PReLU", {"num_parameters": 4}, {"in": ("T", 4)}, Code.SYMBOLIC,
                  contains=("variable size T",))


def test_bipolar_relu_needs_channels():
    g = chain(("Mean", {}), "BipolarReLU", input_shape=(4,))
    (p,) = problems_of(g, Code.RANK)
    assert "expects input N×C×... (channels on dim 1) (rank 2) but receives N (rank 1)" in p.message


def test_int_input_is_refused():
    check_rejects("ReLU", {}, {"in": (4,)}, Code.DTYPE, dtype="int64",
                  contains=("expects float32 input",))


def test_gelu_approximate_choices():
    check_rejects("GELU", {"approximate": "fast"}, {"in": (4,)}, Code.PARAM,
                  contains=("approximate must be one of 'none', 'tanh'",))


def test_binary_step_doc_says_gradient_is_zero():
    from graph.blocks.registry import HELPERS
    assert "gradient is zero" in HELPERS["BinaryStep"][0]
    assert "gradient is zero" in blocks.get("BinaryStep").doc
