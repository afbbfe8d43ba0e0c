"""Weight initialisation in generated code, with and without weight normalisation."""

import pytest
import torch

from support import run_and_compare, single


def _layer(block, params, shape):
    got = run_and_compare(single(block, params, {"in": shape}))
    return getattr(got["model"], got["code"].attrs["b"]), got["code"].source


@pytest.mark.parametrize("block,shape", [("Linear", (64,)), ("Conv2d", (3, 6, 6)),
                                         ("Conv1d", (4, 9))])
def test_weight_norm_keeps_the_chosen_init_of_the_effective_weight(block, shape):
    params = {"weight_norm": True, "init": "constant", "init_scale": 0.25}
    params["out_features" if block == "Linear" else "out_channels"] = 8
    layer, src = _layer(block, params, shape)
    assert "weight_norm(" in src
    assert hasattr(layer, "parametrizations")  # still weight-normalised
    assert torch.allclose(layer.weight, torch.full_like(layer.weight, 0.25))
    assert not layer.bias.any()


def test_weight_norm_with_a_normal_init_has_its_std_not_the_default_scale():
    layer, _ = _layer("Linear", {"out_features": 256, "weight_norm": True, "init": "normal",
                                 "init_scale": 0.01}, (64,))
    # PyTorch's default would give std 1/sqrt(3*64) ≈ 0.072
    assert abs(layer.weight.std().item() - 0.01) < 0.001


def test_weight_norm_with_orthogonal_init_gives_an_orthogonal_effective_weight():
    layer, _ = _layer("Linear", {"out_features": 8, "weight_norm": True, "init": "orthogonal"},
                      (16,))
    w = layer.weight.detach()
    assert torch.allclose(w @ w.T, torch.eye(8), atol=1e-5)
    g = layer.parametrizations.weight.original0.detach().view(-1)
    assert torch.allclose(g, torch.ones(8), atol=1e-5)  # each row has norm 1


def test_init_without_weight_norm_is_unchanged():
    layer, _ = _layer("Linear", {"out_features": 4, "init": "constant", "init_scale": 0.5},
                      (3,))
    assert torch.all(layer.weight == 0.5) and not layer.bias.any()
