"""Regularisation blocks against PyTorch: shapes, train/eval behaviour, checks."""

import pytest
import torch

from codegen import build_model
from graph import blocks
from graph.problems import Code
from support import chain, check_rejects, run_and_compare, single

CASES = [
    ("Dropout", {}, (8,)),
    ("Dropout", {"p": 0.0}, ("T", 4)),
    ("Dropout", {"p": 0.9}, (2, 3, 4)),
    ("Dropout", {"p": 1.0}, (2, 3)),
    ("Dropout1d", {"p": 1.0}, (3, "T")),
    ("Dropout1d", {"p": 0.2}, (4, 6)),
    ("Dropout2d", {}, (3, 4, 4)),
    ("AlphaDropout", {"p": 0.1}, (5,)),
    ("GaussianNoise", {}, (4,)),
    ("GaussianNoise", {"std": 0.0}, (2, 3)),
]


@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("block,params,shape", CASES)
def test_shape_matches_torch(block, params, shape, train):
    run_and_compare(single(block, params, {"in": shape}), train=train)


def test_every_regularization_block_is_tested():
    specs = [s for s in blocks.all_specs() if s.family == "regularization"]
    assert {s.type for s in specs} == {c[0] for c in CASES}


def _model(block, params, shape=(200,)):
    torch.manual_seed(0)
    model, code = build_model(single(block, params, {"in": shape}))
    return model, code


def test_gaussian_noise_is_identity_in_eval_and_noisy_in_training():
    model, code = _model("GaussianNoise", {"std": 0.5})
    assert "self.gaussian_noise_1 = GaussianNoise(std=0.5)" in code.source
    x = torch.randn(4, 200)
    model.eval()
    assert torch.equal(model(x), x)
    model.train()
    noise = model(x) - x
    assert noise.abs().max() > 0
    assert 0.3 < noise.std().item() < 0.7


def test_dropout_zeroes_only_in_training():
    model, code = _model("Dropout", {"p": 0.5})
    assert "self.dropout_1 = nn.Dropout()" in code.source
    x = torch.ones(2, 200)
    model.eval()
    assert torch.equal(model(x), x)
    model.train()
    y = model(x)
    assert (y == 0).any() and (y == 2).any()


def test_helper_emitted_only_when_used():
    source = run_and_compare(chain("Dropout", input_shape=(4,)))["code"].source
    assert "GaussianNoise" not in source
    source = run_and_compare(chain("GaussianNoise", "GaussianNoise", input_shape=(4,)))["code"].source
    assert source.count("class GaussianNoise(nn.Module)") == 1


# --------------------------------------------------------------- checks

@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_p_outside_unit_interval(p):
    msg = check_rejects("Dropout", {"p": p}, {"in": (4,)}, Code.PARAM)
    assert f"p must be >= 0 and <= 1, got {p!r}" in msg
    with pytest.raises(ValueError):
        torch.nn.Dropout(p)


@pytest.mark.parametrize("block,shape", [("Dropout", (4,)), ("Dropout1d", (3, 5)),
                                         ("Dropout2d", (3, 4, 4)), ("AlphaDropout", (6,))])
@pytest.mark.parametrize("train", [False, True])
def test_p_one_is_accepted_as_pytorch_does(block, shape, train):
    """Found by the random-graph fuzz: PyTorch takes p = 1 (nothing passes while
    training); validation used to refuse it."""
    got = run_and_compare(single(block, {"p": 1.0}, {"in": shape}), train=train)
    assert f"nn.{block}(p=1.0)" in got["code"].source
    if train:
        assert torch.count_nonzero(got["out"]) == 0


def test_dropout2d_needs_images():
    check_rejects("Dropout2d", {}, {"in": (4, 5)}, Code.RANK,
                  contains=("expects input N×C×H×W (rank 4) but receives N×4×5 (rank 3)",))


def test_dropout1d_needs_sequences():
    check_rejects("Dropout1d", {}, {"in": (4,)}, Code.RANK,
                  contains=("expects input N×C×L (rank 3) but receives N×4 (rank 2)",))


def test_gaussian_noise_std_not_negative():
    check_rejects("GaussianNoise", {"std": -1.0}, {"in": (4,)}, Code.PARAM,
                  contains=("std must be >= 0",))


def test_dropout_refuses_token_ids():
    check_rejects("Dropout", {}, {"in": (4,)}, Code.DTYPE, dtype="int64")
