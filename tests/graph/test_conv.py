"""Convolution blocks against PyTorch: shapes, parameter counts, checks, code."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import analyze, blocks
from graph.problems import Code
from support import check_rejects, run_and_compare, single


def first_problem(block, params, inputs, code):
    found = [p for p in analyze(single(block, params, inputs)).problems() if p.code == code]
    assert found, f"expected a {code} problem"
    return found[0]


def fixed_runs(block, params, inputs, problem):
    """Applying the problem's quick fix makes the graph valid (and right)."""
    g = single(block, params, inputs)
    assert problem.fix["kind"] == "set_param"
    g.set_param("b", problem.fix["param"], problem.fix["value"])
    run_and_compare(g)


def torch_refuses(block, params, in_shape):
    """PyTorch itself raises for this layer on a batch of this sample shape."""
    kwargs = {**blocks.get(block).defaults(), **params}
    for ours in ("weight_norm", "init", "init_scale"):
        kwargs.pop(ours, None)
    with pytest.raises((RuntimeError, ValueError)):
        layer = getattr(torch.nn, block)(in_shape[0], **kwargs)
        with torch.no_grad():
            layer(torch.randn(2, *in_shape))


# ---------------------------------------------------------------- shapes and counts

CONV_CASES = [
    ("Conv1d", {"out_channels": 4, "kernel_size": 3}, (2, 10)),
    ("Conv1d", {"out_channels": 6, "kernel_size": 5, "stride": 2, "padding": 1}, (3, 17)),
    ("Conv1d", {"out_channels": 4, "kernel_size": 3, "dilation": 3, "padding": "same"}, (2, 9)),
    ("Conv1d", {"out_channels": 4, "kernel_size": 4, "padding": "same"}, (2, 9)),
    ("Conv1d", {"out_channels": 8, "kernel_size": 3, "groups": 4, "bias": False}, (4, 8)),
    ("Conv1d", {"out_channels": 4, "kernel_size": 3, "padding": 2,
                "padding_mode": "circular"}, (2, 6)),
    ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, (1, 8, 8)),
    ("Conv2d", {"out_channels": 8, "kernel_size": [3, 5], "stride": [2, 1],
                "padding": [1, 2]}, (3, 9, 7)),
    ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": "valid"}, (2, 5, 6)),
    ("Conv2d", {"out_channels": 6, "kernel_size": 3, "dilation": 2, "stride": 2}, (3, 11, 9)),
    ("Conv2d", {"out_channels": 8, "kernel_size": 3, "groups": 8, "padding": "same"},
     (8, 6, 6)),  # depthwise
    ("Conv2d", {"out_channels": 6, "kernel_size": 1}, (4, 5, 5)),  # pointwise
    ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 2,
                "padding_mode": "reflect"}, (2, 4, 5)),
    ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1,
                "padding_mode": "replicate"}, (2, 4, 5)),
    ("Conv2d", {"out_channels": 5, "weight_norm": True}, (2, 6, 6)),
    ("Conv3d", {"out_channels": 4, "kernel_size": 3, "padding": 1}, (2, 5, 6, 4)),
    ("Conv3d", {"out_channels": 6, "kernel_size": [1, 3, 3], "stride": [1, 2, 2],
                "groups": 3}, (3, 4, 7, 7)),
    ("ConvTranspose1d", {"out_channels": 4, "kernel_size": 4, "stride": 2, "padding": 1},
     (3, 8)),
    ("ConvTranspose1d", {"out_channels": 4, "kernel_size": 3, "stride": 3,
                         "output_padding": 2}, (2, 5)),
    ("ConvTranspose2d", {"out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1,
                         "output_padding": 1}, (4, 5, 5)),
    ("ConvTranspose2d", {"out_channels": 6, "kernel_size": 3, "dilation": 2, "groups": 2,
                         "bias": False}, (4, 3, 4)),
    ("ConvTranspose2d", {"out_channels": 6, "kernel_size": 2, "stride": 2,
                         "weight_norm": True}, (4, 3, 3)),
    ("DepthwiseSeparableConv2d", {"out_channels": 16, "kernel_size": 3, "padding": "same"},
     (8, 6, 6)),
    ("DepthwiseSeparableConv2d", {"out_channels": 4, "kernel_size": [3, 5], "stride": 2,
                                  "dilation": [1, 2], "bias": False}, (3, 11, 12)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("block,params,shape", CONV_CASES,
                         ids=[f"{b}-{i}" for i, (b, _, _) in enumerate(CONV_CASES)])
def test_conv_shapes_and_counts_match_pytorch(block, params, shape):
    run_and_compare(single(block, params, {"in": shape}))


@st.composite
def conv2d_cases(draw):
    c_in = draw(st.sampled_from([1, 2, 4, 6]))
    groups = draw(st.sampled_from([g for g in (1, 2, 3, 6) if c_in % g == 0]))
    out = groups * draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    padding = draw(st.sampled_from([0, 1, 2, "same", "valid"]))
    params = {"out_channels": out, "kernel_size": k, "stride": stride, "padding": padding,
              "dilation": draw(st.integers(1, 2)), "groups": groups,
              "bias": draw(st.booleans())}
    return params, (c_in, draw(st.integers(1, 9)), draw(st.integers(1, 9)))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@settings(max_examples=60, derandomize=True, deadline=None)
@given(conv2d_cases())
def test_conv2d_accepts_exactly_what_pytorch_accepts(case):
    params, shape = case
    errors = analyze(single("Conv2d", params, {"in": shape})).errors()
    if errors:
        assert errors[0].code in (Code.WINDOW, Code.PARAM), errors[0].message
        torch_refuses("Conv2d", params, shape)
    else:
        run_and_compare(single("Conv2d", params, {"in": shape}))


@pytest.mark.parametrize("padding,want", [("same", "T"), ("valid", "T-2"), (1, "T")])
def test_conv1d_keeps_symbolic_length(padding, want):
    g = single("Conv1d", {"out_channels": 4, "kernel_size": 3, "padding": padding},
               {"in": (2, "T")})
    assert analyze(g).output_type("b").shape == ("N", 4, want)
    for t in (3, 8):
        run_and_compare(g, env={"T": t})


def test_strided_and_transposed_symbolic_lengths_match_pytorch():
    g = single("Conv1d", {"out_channels": 3, "kernel_size": 4, "stride": 2, "padding": 1},
               {"in": (2, "T")})
    for t in (4, 7, 10):
        run_and_compare(g, env={"T": t})
    g = single("ConvTranspose1d", {"out_channels": 3, "kernel_size": 4, "stride": 2,
                                   "padding": 1}, {"in": (2, "T")})
    assert analyze(g).output_type("b").shape == ("N", 3, "2*T")
    run_and_compare(g, env={"T": 6})


def test_delta_orthogonal_init_makes_an_orthogonal_centre_tap():
    g = single("Conv2d", {"out_channels": 8, "kernel_size": 3, "init": "delta_orthogonal"},
               {"in": (4, 6, 6)})
    got = run_and_compare(g)
    assert "delta_orthogonal_" in got["code"].source
    w = getattr(got["model"], got["code"].attrs["b"]).weight.detach()
    centre = w[:, :, 1, 1]
    assert torch.allclose(centre.T @ centre, torch.eye(4), atol=1e-5)
    w[:, :, 1, 1] = 0
    assert not w.any()


# ---------------------------------------------------------------- validation

def test_rank_mismatch_names_layout_and_suggests_reshape():
    msg = check_rejects("Conv2d", {}, {"in": (64,)}, Code.RANK)
    assert msg == ('Conv2d "conv2d_1": expects input N×C×H×W (rank 4) but receives N×64 '
                   "(rank 2); add a Reshape to N×1×8×8 before it")


def test_kernel_larger_than_input_offers_same_padding():
    params = {"out_channels": 4, "kernel_size": 5}
    msg = check_rejects("Conv2d", params, {"in": (1, 3, 3)}, Code.WINDOW,
                        contains=("kernel 5×5 is larger than the padded input 3×3",
                                  'set padding to "same"'))
    assert "N×1×3×3" in msg
    fix = first_problem("Conv2d", params, {"in": (1, 3, 3)}, Code.WINDOW)
    assert fix.fix == {"kind": "set_param", "param": "padding", "value": "same"}
    fixed_runs("Conv2d", params, {"in": (1, 3, 3)}, fix)


def test_strided_kernel_too_large_offers_enough_padding():
    params = {"out_channels": 4, "kernel_size": 3, "dilation": 2, "stride": 2}
    check_rejects("Conv1d", params, {"in": (2, 4)}, Code.WINDOW,
                  contains=("with dilation 2 spans 5", "set padding to 1"))
    fixed_runs("Conv1d", params, {"in": (2, 4)},
               first_problem("Conv1d", params, {"in": (2, 4)}, Code.WINDOW))


def test_transposed_output_reaching_zero():
    params = {"out_channels": 2, "kernel_size": 3, "padding": 3}
    check_rejects("ConvTranspose1d", params, {"in": (2, 1)}, Code.ZERO_SIZE,
                  contains=("its output would be N×2×-3", "set padding to 1 or less"))
    torch_refuses("ConvTranspose1d", params, (2, 1))
    fixed_runs("ConvTranspose1d", params, {"in": (2, 1)},
               first_problem("ConvTranspose1d", params, {"in": (2, 1)}, Code.ZERO_SIZE))


@pytest.mark.parametrize("block", ["Conv2d", "ConvTranspose2d"])
def test_channels_not_divisible_by_groups(block):
    params = {"out_channels": 16, "groups": 4}
    check_rejects(block, params, {"in": (6, 5, 5)}, Code.GROUPS,
                  contains=("in_channels 6 is not divisible by groups=4", "such as 2"))
    torch_refuses(block, params, (6, 5, 5))
    fixed_runs(block, params, {"in": (6, 5, 5)},
               first_problem(block, params, {"in": (6, 5, 5)}, Code.GROUPS))


def test_out_channels_not_divisible_by_groups():
    check_rejects("Conv1d", {"out_channels": 6, "groups": 4}, {"in": (8, 5)}, Code.GROUPS,
                  contains=("out_channels 6 is not divisible by groups=4",))


def test_same_padding_with_stride_is_refused_like_pytorch():
    params = {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": "same"}
    check_rejects("Conv2d", params, {"in": (1, 8, 8)}, Code.PARAM,
                  contains=('padding "same" works only with stride 1', "use padding=1"))
    torch_refuses("Conv2d", params, (1, 8, 8))
    fixed_runs("Conv2d", params, {"in": (1, 8, 8)},
               first_problem("Conv2d", params, {"in": (1, 8, 8)}, Code.PARAM))


def test_reflect_padding_longer_than_input():
    params = {"out_channels": 2, "kernel_size": 3, "padding": 3, "padding_mode": "reflect"}
    check_rejects("Conv1d", params, {"in": (2, 3)}, Code.PARAM,
                  contains=('padding_mode "reflect" needs padding smaller than the input',))
    torch_refuses("Conv1d", params, (2, 3))


def test_output_padding_must_be_below_stride():
    params = {"out_channels": 2, "kernel_size": 3, "stride": 2, "output_padding": 2}
    check_rejects("ConvTranspose2d", params, {"in": (2, 4, 4)}, Code.PARAM,
                  contains=("output_padding 2×2 must be smaller than stride 2×2",))
    torch_refuses("ConvTranspose2d", params, (2, 4, 4))


def test_symbolic_channels_need_a_fixed_size():
    check_rejects("Conv1d", {}, {"in": ("T", 8)}, Code.SYMBOLIC,
                  contains=("needs a fixed number of input channels", "variable size T"))


def test_in_channels_is_inferred_not_given():
    check_rejects("Conv2d", {"in_channels": 3}, {"in": (3, 8, 8)}, Code.PARAM,
                  contains=("in_channels is inferred",))


def test_kernel_size_list_needs_one_entry_per_dimension():
    check_rejects("Conv2d", {"kernel_size": [3, 3, 3]}, {"in": (1, 8, 8)}, Code.PARAM,
                  contains=("kernel_size must have 2 entries",))


# ---------------------------------------------------------------- generated code

def source_of(block, params, shape):
    """Generated source with wrapped calls joined back onto one line."""
    src = run_and_compare(single(block, params, {"in": shape}))["code"].source
    return " ".join(src.split()).replace("( ", "(").replace(", )", ")").replace(" )", ")")


def test_code_leaves_out_defaults():
    src = source_of("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, (1, 8, 8))
    assert "nn.Conv2d(1, 16, kernel_size=3, padding=1)" in src
    src = source_of("Conv1d", {"out_channels": 4, "padding": "valid", "stride": [1],
                               "dilation": 1}, (2, 9))
    assert "nn.Conv1d(2, 4, kernel_size=3)" in src


def test_code_shows_every_chosen_option():
    src = source_of("Conv2d", {"out_channels": 8, "kernel_size": [3, 5], "padding": "same",
                               "groups": 2, "bias": False, "padding_mode": "replicate",
                               "dilation": 2}, (4, 9, 9))
    assert ('nn.Conv2d(4, 8, kernel_size=(3, 5), padding="same", dilation=2, groups=2, '
            'bias=False, padding_mode="replicate")') in src
    src = source_of("ConvTranspose2d", {"out_channels": 3, "kernel_size": 3, "stride": 2,
                                        "padding": 1, "output_padding": 1}, (4, 5, 5))
    assert ("nn.ConvTranspose2d(4, 3, kernel_size=3, stride=2, padding=1, output_padding=1)"
            in src)


def test_weight_norm_wraps_the_layer():
    src = source_of("Conv1d", {"out_channels": 4, "weight_norm": True}, (2, 9))
    assert "nn.utils.parametrizations.weight_norm(nn.Conv1d(2, 4, kernel_size=3))" in src


def test_depthwise_separable_is_a_documented_helper_module():
    src = source_of("DepthwiseSeparableConv2d", {"out_channels": 16, "padding": "same"},
                    (8, 6, 6))
    assert "class DepthwiseSeparableConv2d(nn.Module):" in src
    assert "groups=in_channels" in src
    assert 'DepthwiseSeparableConv2d(8, 16, kernel_size=3, padding="same")' in src


def test_delta_orthogonal_init_reaches_the_depthwise_separable_helper():
    g = single("DepthwiseSeparableConv2d", {"out_channels": 6, "padding": "same",
                                            "init": "delta_orthogonal"}, {"in": (4, 5, 5)})
    got = run_and_compare(g)
    layer = getattr(got["model"], got["code"].attrs["b"])
    pointwise = layer.pointwise.weight.detach()[:, :, 0, 0]
    assert torch.allclose(pointwise.T @ pointwise, torch.eye(4), atol=1e-5)
    assert not layer.depthwise.weight[:, :, 0, 0].any()


# ------------------------------------------------ weight normalisation of a zero weight

@pytest.mark.parametrize("block,shape", [("Linear", (4,)), ("Conv1d", (2, 6)),
                                         ("Conv2d", (2, 5, 5)), ("ConvTranspose1d", (2, 4))])
@pytest.mark.parametrize("init", [{"init": "zeros"}, {"init": "constant"},
                                  {"init": "constant", "init_scale": 0.0}])
def test_weight_norm_of_a_zero_initial_weight_is_refused(block, shape, init):
    """Found by the random-graph fuzz: g·v/‖v‖ of a zero weight is 0/0, so the
    generated model gave NaN on every input while check said valid."""
    params = dict(init, weight_norm=True, **({"out_features": 3} if block == "Linear"
                                             else {"out_channels": 3}))
    g = single(block, params, {"in": shape})
    an = analyze(g)
    (p,) = an.errors()
    how = "zeros" if init["init"] == "zeros" else "constant 0"
    assert (p.node, p.code) == ("b", Code.PARAM)
    assert p.message.endswith(
        f": weight_norm divides the weight by its norm, and init {how} makes that norm 0: "
        "every output would be NaN; choose another init (or a non-zero init_scale for "
        "constant), or turn weight_norm off")
    assert an.output_type("b") is not None  # shapes still flow past it
    # what PyTorch does with it: NaN everywhere
    g.set_param("b", "weight_norm", False)
    model = run_and_compare(g)["model"]
    layer = next(m for m in model.modules() if type(m).__name__ == block)
    wn = torch.nn.utils.parametrizations.weight_norm(layer)
    with torch.no_grad():
        wn.weight = torch.zeros_like(wn.weight)
        assert torch.isnan(model(torch.randn(2, *shape))).all()


@pytest.mark.parametrize("init", [{"init": "constant", "init_scale": 0.5},
                                  {"init": "constant", "init_scale": -2.0},
                                  {"init": "xavier_uniform"}, {"init": "default"}])
def test_weight_norm_with_a_non_zero_initial_weight_is_fine(init):
    g = single("Conv1d", dict(init, out_channels=3, weight_norm=True), {"in": (2, 6)})
    out = run_and_compare(g, train=True)["out"]
    assert torch.isfinite(out).all()


def test_zero_init_without_weight_norm_is_fine():
    g = single("Linear", {"out_features": 3, "init": "zeros"}, {"in": (4,)})
    assert not analyze(g).errors()
