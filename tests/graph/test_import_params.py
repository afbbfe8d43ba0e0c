"""The block parameters that exact import needs (issue 12), against PyTorch:
sequence-first layouts, the LSTM projection, Embedding's norm settings and the
Transformer stack's final norm.  Shapes and parameter counts are compared
with the real layers, and old projects keep their code."""

import pytest

from codegen import generate
from support import run_and_compare, single


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True)])
def test_sequence_first_recurrent_layers_match_torch(kind, layers, bidirectional):
    params = {"hidden_size": 7, "num_layers": layers, "bidirectional": bidirectional,
              "batch_first": False}
    # the first dimension is time: 2 steps of a batch of 6
    got = run_and_compare(single(kind, params, {"in": (6, 3)}))
    assert tuple(got["out"].shape) == (2, 6, 14 if bidirectional else 7)
    assert "batch_first=False" in got["code"].source


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_the_final_state_of_a_sequence_first_layer_is_explained(kind):
    from graph import analyze

    an = analyze(single(kind, {"return_sequences": False, "batch_first": False},
                        {"in": (6, 3)}))
    assert "final hidden state of a sequence-first layer" in an.errors()[0].message


@pytest.mark.parametrize("bidirectional, sequences, first", [
    (False, True, True), (True, False, True), (True, True, False), (False, True, False)])
def test_lstm_projection_matches_torch(bidirectional, sequences, first):
    params = {"hidden_size": 8, "proj_size": 3, "num_layers": 2,
              "bidirectional": bidirectional, "return_sequences": sequences,
              "batch_first": first}
    got = run_and_compare(single("LSTM", params, {"in": (5, 4)}))
    assert got["out"].shape[-1] == (6 if bidirectional else 3)
    assert "proj_size=3" in got["code"].source


def test_projection_must_be_below_the_hidden_size():
    from graph import analyze

    problems = analyze(single("LSTM", {"hidden_size": 4, "proj_size": 4}, {"in": (5, 3)}))
    assert [p.message for p in problems.errors()] and \
        "proj_size=4 must be below hidden_size=4" in problems.errors()[0].message


@pytest.mark.parametrize("causal", [False, True])
def test_sequence_first_attention_matches_torch(causal):
    got = run_and_compare(single("MultiheadAttention",
                                 {"num_heads": 2, "causal": causal, "batch_first": False},
                                 {"query": (6, 8)}))
    assert tuple(got["out"].shape) == (2, 6, 8)
    if causal:  # the mask spans the time steps, which come first
        assert "causal_mask(x.size(0), x.device)" in got["code"].source.replace("x_1", "x")


@pytest.mark.parametrize("kind, inputs", [
    ("TransformerEncoderLayer", {"in": (6, 8)}),
    ("TransformerEncoder", {"in": (6, 8)}),
    ("TransformerDecoderLayer", {"tgt": (6, 8), "memory": (6, 8)}),
])
def test_sequence_first_transformer_layers_match_torch(kind, inputs):
    got = run_and_compare(single(kind, {"nhead": 2, "dim_feedforward": 16,
                                        "batch_first": False}, inputs))
    assert "batch_first=False" in got["code"].source


@pytest.mark.parametrize("bias", [True, False])
def test_transformer_stack_with_a_final_norm_matches_torch(bias):
    got = run_and_compare(single("TransformerEncoder",
                                 {"nhead": 2, "dim_feedforward": 16, "norm": True,
                                  "bias": bias, "layer_norm_eps": 1e-6}, {"in": ("T", 8)}))
    src = "".join(got["code"].source.split())
    assert "norm=nn.LayerNorm(8,eps=1e-06" in src


def test_embedding_norm_settings_match_torch():
    got = run_and_compare(single("Embedding", {"num_embeddings": 10, "embedding_dim": 4,
                                               "max_norm": 0.5, "norm_type": 1.0,
                                               "scale_grad_by_freq": True}, {"in": (5,)},
                                 dtype="int64"))
    emb = got["model"].embedding_1 if hasattr(got["model"], "embedding_1") else \
        next(m for m in got["model"].modules() if type(m).__name__ == "Embedding")
    assert (emb.max_norm, emb.norm_type, emb.scale_grad_by_freq) == (0.5, 1.0, True)


@pytest.mark.parametrize("kind, params, inputs", [
    ("LSTM", {"hidden_size": 5}, {"in": (4, 3)}),
    ("MultiheadAttention", {"num_heads": 2, "causal": True}, {"query": (4, 8)}),
    ("TransformerEncoder", {"nhead": 2}, {"in": (4, 8)}),
    ("Embedding", {"num_embeddings": 10}, {"in": (4,)}),
])
def test_defaults_keep_the_code_of_old_projects(kind, params, inputs):
    source = generate(single(kind, params, inputs,
                             dtype="int64" if kind == "Embedding" else "float32")).source
    assert "proj_size" not in source and "max_norm" not in source and "norm=" not in source
    if kind != "Embedding":
        assert "batch_first=True" in source
