"""Input/Output and fully connected blocks against PyTorch."""

import pytest

from graph.problems import Code
from support import check_rejects, run_and_compare, single


@pytest.mark.parametrize("shape,out,bias", [((20,), 7, True), ((5, 12), 3, False), ((2, 3, 4), 1, True)])
def test_linear_shapes_and_counts(shape, out, bias):
    run_and_compare(single("Linear", {"out_features": out, "bias": bias}, {"in": shape}))


def test_linear_weight_norm_counts_g_and_v():
    run_and_compare(single("Linear", {"out_features": 4, "weight_norm": True}, {"in": (6,)}))


def test_bilinear():
    run_and_compare(single("Bilinear", {"out_features": 5}, {"in1": (3,), "in2": (4,)}))


def test_identity_passes_int_tokens():
    run_and_compare(single("Identity", {}, {"in": (7,)}, dtype="int64"))


def test_linear_on_symbolic_features_says_fixed_size_needed():
    msg = check_rejects("Linear", {}, {"in": ("T",)}, Code.SYMBOLIC, contains=("variable size T",))
    assert msg.startswith('Linear "linear_1"')


def test_linear_out_features_must_be_positive():
    msg = check_rejects("Linear", {"out_features": 0}, {"in": (4,)}, Code.PARAM)
    assert "out_features must be >= 1" in msg


def test_init_zeroes_rnn_biases_and_keeps_embedding_padding_row():
    import torch

    from support import chain

    g = chain(("Embedding", {"num_embeddings": 10, "embedding_dim": 4, "padding_idx": 0, "init": "normal"}),
              ("LSTM", {"hidden_size": 3, "init": "orthogonal"}), input_shape=("T",), dtype="int64")
    model = run_and_compare(g)["model"]
    emb, lstm = model.embedding_1, model.lstm_1
    assert torch.all(emb.weight[0] == 0) and emb.weight[1:].abs().sum() > 0
    assert all(torch.all(p == 0) for n, p in lstm.named_parameters() if n.startswith("bias"))
