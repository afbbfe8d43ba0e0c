"""RNN, LSTM and GRU against PyTorch: shapes, parameter counts, final states, messages."""

import warnings

import pytest

from graph.problems import Code
from support import check_rejects, run_and_compare, single

KINDS = ("RNN", "LSTM", "GRU")
#: (num_layers, bidirectional, return_sequences, sample shape)
SETTINGS = [
    (1, False, True, ("T", 4)),
    (1, True, False, ("T", 4)),
    (2, False, False, (6, 3)),
    (2, True, True, (6, 3)),
    (2, True, False, ("T", 5)),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers,bidirectional,sequences,shape", SETTINGS)
def test_shapes_and_counts_match_torch(kind, layers, bidirectional, sequences, shape):
    params = {"hidden_size": 7, "num_layers": layers, "bidirectional": bidirectional,
              "return_sequences": sequences}
    got = run_and_compare(single(kind, params, {"in": shape}), env={"T": 5})
    steps = 5 if shape[0] == "T" else shape[0]
    width = 14 if bidirectional else 7
    assert tuple(got["out"].shape) == ((2, steps, width) if sequences else (2, width))


@pytest.mark.parametrize("kind", KINDS)
def test_without_bias_and_with_dropout_between_layers(kind):
    run_and_compare(single(kind, {"hidden_size": 5, "num_layers": 2, "bias": False,
                                  "dropout": 0.3}, {"in": (4, 6)}), train=True)


def test_rnn_relu_is_emitted():
    got = run_and_compare(single("RNN", {"hidden_size": 3, "nonlinearity": "relu"},
                                 {"in": ("T", 2)}))
    assert 'nonlinearity="relu"' in got["code"].source
    assert got["model"].rnn_1.nonlinearity == "relu"


def test_dropout_on_one_layer_is_allowed_and_torch_does_not_warn():
    g = single("LSTM", {"hidden_size": 4, "dropout": 0.5}, {"in": (3, 2)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run_and_compare(g)
    assert "dropout" not in got["code"].source


@pytest.mark.parametrize("kind", KINDS)
def test_final_state_is_each_directions_last_step(kind):
    """The backward direction's final state is its output at t = 0, not t = T−1."""
    import torch

    params = {"hidden_size": 4, "num_layers": 2, "bidirectional": True}
    seq = run_and_compare(single(kind, dict(params, return_sequences=True), {"in": (6, 3)}))
    last = run_and_compare(single(kind, dict(params, return_sequences=False), {"in": (6, 3)}))
    last["model"].load_state_dict(seq["model"].state_dict())
    x = torch.randn(2, 6, 3)
    with torch.no_grad():
        outputs, state = seq["model"](x), last["model"](x)
    torch.testing.assert_close(state[:, :4], outputs[:, -1, :4])
    torch.testing.assert_close(state[:, 4:], outputs[:, 0, 4:])


def test_code_reads_like_hand_written():
    seq = run_and_compare(single("LSTM", {"hidden_size": 4}, {"in": ("T", 3)}))
    assert "nn.LSTM(3, 4, batch_first=True)" in seq["code"].source
    assert "x, _ = self.lstm_1(x_1)" in seq["code"].source
    last = run_and_compare(single("GRU", {"hidden_size": 4, "return_sequences": False},
                                  {"in": ("T", 3)}))
    assert "_, x = self.gru_1(x_1)\n        x = x[-1]" in last["code"].source


def test_two_dimensional_input_is_a_rank_mismatch():
    msg = check_rejects("LSTM", {}, {"in": (8,)}, Code.RANK)
    assert msg == ('LSTM "lstm_1": expects input N×T×features (rank 3) but receives N×8 '
                   "(rank 2); add a Reshape to N×8×1 before it")


def test_symbolic_feature_size_needs_fixed_size():
    check_rejects("GRU", {}, {"in": (5, "F")}, Code.SYMBOLIC,
                  contains=("needs a fixed number of input features", "variable size F"))


def test_token_ids_need_an_embedding_first():
    check_rejects("RNN", {}, {"in": ("T", 4)}, Code.DTYPE, dtype="int64",
                  contains=("put an Embedding before it",))


def test_dropout_out_of_range():
    check_rejects("LSTM", {"num_layers": 2, "dropout": 1.5}, {"in": (3, 2)}, Code.PARAM,
                  contains=("dropout must be >= 0 and <= 1, got 1.5",))


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_one_between_layers_is_accepted_as_pytorch_does(kind):
    """Found by the random-graph fuzz: PyTorch takes dropout = 1 (the upper
    layers see zeros while training); validation used to refuse it."""
    got = run_and_compare(single(kind, {"hidden_size": 3, "num_layers": 2, "dropout": 1.0},
                                 {"in": (4, 2)}), train=True)
    assert "dropout=1.0" in got["code"].source


def test_unknown_nonlinearity():
    check_rejects("RNN", {"nonlinearity": "sigmoid"}, {"in": (3, 2)}, Code.PARAM,
                  contains=("nonlinearity must be one of 'tanh', 'relu'",))
