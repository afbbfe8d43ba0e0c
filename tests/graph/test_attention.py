"""Embedding, PositionalEncoding, attention and Transformer blocks against PyTorch."""

import math

import pytest

from graph import Graph, analyze, blocks
from graph.problems import Code
from support import check_rejects, run_and_compare, single


# --------------------------------------------------------------------------
# shapes and parameter counts against PyTorch
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape,params", [
    (("T",), {"num_embeddings": 20, "embedding_dim": 6}),
    ((3, 4), {"num_embeddings": 12, "embedding_dim": 5, "padding_idx": 0}),
    ((7,), {"num_embeddings": 9, "embedding_dim": 3, "padding_idx": -1}),
])
def test_embedding(shape, params):
    got = run_and_compare(single("Embedding", params, {"in": shape}, dtype="int64"),
                          int_high=params["num_embeddings"] - 1)
    assert got["out"].dtype.is_floating_point


@pytest.mark.parametrize("params,shape", [
    ({}, ("T", 8)),
    ({"kind": "learned", "max_len": 16}, ("T", 6)),
    ({"kind": "sinusoidal", "dropout": 0.1}, (5, 7)),
    ({"kind": "learned", "max_len": 5}, (5, 3)),
])
def test_positional_encoding(params, shape):
    run_and_compare(single("PositionalEncoding", params, {"in": shape}))


@pytest.mark.parametrize("width", [6, 7])
def test_sinusoidal_encoding_values(width):
    import torch

    got = run_and_compare(single("PositionalEncoding", {}, {"in": (4, width)}))
    with torch.no_grad():
        pe = got["model"](torch.zeros(1, 4, width))[0]
    for pos in (0, 3):
        for i in range(width):
            angle = pos / 10000 ** ((i - i % 2) / width)
            want = math.sin(angle) if i % 2 == 0 else math.cos(angle)
            assert pe[pos, i].item() == pytest.approx(want, abs=1e-5)


@pytest.mark.parametrize("params,inputs", [
    ({"num_heads": 2}, {"query": ("T", 8)}),
    ({"num_heads": 4, "causal": True}, {"query": (6, 8)}),
    ({"num_heads": 1, "bias": False}, {"query": ("T", 4), "key": (3, 4)}),
    ({"num_heads": 2}, {"query": ("T", 8), "key": (3, 6), "value": (3, 5)}),
    ({"num_heads": 2, "bias": False}, {"query": (4, 6), "key": (3, 5)}),
    ({"num_heads": 2}, {"query": ("T", 6), "value": ("T", 3)}),
    ({"num_heads": 3, "dropout": 0.2, "causal": True}, {"query": ("T", 9), "key": ("T", 9)}),
])
def test_multihead_attention(params, inputs):
    run_and_compare(single("MultiheadAttention", params, inputs))


def test_self_attention_code():
    got = run_and_compare(single("MultiheadAttention", {"num_heads": 2}, {"query": ("T", 8)}))
    assert "nn.MultiheadAttention(8, 2, batch_first=True)" in got["code"].source
    assert "x, _ = self.attn_1(x_1, x_1, x_1, need_weights=False)" in got["code"].source
    assert "causal_mask" not in got["code"].source


@pytest.mark.parametrize("params,inputs", [
    ({"hidden_size": 7}, {"query": (4,), "keys": ("T", 6)}),
    ({"hidden_size": 3, "bias": False}, {"query": (5,), "keys": (4, 2)}),
])
def test_additive_attention(params, inputs):
    run_and_compare(single("AdditiveAttention", params, inputs))


def test_additive_attention_averages_the_keys():
    """The weights sum to one: keys equal at every step come back unchanged."""
    import torch

    got = run_and_compare(single("AdditiveAttention", {"hidden_size": 4},
                                 {"query": (3,), "keys": (5, 2)}))
    keys = torch.randn(2, 1, 2).expand(2, 5, 2)
    with torch.no_grad():
        out = got["model"](torch.randn(2, 3), keys)
    torch.testing.assert_close(out, keys[:, 0])


LAYER_SETTINGS = [
    {"dim_feedforward": 16},
    {"nhead": 2, "dim_feedforward": 12, "activation": "gelu", "norm_first": True},
    {"nhead": 1, "dim_feedforward": 10, "bias": False, "layer_norm_eps": 1e-6},
]


@pytest.mark.parametrize("params", LAYER_SETTINGS)
@pytest.mark.parametrize("shape", [("T", 8), (5, 8)])
def test_transformer_encoder_layer(params, shape):
    run_and_compare(single("TransformerEncoderLayer", params, {"in": shape}))


@pytest.mark.parametrize("params", LAYER_SETTINGS)
@pytest.mark.parametrize("causal", [True, False])
def test_transformer_decoder_layer(params, causal):
    run_and_compare(single("TransformerDecoderLayer", dict(params, causal=causal),
                           {"tgt": ("T", 8), "memory": (3, 8)}))


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("params", LAYER_SETTINGS)
def test_transformer_encoder(layers, params):
    got = run_and_compare(single("TransformerEncoder", dict(params, num_layers=layers),
                                 {"in": ("T", 8)}))
    assert "batch_first=True" in got["code"].source
    assert "enable_nested_tensor=False" in got["code"].source


@pytest.mark.parametrize("block,params,inputs", [
    ("PositionalEncoding", {}, {"in": ("T", 6)}),
    ("MultiheadAttention", {"num_heads": 2}, {"query": ("T", 8)}),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 8}, {"in": (5, 8)}),
    ("TransformerDecoderLayer", {"nhead": 2, "dim_feedforward": 8},
     {"tgt": (4, 8), "memory": (3, 8)}),
    ("TransformerEncoder", {"nhead": 2, "dim_feedforward": 8, "num_layers": 2}, {"in": (5, 8)}),
])
def test_dropout_one_is_accepted_as_pytorch_does(block, params, inputs):
    """Found by the random-graph fuzz: PyTorch takes dropout = 1; validation
    used to refuse it."""
    got = run_and_compare(single(block, dict(params, dropout=1.0), inputs), train=True)
    assert "dropout=1.0" in got["code"].source


# --------------------------------------------------------------------------
# causal masks
# --------------------------------------------------------------------------

def _later_token_changes(model, *inputs, changed: int = 0):
    """Outputs before and after changing the last step of input ``changed``."""
    import torch

    model.eval()
    edited = [t.clone() for t in inputs]
    edited[changed][:, -1] += torch.randn_like(edited[changed][:, -1])
    with torch.no_grad():
        return model(*inputs), model(*edited)


@pytest.mark.parametrize("causal", [True, False])
def test_multihead_attention_causal_mask(causal):
    import torch

    g = single("MultiheadAttention", {"num_heads": 2, "causal": causal}, {"query": ("T", 8)})
    before, after = _later_token_changes(run_and_compare(g)["model"], torch.randn(2, 6, 8))
    assert torch.equal(before[:, :-1], after[:, :-1]) == causal
    assert not torch.allclose(before[:, -1], after[:, -1])


@pytest.mark.parametrize("causal", [True, False])
def test_decoder_layer_causal_mask(causal):
    import torch

    g = single("TransformerDecoderLayer", {"dim_feedforward": 16, "causal": causal},
               {"tgt": ("T", 8), "memory": (4, 8)})
    model = run_and_compare(g)["model"]
    before, after = _later_token_changes(model, torch.randn(2, 6, 8), torch.randn(2, 4, 8))
    assert torch.allclose(before[:, :-1], after[:, :-1]) == causal
    assert not torch.allclose(before[:, -1], after[:, -1])


# --------------------------------------------------------------------------
# a small Transformer classifier, end to end
# --------------------------------------------------------------------------

def test_token_classifier_end_to_end():
    assert blocks.get("Mean") is not None, "the Mean block is not registered"
    g = Graph()
    layers = [("Input", {"shape": ["T"], "dtype": "int64"}),
              ("Embedding", {"num_embeddings": 50, "embedding_dim": 16}),
              ("PositionalEncoding", {"max_len": 64}),
              ("TransformerEncoder", {"num_layers": 2, "nhead": 4, "dim_feedforward": 32}),
              ("Mean", {"dim": 1}),
              ("Linear", {"out_features": 3}),
              ("Output", {})]
    prev = None
    for k, (kind, params) in enumerate(layers):
        nid = g.add_node(kind, params, id=f"n{k}").id
        if prev is not None:
            g.connect(prev, nid)
        prev = nid
    got = run_and_compare(g, batch=3, env={"T": 7}, int_high=50)
    assert tuple(got["out"].shape) == (3, 3)
    assert "class PositionalEncoding(nn.Module):" in got["code"].source


# --------------------------------------------------------------------------
# validation messages
# --------------------------------------------------------------------------

def test_embedding_needs_token_ids():
    msg = check_rejects("Embedding", {}, {"in": ("T",)}, Code.DTYPE)
    assert msg == ('Embedding "embedding_1": expects int64 token ids but receives N×T of type '
                   "float32; set the Input's dtype to int64")


def test_embedding_padding_idx_outside_table():
    check_rejects("Embedding", {"num_embeddings": 10, "padding_idx": 10}, {"in": (4,)},
                  Code.PARAM, dtype="int64",
                  contains=("padding_idx=10 is not a token id", "ids 0..9"))


def test_positional_encoding_sequence_longer_than_max_len():
    g = single("PositionalEncoding", {"max_len": 100}, {"in": (120, 8)})
    [problem] = analyze(g).problems()
    assert problem.code == Code.SIZE
    assert problem.message == ('PositionalEncoding "positional_encoding_1": the sequence has '
                               "120 time steps (N×120×8) but max_len is 100; raise max_len to "
                               "at least 120")
    assert problem.fix == {"kind": "set_param", "param": "max_len", "value": 120}


def test_positional_encoding_needs_a_sequence():
    check_rejects("PositionalEncoding", {}, {"in": (8,)}, Code.RANK,
                  contains=("expects input N×T×E (rank 3) but receives N×8 (rank 2)",))


def test_positional_encoding_needs_fixed_features():
    check_rejects("PositionalEncoding", {}, {"in": ("T", "E")}, Code.SYMBOLIC,
                  contains=("variable size E",))


def test_heads_must_divide_embed_dim():
    g = single("MultiheadAttention", {"num_heads": 4}, {"query": ("T", 30)})
    [problem] = analyze(g).problems()
    assert problem.code == Code.HEADS
    assert problem.message == (
        'MultiheadAttention "attn_1": embed_dim=30 (the input\'s last dimension) is not '
        "divisible by num_heads=4; use num_heads 3 or 5 (a divisor of 30), or project to "
        "32 features with a Linear before it")
    assert problem.fix == {"kind": "set_param", "param": "num_heads", "value": 3}


def test_key_and_value_lengths_must_agree():
    check_rejects("MultiheadAttention", {"num_heads": 2},
                  {"query": ("T", 8), "key": (3, 8), "value": (4, 8)}, Code.SIZE,
                  contains=("key is N×3×8 and the value is N×4×8",))


def test_causal_cross_attention_needs_equal_lengths():
    check_rejects("MultiheadAttention", {"num_heads": 2, "causal": True},
                  {"query": ("T", 8), "key": ("S", 8)}, Code.SIZE,
                  contains=("query is N×T×8 and the key is N×S×8",
                            "turn causal off for cross-attention"))


def test_attention_key_must_be_a_sequence():
    msg = check_rejects("MultiheadAttention", {"num_heads": 2},
                        {"query": ("T", 8), "key": (8,)}, Code.RANK)
    assert "receives N×8 (rank 2)" in msg


def test_additive_attention_query_is_a_vector_or_one_per_step():
    check_rejects("AdditiveAttention", {}, {"query": (2, 3, 4), "keys": (5, 4)}, Code.RANK,
                  contains=("(one query vector per sample) or N×T×features (one per step) "
                            "(rank 2 or 3) but receives N×2×3×4 (rank 4)",))


def test_additive_attention_one_query_per_step():
    """A teacher-forced decoder asks once per step: each step gets its own
    weighted sum of the keys, the same as asking with that step's vector alone."""
    import torch

    got = run_and_compare(single("AdditiveAttention", {"hidden_size": 4},
                                 {"query": (6, 3), "keys": (5, 2)}))
    q, keys = torch.randn(2, 6, 3), torch.randn(2, 5, 2)
    with torch.no_grad():
        out = got["model"](q, keys)
        one = torch.stack([got["model"](q[:, t], keys) for t in range(6)], dim=1)
    assert out.shape == (2, 6, 2)
    torch.testing.assert_close(out, one)


def test_additive_attention_keys_are_a_sequence():
    check_rejects("AdditiveAttention", {}, {"query": (4,), "keys": (4,)}, Code.RANK,
                  contains=("N×T×E (rank 3) but receives N×4 (rank 2)",))


def test_encoder_layer_heads_must_divide_d_model():
    check_rejects("TransformerEncoderLayer", {"nhead": 3}, {"in": ("T", 8)}, Code.HEADS,
                  contains=("d_model=8", "nhead=3", "use nhead 2 or 4"))


def test_encoder_heads_must_divide_d_model():
    check_rejects("TransformerEncoder", {"nhead": 5}, {"in": ("T", 12)}, Code.HEADS,
                  contains=("d_model=12", "nhead=5", "use nhead 4 or 6", "project to 15 features"))


def test_encoder_needs_fixed_d_model():
    check_rejects("TransformerEncoder", {}, {"in": (4, "E")}, Code.SYMBOLIC,
                  contains=("needs a fixed number of features (d_model)",))


def test_encoder_layer_needs_a_sequence():
    check_rejects("TransformerEncoderLayer", {}, {"in": (4, 4, 8)}, Code.RANK,
                  contains=("N×T×E (rank 3) but receives N×4×4×8 (rank 4)",))


def test_decoder_memory_must_match_d_model():
    g = single("TransformerDecoderLayer", {}, {"tgt": ("T", 8), "memory": (5, 6)})
    [problem] = analyze(g).problems()
    assert problem.code == Code.SIZE and problem.port == "memory"
    assert "the target is N×T×8 and the memory is N×5×6" in problem.message
    assert problem.fix == {"kind": "insert", "type": "Linear", "params": {"out_features": 8}}


def test_decoder_layer_heads_must_divide_d_model():
    check_rejects("TransformerDecoderLayer", {"nhead": 12}, {"tgt": ("T", 8), "memory": (2, 8)},
                  Code.HEADS, contains=("d_model=8", "use nhead 8 (a divisor of 8)"))


def test_num_heads_is_required_as_a_dropped_block_has_it():
    # what a palette drop gives: the block with no parameters set
    g = single("MultiheadAttention", {}, {"query": ("T", 8)})
    assert "num_heads" not in blocks.get("MultiheadAttention").defaults()
    [problem] = analyze(g).errors()
    assert (problem.node, problem.code) == ("b", "bad_param")
    assert problem.message == ('MultiheadAttention "attn_1": num_heads has no default; set '
                               "num_heads (parallel attention heads; must divide embed_dim)")
    g.set_param("b", "num_heads", 2)
    assert analyze(g).valid()
    g.set_param("b", "num_heads", None)  # back to "not set"
    assert [p.code for p in analyze(g).errors()] == ["bad_param"]
