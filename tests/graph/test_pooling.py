"""Pooling blocks against PyTorch: shapes, checks, generated code."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import analyze, blocks
from graph.problems import Code
from support import check_rejects, run_and_compare, single


def torch_refuses(block, params, in_shape):
    """PyTorch itself raises for this layer on a batch of this sample shape."""
    kwargs = {**blocks.get(block).defaults(), **params}
    with pytest.raises(RuntimeError):
        with torch.no_grad():
            getattr(torch.nn, block)(**kwargs)(torch.randn(2, *in_shape))


POOL_CASES = [
    ("MaxPool1d", {}, (3, 9)),
    ("MaxPool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}, (2, 10)),
    ("MaxPool1d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, (2, 8)),
    ("MaxPool2d", {"kernel_size": 2}, (4, 8, 8)),
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, (4, 7, 9)),
    ("MaxPool2d", {"kernel_size": [2, 3], "stride": [1, 2], "dilation": [2, 1]}, (1, 6, 7)),
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, (1, 2, 6)),  # window > H
    ("MaxPool2d", {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True}, (1, 5, 7)),
    ("MaxPool3d", {"kernel_size": 2}, (2, 4, 6, 6)),
    ("MaxPool3d", {"kernel_size": [1, 2, 2], "stride": [1, 2, 2], "padding": [0, 1, 1]},
     (2, 3, 5, 5)),
    ("AvgPool1d", {"kernel_size": 3}, (2, 10)),
    ("AvgPool1d", {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True,
                   "count_include_pad": False}, (2, 11)),
    ("AvgPool2d", {"kernel_size": 3, "stride": 1, "padding": 1}, (3, 5, 5)),
    ("AvgPool2d", {"kernel_size": [2, 4], "ceil_mode": True}, (3, 5, 9)),
    ("AvgPool3d", {"kernel_size": 2, "stride": 1}, (2, 3, 4, 5)),
    ("AvgPool3d", {"kernel_size": 2, "padding": 1, "ceil_mode": True}, (1, 2, 3, 2)),
    ("MaxPool1d", {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True}, (2, 7)),
    ("AdaptiveAvgPool1d", {"output_size": 4}, (3, 10)),
    ("AdaptiveAvgPool2d", {"output_size": [2, 3]}, (3, 7, 5)),
    ("AdaptiveAvgPool2d", {"output_size": 6}, (2, 4, 4)),  # larger than the input
    ("AdaptiveMaxPool1d", {"output_size": 1}, (3, 7)),
    ("AdaptiveMaxPool2d", {"output_size": 7}, (3, 9, 10)),
    ("GlobalAvgPool", {}, (5, 4)),
    ("GlobalAvgPool", {}, (5, 4, 3)),
    ("GlobalAvgPool", {}, (5, 2, 3, 4)),
]


@pytest.mark.parametrize("block,params,shape", POOL_CASES,
                         ids=[f"{b}-{i}" for i, (b, _, _) in enumerate(POOL_CASES)])
def test_pool_shapes_match_pytorch(block, params, shape):
    run_and_compare(single(block, params, {"in": shape}))


@st.composite
def pool2d_cases(draw):
    block = draw(st.sampled_from(["MaxPool2d", "AvgPool2d"]))
    k = draw(st.integers(1, 5))
    params = {"kernel_size": k, "stride": draw(st.sampled_from([None, 1, 2, 3])),
              "padding": draw(st.integers(0, k // 2 + 1)), "ceil_mode": draw(st.booleans())}
    if block == "MaxPool2d":
        params["dilation"] = draw(st.integers(1, 2))
    else:
        params["count_include_pad"] = draw(st.booleans())
    return block, params, (2, draw(st.integers(1, 8)), draw(st.integers(1, 8)))


@settings(max_examples=100, derandomize=True, deadline=None)
@given(pool2d_cases())
def test_pool2d_accepts_exactly_what_pytorch_accepts(case):
    block, params, shape = case
    errors = analyze(single(block, params, {"in": shape})).errors()
    if errors:
        assert errors[0].code in (Code.WINDOW, Code.PARAM), errors[0].message
        torch_refuses(block, params, shape)
    else:
        run_and_compare(single(block, params, {"in": shape}))


@pytest.mark.parametrize("block,params", [
    ("MaxPool1d", {}),
    ("MaxPool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("AvgPool1d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ("AvgPool1d", {"kernel_size": 4, "stride": 1, "padding": 2}),
    ("MaxPool1d", {"kernel_size": 2, "stride": 1, "dilation": 2}),
    ("MaxPool1d", {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True}),
    ("AvgPool1d", {"kernel_size": 3, "stride": 4, "padding": 1, "ceil_mode": True}),
    ("AdaptiveMaxPool1d", {"output_size": 2}),
])
def test_1d_pooling_over_symbolic_length_matches_pytorch_for_every_length(block, params):
    g = single(block, params, {"in": (2, "T")})
    assert "T" in str(analyze(g).output_type("b").shape[2]) or block.startswith("Adaptive")
    for t in range(4, 12):
        run_and_compare(g, env={"T": t})


def test_pooling_keeps_a_symbolic_channel_count():
    g = single("MaxPool1d", {}, {"in": ("C", 8)})
    assert analyze(g).output_type("b").shape == ("N", "C", 4)
    run_and_compare(g, env={"C": 3})


def test_global_avg_pool_over_symbolic_length():
    g = single("GlobalAvgPool", {}, {"in": (4, "T")})
    assert analyze(g).output_type("b").shape == ("N", 4)
    run_and_compare(g, env={"T": 6})


# ---------------------------------------------------------------- validation

def test_rank_mismatch():
    msg = check_rejects("MaxPool2d", {}, {"in": (16, 8)}, Code.RANK)
    assert msg == ('MaxPool2d "max_pool2d_1": expects input N×C×H×W (rank 4) but receives '
                   "N×16×8 (rank 3); add a Reshape to N×1×16×8 before it")


def test_window_larger_than_input_offers_padding():
    check_rejects("MaxPool2d", {"kernel_size": 2}, {"in": (8, 1, 1)}, Code.WINDOW,
                  contains=("window 2×2 is larger than the padded input 1×1",
                            "set padding to 1"))
    torch_refuses("MaxPool2d", {"kernel_size": 2}, (8, 1, 1))
    g = single("MaxPool2d", {"kernel_size": 2}, {"in": (8, 1, 1)})
    fix = analyze(g).problems()[0].fix
    assert fix == {"kind": "set_param", "param": "padding", "value": 1}
    g.set_param("b", fix["param"], fix["value"])
    run_and_compare(g)


def test_dilated_window_too_large_for_any_allowed_padding():
    msg = check_rejects("MaxPool1d", {"kernel_size": 3, "dilation": 3}, {"in": (2, 4)},
                        Code.WINDOW, contains=("window 3 with dilation 3 spans 7",
                                               "use a smaller kernel_size"))
    assert "padding to" not in msg
    torch_refuses("MaxPool1d", {"kernel_size": 3, "dilation": 3}, (2, 4))


@pytest.mark.parametrize("block", ["MaxPool2d", "AvgPool1d"])
def test_padding_over_half_the_kernel_is_refused_like_pytorch(block):
    shape = (2, 8, 8) if block.endswith("2d") else (2, 8)
    params = {"kernel_size": 3, "padding": 2}
    check_rejects(block, params, {"in": shape}, Code.PARAM,
                  contains=("padding 2", "more than half of kernel_size 3",
                            "set padding to 1 or less"))
    torch_refuses(block, params, shape)


@pytest.mark.parametrize("block,params,want", [
    ("MaxPool1d", {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True}, "(T//3)+1"),
    ("AvgPool1d", {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True}, "(T//3)+1"),
    ("MaxPool1d", {"kernel_size": 3, "stride": 4, "padding": 1, "ceil_mode": True}, "(T//4)+1"),
    ("AvgPool1d", {"kernel_size": 1, "stride": 2, "ceil_mode": True}, "((T-1)//2)+1"),
    ("MaxPool1d", {"kernel_size": 2, "stride": 5, "dilation": 2, "ceil_mode": True},
     "((T-1)//5)+1"),
])
def test_ceil_mode_with_a_stride_longer_than_the_window_has_a_formula(block, params, want):
    """Found by the random-graph fuzz: a last window that may start in the right
    padding (dropped by PyTorch) used to be "no formula"; it has one, exact
    for every length."""
    g = single(block, params, {"in": (2, "T")})
    assert analyze(g).output_type("b").shape == ("N", 2, want)
    for t in range(1, 14):
        run_and_compare(g, env={"T": t})


def test_ceil_mode_formula_in_two_dimensions():
    g = single("MaxPool2d", {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True},
               {"in": (1, "T", 7)})
    assert analyze(g).output_type("b").shape == ("N", 1, "(T//3)+1", 3)
    for t in (1, 2, 3, 4, 8):
        run_and_compare(g, env={"T": t})


# ------------------------------------------------ AvgPool3d: input at least the kernel

@pytest.mark.parametrize("params,shape,msg,fix", [
    ({"kernel_size": 2, "padding": 1}, (2, 1, 4, 4),
     "window 2×2×2 is larger than the input 1×4×4 (input N×2×1×4×4); AvgPool3d needs every "
     "dimension at least as large as the kernel (padding does not count here) — use a smaller "
     "kernel_size and padding, or remove this pooling layer", None),
    ({"kernel_size": 3}, (2, 4, 2, 3),
     "window 3×3×3 is larger than the input 4×2×3 (input N×2×4×2×3); AvgPool3d needs every "
     "dimension at least as large as the kernel — set kernel_size to (3, 2, 3) or less, or "
     "remove this pooling layer", (3, 2, 3)),
    ({"kernel_size": 2, "ceil_mode": True}, (3, 1, 5, 5),
     "window 2×2×2 is larger than the input 1×5×5 (input N×3×1×5×5); AvgPool3d needs every "
     "dimension at least as large as the kernel — set kernel_size to (1, 2, 2) or less, or "
     "remove this pooling layer", (1, 2, 2)),
])
def test_avg_pool3d_refuses_an_input_smaller_than_the_kernel_as_pytorch_does(
        params, shape, msg, fix):
    """Found by the random-graph fuzz: PyTorch's avg_pool3d refuses "input image
    smaller than kernel size" even where padding or ceil_mode would give an
    output; check used to say valid."""
    got = check_rejects("AvgPool3d", params, {"in": shape}, Code.WINDOW)
    assert got == 'AvgPool3d "avg_pool3d_1": ' + msg
    torch_refuses("AvgPool3d", params, shape)
    g = single("AvgPool3d", params, {"in": shape})
    (p,) = analyze(g).errors()
    assert p.fix == (None if fix is None else
                     {"kind": "set_param", "param": "kernel_size", "value": fix})
    if fix is not None:
        g.set_param("b", "kernel_size", fix)
        run_and_compare(g)


@pytest.mark.parametrize("block,shape", [("MaxPool3d", (2, 1, 4, 4)), ("AvgPool2d", (2, 1, 4)),
                                         ("AvgPool1d", (2, 1)), ("MaxPool2d", (2, 1, 4))])
def test_other_pools_take_an_input_smaller_than_the_kernel_with_padding(block, shape):
    """Only AvgPool3d has that rule in PyTorch: padding makes up the size for the others."""
    run_and_compare(single(block, {"kernel_size": 2, "padding": 1}, {"in": shape}))


@st.composite
def pool_1d_3d_cases(draw):
    n = draw(st.sampled_from([1, 3]))
    block = draw(st.sampled_from([f"MaxPool{n}d", f"AvgPool{n}d"]))
    k = draw(st.integers(1, 4))
    params = {"kernel_size": k, "stride": draw(st.sampled_from([None, 1, 2, 3, 5])),
              "padding": draw(st.integers(0, k // 2 + 1)), "ceil_mode": draw(st.booleans())}
    if block.startswith("Max"):
        params["dilation"] = draw(st.integers(1, 2))
    else:
        params["count_include_pad"] = draw(st.booleans())
    return block, params, (2,) + tuple(draw(st.integers(1, 6)) for _ in range(n))


@settings(max_examples=150, derandomize=True, deadline=None)
@given(pool_1d_3d_cases())
def test_pool1d_and_pool3d_accept_exactly_what_pytorch_accepts(case):
    block, params, shape = case
    errors = analyze(single(block, params, {"in": shape})).errors()
    if errors:
        assert errors[0].code in (Code.WINDOW, Code.PARAM), errors[0].message
        torch_refuses(block, params, shape)
    else:
        run_and_compare(single(block, params, {"in": shape}))


def test_global_avg_pool_on_pooled_input():
    check_rejects("GlobalAvgPool", {}, {"in": (64,)}, Code.RANK,
                  contains=("receives N×64 (rank 2)", "remove this GlobalAvgPool"))


def test_output_size_must_be_positive():
    check_rejects("AdaptiveAvgPool2d", {"output_size": [0, 2]}, {"in": (2, 4, 4)}, Code.PARAM,
                  contains=("output_size must be >= 1",))


# ---------------------------------------------------------------- generated code

def source_of(block, params, shape):
    """Generated source with wrapped calls joined back onto one line."""
    src = run_and_compare(single(block, params, {"in": shape}))["code"].source
    return " ".join(src.split()).replace("( ", "(").replace(", )", ")").replace(" )", ")")


def test_code_leaves_out_defaults():
    assert "nn.MaxPool2d(2)" in source_of("MaxPool2d", {"stride": 2}, (1, 8, 8))
    assert "nn.MaxPool1d(3, stride=2, padding=1)" in source_of(
        "MaxPool1d", {"kernel_size": 3, "stride": 2, "padding": 1}, (1, 8))
    assert "nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)" in source_of(
        "AvgPool2d", {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False},
        (1, 8, 8))
    assert "nn.MaxPool2d((2, 3), stride=1, dilation=2, ceil_mode=True)" in source_of(
        "MaxPool2d", {"kernel_size": [2, 3], "stride": [1, 1], "dilation": 2,
                      "ceil_mode": True}, (1, 8, 8))
    assert "nn.AdaptiveAvgPool2d((2, 3))" in source_of(
        "AdaptiveAvgPool2d", {"output_size": [2, 3]}, (1, 8, 8))


@pytest.mark.parametrize("shape,line", [((4, 5), "x = x_1.mean(dim=2)"),
                                        ((4, 5, 6), "x = x_1.mean(dim=(2, 3))"),
                                        ((4, 2, 3, 3), "x = x_1.mean(dim=(2, 3, 4))")])
def test_global_avg_pool_is_one_readable_line(shape, line):
    assert line in source_of("GlobalAvgPool", {}, shape)
