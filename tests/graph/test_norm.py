"""Normalisation blocks against PyTorch: shapes, parameter counts, checks."""

import pytest

from graph import analyze, blocks
from graph.problems import Code
from support import chain, check_rejects, problems_of, run_and_compare, single

CASES = [
    ("BatchNorm1d", {}, (6,)),
    ("BatchNorm1d", {"affine": False, "momentum": None}, (6, 5)),
    ("BatchNorm1d", {"track_running_stats": False, "eps": 1e-3}, (4, "T")),
    ("BatchNorm2d", {}, (3, 4, 4)),
    ("BatchNorm2d", {"affine": False}, (8, 2, 3)),
    ("BatchNorm3d", {"momentum": 0.01}, (2, 3, 3, 3)),
    ("LayerNorm", {}, (10,)),
    ("LayerNorm", {"normalized_dims": 2}, (3, 4, 5)),
    ("LayerNorm", {"bias": False}, ("T", 8)),
    ("LayerNorm", {"elementwise_affine": False, "eps": 1e-6}, (4, 4)),
    ("RMSNorm", {}, (10,)),
    ("RMSNorm", {"normalized_dims": 2, "eps": 1e-6}, (3, 4, 5)),
    ("RMSNorm", {"elementwise_affine": False}, ("T", 8)),
    ("GroupNorm", {"num_groups": 2}, (4,)),
    ("GroupNorm", {}, (16, 3, 3)),
    ("GroupNorm", {"num_groups": 3, "affine": False}, (6, 5)),
    ("InstanceNorm1d", {}, (3, 5)),
    ("InstanceNorm1d", {"affine": True, "track_running_stats": True}, (3, "T")),
    ("InstanceNorm2d", {"affine": True}, (2, 4, 4)),
    ("InstanceNorm1d", {}, ("T", 5)),  # nothing per channel kept: any channel count
    ("LocalResponseNorm", {}, (6, 4)),
    ("LocalResponseNorm", {"size": 2, "alpha": 1e-3, "beta": 0.5, "k": 2.0}, (4, 3, 3)),
]


@pytest.mark.parametrize("block,params,shape", CASES)
def test_shape_and_count_match_torch(block, params, shape):
    run_and_compare(single(block, params, {"in": shape}))


@pytest.mark.parametrize("block,params,shape", [
    ("BatchNorm1d", {}, (6, 5)), ("LayerNorm", {"normalized_dims": 2}, (3, 4)),
    ("InstanceNorm2d", {"affine": True}, (2, 4, 4)), ("GroupNorm", {"num_groups": 4}, (8,)),
])
def test_training_mode_matches_too(block, params, shape):
    run_and_compare(single(block, params, {"in": shape}), batch=3, train=True)


def test_every_norm_block_is_tested():
    specs = [s for s in blocks.all_specs() if s.family == "normalization"]
    assert {s.type for s in specs} == {c[0] for c in CASES}
    for s in specs:
        assert s.formula and s.doc, s.type


def test_inferred_sizes_and_code():
    g = chain(("Reshape", {"shape": [4, 3, 5]}), ("BatchNorm2d", {}),
              ("LayerNorm", {"normalized_dims": 2}), ("GroupNorm", {"num_groups": 2}),
              ("RMSNorm", {"eps": 1e-6}), input_shape=(60,))
    an = analyze(g)
    assert an.result("l2").inferred == {"num_features": 4}
    assert an.result("l3").inferred == {"normalized_shape": (3, 5)}
    assert an.result("l4").inferred == {"num_channels": 4}
    source = run_and_compare(g)["code"].source
    assert "nn.BatchNorm2d(4)" in source
    assert "nn.LayerNorm((3, 5))" in source
    assert "nn.GroupNorm(2, 4)" in source
    assert "nn.RMSNorm(5, eps=1e-06)" in source


def test_normalization_resets_the_saturating_stack():
    g = chain(*["Tanh"] * 4, "LayerNorm", *["Tanh"] * 4, input_shape=(4,))
    assert not problems_of(g, Code.SATURATING)


# --------------------------------------------------------------- checks

def test_batchnorm2d_needs_rank_4():
    msg = check_rejects("BatchNorm2d", {}, {"in": (64,)}, Code.RANK)
    assert msg == ('BatchNorm2d "batch_norm2d_1": expects input N×C×H×W (rank 4) but receives '
                   "N×64 (rank 2); add a Reshape to N×1×8×8 before it")


def test_batchnorm1d_needs_fixed_channels():
    check_rejects("BatchNorm1d", {}, {"in": ("T", 4)}, Code.SYMBOLIC,
                  contains=("number of channels (dim 1)", "variable size T"))


def test_group_norm_groups_must_divide_channels():
    g = single("GroupNorm", {"num_groups": 4}, {"in": (6, 3)})
    (p,) = problems_of(g, Code.GROUPS)
    assert "num_channels=6 (dim 1 of N×6×3) is not divisible by num_groups=4" in p.message
    assert p.fix == {"kind": "set_param", "param": "num_groups", "value": 2}


def test_layer_norm_too_many_dims():
    g = single("LayerNorm", {"normalized_dims": 3}, {"in": (4, 5)})
    (p,) = problems_of(g, Code.PARAM)
    assert "normalized_dims=3 is more than the 2 dimension(s) after the batch in N×4×5" in p.message
    assert p.fix == {"kind": "set_param", "param": "normalized_dims", "value": 2}


def test_layer_norm_over_variable_length_needs_fixed_size():
    check_rejects("LayerNorm", {"normalized_dims": 2}, {"in": ("T", 8)}, Code.SYMBOLIC,
                  contains=("size of each normalised dimension",))


def test_rms_norm_eps_must_be_positive():
    check_rejects("RMSNorm", {"eps": 0.0}, {"in": (4,)}, Code.PARAM, contains=("eps must be > 0",))


def test_instance_norm_needs_more_than_one_value_per_channel():
    check_rejects("InstanceNorm1d", {}, {"in": (4, 1)}, Code.SIZE,
                  contains=("input N×4×1 has only 1 per channel",))


def test_instance_norm2d_rank():
    check_rejects("InstanceNorm2d", {}, {"in": (4, 5)}, Code.RANK,
                  contains=("expects input N×C×H×W (rank 4) but receives N×4×5 (rank 3)",))


def test_local_response_norm_needs_rank_3():
    check_rejects("LocalResponseNorm", {}, {"in": (4,)}, Code.RANK,
                  contains=("receives N×4 (rank 2)",))


@pytest.mark.parametrize("params, says", [
    ({"k": -0.5, "beta": 0.5}, "k must be > 0"),
    ({"k": 0}, "k must be > 0"),
    ({"alpha": -1.0}, "alpha must be >= 0"),
])
def test_local_response_norm_refuses_settings_that_give_nan(params, says):
    # k + α·mean(x²) below zero raised to a fractional β: NaN in torch (found by the fuzz)
    import torch

    x = torch.randn(2, 4, 3)
    p = {"size": 2, "alpha": 1e-4, "beta": 0.75, "k": 1.0, **params}
    if p["k"] < 0:
        assert torch.isnan(torch.nn.LocalResponseNorm(**p)(x)).any()
    check_rejects("LocalResponseNorm", params, {"in": (4, 3)}, Code.PARAM, contains=(says,))


def test_momentum_range():
    check_rejects("BatchNorm1d", {"momentum": 1.5}, {"in": (4,)}, Code.PARAM,
                  contains=("momentum must be >= 0 and <= 1",))


def test_num_features_cannot_be_given():
    check_rejects("BatchNorm1d", {"num_features": 4}, {"in": (4,)}, Code.PARAM,
                  contains=("num_features is inferred from the input shape",))


# ------------------------------------------------- instance norm over a variable channel count

@pytest.mark.parametrize("block,shape", [("InstanceNorm1d", ("T", 6)),
                                         ("InstanceNorm2d", ("T", 3, 4)),
                                         ("InstanceNorm1d", ("T", "T"))])
@pytest.mark.parametrize("train", [False, True])
def test_instance_norm_without_affine_or_statistics_takes_a_variable_channel_count(
        block, shape, train):
    """Found by the random-graph fuzz: PyTorch normalises any channel count when
    nothing per channel is kept; validation asked for a fixed one."""
    import warnings

    g = single(block, {"eps": 1e-3}, {"in": shape})
    assert analyze(g).output_type("b").shape[:2] == ("N", "T")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "does not match num_features" at every call
        for t in (3, 5):
            got = run_and_compare(g, env={"T": t}, train=train)
    assert "nn.functional.instance_norm(x_1, eps=0.001)" in got["code"].source
    # the same numbers as PyTorch's module built for this very channel count
    import torch

    x = torch.randn(2, 5, *[5 if d == "T" else d for d in shape[1:]])
    module = getattr(torch.nn, block)(5, eps=1e-3)
    torch.testing.assert_close(got["model"](x), module(x))


@pytest.mark.parametrize("params,kept", [({"affine": True}, "affine"),
                                         ({"track_running_stats": True}, "track_running_stats")])
def test_instance_norm_keeping_values_per_channel_needs_fixed_channels(params, kept):
    g = single("InstanceNorm1d", params, {"in": ("T", 6)})
    (p,) = problems_of(g, Code.SYMBOLIC)
    assert p.message == (f'InstanceNorm1d "instance_norm1d_1": with {kept} it keeps values per '
                         "channel, so it needs a fixed number of channels, but dim 1 of N×T×6 "
                         f"is the variable size T; set {kept} to false or give the Input a fixed "
                         "size")
    assert p.fix == {"kind": "set_param", "param": kept, "value": False}
    g.set_param("b", kept, False)
    run_and_compare(g, env={"T": 4})
