"""Attention and sequence blocks: Embedding, PositionalEncoding,
MultiheadAttention, AdditiveAttention and the Transformer layers.

Sequences are batch-first, N×T×E, and the time length T may be a variable
size (``"T"``); the feature size E (``embed_dim``/``d_model``) is inferred
from the input and must be fixed.  Causal masks are made in ``forward`` on
the input's device by the small ``causal_mask`` helper, so the generated code
runs unchanged on CPU and GPU.  The Transformer layers are PyTorch's own,
built with ``batch_first=True`` unless a block's ``batch_first`` is false
(sequence first, T×N×E, PyTorch's default and how imported models often
run): then the first two dimensions swap roles.
"""

from __future__ import annotations

from .. import dims
from ..problems import Code
from .base import FLOAT, TT, BlockSpec, Ctx, Emit, Param, Port, call
from .module_import import read_module, refuse_call_arguments
from .registry import get, register, register_helper

CAUSAL_MASK = '''
def causal_mask(size, device):
    """Mask that stops position i from attending to any later position
    (True = blocked), made on the device of the tensors it masks."""
    return torch.ones(size, size, dtype=torch.bool, device=device).triu(1)
'''

POSITIONAL_ENCODING = '''
class PositionalEncoding(nn.Module):
    """Adds position information to a batch-first sequence N×T×E: fixed
    sine/cosine waves of many frequencies (Vaswani et al., 2017) or a learned
    vector per position."""

    def __init__(self, d_model, max_len=512, kind="sinusoidal", dropout=0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        if kind == "learned":
            self.pe = nn.Parameter(torch.zeros(1, max_len, d_model))
            nn.init.normal_(self.pe, std=0.02)
        else:
            position = torch.arange(max_len).unsqueeze(1)
            frequency = 10000.0 ** (-torch.arange(0, d_model, 2) / d_model)
            pe = torch.zeros(1, max_len, d_model)
            pe[0, :, 0::2] = torch.sin(position * frequency)
            pe[0, :, 1::2] = torch.cos(position * frequency[: d_model // 2])
            # a buffer: moves with .to(device) but is not trained or saved
            self.register_buffer("pe", pe, persistent=False)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])
'''

ADDITIVE_ATTENTION = '''
class AdditiveAttention(nn.Module):
    """Bahdanau (additive) attention: scores each key against the query with
    a small tanh network, softmax over time, and returns the score-weighted
    sum of the keys (query N×Dq, keys N×T×Dk → N×Dk; or a query per step,
    N×Tq×Dq → N×Tq×Dk, as a teacher-forced decoder asks)."""

    def __init__(self, query_size, key_size, hidden_size, bias=True):
        super().__init__()
        self.query_proj = nn.Linear(query_size, hidden_size, bias=False)
        self.key_proj = nn.Linear(key_size, hidden_size, bias=bias)
        self.score = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, query, keys):
        if query.dim() == 2:
            hidden = torch.tanh(
                self.query_proj(query).unsqueeze(1) + self.key_proj(keys)
            )
            weights = torch.softmax(self.score(hidden), dim=1)
            return (weights * keys).sum(dim=1)
        # one query per decoder step: N×Tq×1×H + N×1×T×H scores every pair
        hidden = torch.tanh(
            self.query_proj(query).unsqueeze(2) + self.key_proj(keys).unsqueeze(1)
        )
        weights = torch.softmax(self.score(hidden).squeeze(-1), dim=-1)
        return weights @ keys
'''

register_helper("causal_mask", CAUSAL_MASK)
register_helper("PositionalEncoding", POSITIONAL_ENCODING)
register_helper("AdditiveAttention", ADDITIVE_ATTENTION)

SEQUENCE = "N×T×E"


BATCH_FIRST = Param("batch_first", "bool", True,
                    "true: sequences are N×T×E; false: T×N×E (time first, PyTorch's "
                    "default)", advanced=True)


def time_axis(ctx: Ctx) -> int:
    """Where the time steps are: 1 batch-first, 0 sequence-first."""
    return 1 if ctx.p.get("batch_first", True) else 0


def need_sequence(ctx: Ctx, port: str, what: str = "features") -> tuple[TT, int]:
    """The rank-3 input on ``port`` and its (fixed) feature size."""
    t = ctx.x(port)
    ctx.need_rank(t, (3,), SEQUENCE, port=port, adds="tokens")
    return t, ctx.need_concrete(t.shape[-1], f"number of {what}", port=port)


def check_heads(ctx: Ctx, embed: int, heads_param: str, embed_name: str) -> None:
    """``embed`` must split evenly over the heads (Code.HEADS, with divisors)."""
    heads = ctx.p[heads_param]
    if embed % heads == 0:
        return
    divisors = [d for d in range(1, embed + 1) if embed % d == 0]
    below = max(d for d in divisors if d < heads)
    above = min((d for d in divisors if d > heads), default=None)
    near = below if above is None or heads - below <= above - heads else above
    choices = str(below) if above is None else f"{below} or {above}"
    rounded = -(-embed // heads) * heads
    ctx.fail(Code.HEADS, f"{embed_name}={embed} (the input's last dimension) is not "
             f"divisible by {heads_param}={heads}; use {heads_param} {choices} "
             f"(a divisor of {embed}), or project to {rounded} features with a Linear "
             "before it", fix={"kind": "set_param", "param": heads_param, "value": near})


def attention_flops(tq: int, tk: int, e: int, kdim: int, vdim: int) -> int:
    """Projections in and out, scores, softmax and the weighted sum."""
    return 2 * e * (2 * tq * e + tk * (kdim + vdim)) + 4 * tq * tk * e + 5 * tq * tk


def mha_count(e: int, kdim: int, vdim: int, bias: bool) -> int:
    """Parameters of ``nn.MultiheadAttention`` (in-projections, out-projection)."""
    return e * (e + kdim + vdim) + e * e + (4 * e if bias else 0)


# --------------------------------------------------------------------------
# Embedding
# --------------------------------------------------------------------------

def _embedding_rule(ctx: Ctx) -> TT:
    x, n, pad = ctx.x(), ctx.p.num_embeddings, ctx.p.padding_idx
    if pad is not None and not -n <= pad < n:
        ctx.fail(Code.PARAM, f"padding_idx={pad} is not a token id of the table "
                 f"(num_embeddings={n}, so ids 0..{n - 1}); use 0 or leave it empty",
                 fix={"kind": "set_param", "param": "padding_idx", "value": 0})
    return TT(x.shape + (ctx.p.embedding_dim,), FLOAT)


_EMBEDDING_DEFAULTS = {"padding_idx": None, "max_norm": None, "norm_type": 2.0,
                       "scale_grad_by_freq": False}


def _embedding_emit(ctx: Ctx) -> Emit:
    p = ctx.p
    return Emit(init=call("nn.Embedding", p.num_embeddings, p.embedding_dim,
                          padding_idx=p.padding_idx, max_norm=p.max_norm,
                          norm_type=p.norm_type, scale_grad_by_freq=p.scale_grad_by_freq,
                          defaults=_EMBEDDING_DEFAULTS))


def _embedding_from_module(mod, call_kwargs) -> dict:
    # _freeze leaves no attribute: it is the weight's requires_grad, which the
    # importer reads as the block's frozen flag (codegen/import_modes.py)
    return read_module(get("Embedding"), mod, skip=("_freeze",))


# --------------------------------------------------------------------------
# PositionalEncoding
# --------------------------------------------------------------------------

def _positional_rule(ctx: Ctx) -> TT:
    x, e = need_sequence(ctx, "in")
    ctx.infer("d_model", e)
    t = x.shape[1]
    if isinstance(t, int) and t > ctx.p.max_len:
        ctx.fail(Code.SIZE, f"the sequence has {t} time steps ({x}) but max_len is "
                 f"{ctx.p.max_len}; raise max_len to at least {t}",
                 fix={"kind": "set_param", "param": "max_len", "value": t})
    return x


def _positional_from_module(mod, call_kwargs) -> dict:
    learned = "pe" in dict(mod.named_parameters(recurse=False))
    return read_module(get("PositionalEncoding"), mod, readers={
        "max_len": lambda m: int(m.pe.shape[1]),
        "kind": lambda m: "learned" if learned else "sinusoidal",
        "dropout": lambda m: m.dropout.p})


def _positional_emit(ctx: Ctx) -> Emit:
    p = ctx.p
    ctor = call("PositionalEncoding", ctx.inferred["d_model"], max_len=p.max_len,
                kind=p.kind, dropout=p.dropout,
                defaults={"max_len": 512, "kind": "sinusoidal", "dropout": 0.0})
    return Emit(init=ctor, helpers=("PositionalEncoding",))


# --------------------------------------------------------------------------
# MultiheadAttention
# --------------------------------------------------------------------------

def _mha_rule(ctx: Ctx) -> TT:
    q, e = need_sequence(ctx, "query", "features (embed_dim)")
    check_heads(ctx, e, "num_heads", "embed_dim")
    k_port = "key" if ctx.x("key") is not None else "query"
    v_port = "value" if ctx.x("value") is not None else k_port
    k, kdim = need_sequence(ctx, k_port, "key features")
    v, vdim = need_sequence(ctx, v_port, "value features")
    t = time_axis(ctx)
    if not dims.equal(k.shape[t], v.shape[t]):
        ctx.fail(Code.SIZE, f"key and value must have the same number of time steps, but "
                 f"the key is {k} and the value is {v}", port=v_port)
    if ctx.p.causal and not dims.equal(q.shape[t], k.shape[t]):
        ctx.fail(Code.SIZE, f"a causal mask needs as many key as query time steps, but the "
                 f"query is {q} and the key is {k}; turn causal off for cross-attention",
                 port=k_port, fix={"kind": "set_param", "param": "causal", "value": False})
    ctx.infer("embed_dim", e)
    ctx.infer("kdim", kdim)
    ctx.infer("vdim", vdim)
    return TT(q.shape)


def _mha_count(ctx: Ctx) -> int:
    i = ctx.inferred
    return mha_count(i["embed_dim"], i["kdim"], i["vdim"], ctx.p.bias)


def _mha_flops(ctx: Ctx) -> int:
    i = ctx.inferred
    t = time_axis(ctx)
    tq = dims.nominal(ctx.x("query").shape[t])
    key = ctx.x("key") or ctx.x("query")
    return attention_flops(tq, dims.nominal(key.shape[t]), i["embed_dim"], i["kdim"], i["vdim"])


def _mha_activations(ctx: Ctx) -> int:
    t = time_axis(ctx)
    tq = dims.nominal(ctx.x("query").shape[t])
    key = ctx.x("key") or ctx.x("query")
    tk = dims.nominal(key.shape[t])
    # projected q, k, v, the attention weights of every head, and the output
    return 4 * tq * ctx.inferred["embed_dim"] + ctx.p.num_heads * tq * tk


def _mha_emit(ctx: Ctx) -> Emit:
    p, i = ctx.p, ctx.inferred
    e = i["embed_dim"]
    ctor = call("nn.MultiheadAttention", e, p.num_heads, dropout=p.dropout, bias=p.bias,
                batch_first=p.batch_first, kdim=i["kdim"], vdim=i["vdim"],
                defaults={"dropout": 0.0, "bias": True, "kdim": e, "vdim": e})
    causal, t = p.causal, time_axis(ctx)

    def forward(v: dict) -> str:
        q = v["query"]
        k = v["key"] if v["key"] != "None" else q
        val = v["value"] if v["value"] != "None" else k
        mask = (f", attn_mask=causal_mask({q}.size({t}), {q}.device), is_causal=True"
                if causal else "")
        return f"{v['out']}, _ = {v['self']}({q}, {k}, {val}, need_weights=False{mask})"

    return Emit(init=ctor, forward=forward, helpers=("causal_mask",) if causal else ())


def _mha_from_module(mod, call_kwargs) -> dict:
    """``nn.MultiheadAttention``; ``causal`` comes from the call (a mask)."""
    values = read_module(get("MultiheadAttention"), mod,
                         readers={"add_bias_kv": lambda m: m.bias_k is not None})
    refuse_call_arguments(call_kwargs, ("attn_mask", "is_causal", "need_weights",
                                        "average_attn_weights"),
                          "is not supported (the block attends to every key)")
    # any mask is taken for the causal one: the check after the import refuses another
    values["causal"] = bool(call_kwargs.get("is_causal")
                            or call_kwargs.get("attn_mask") is not None)
    return values


# --------------------------------------------------------------------------
# AdditiveAttention
# --------------------------------------------------------------------------

def _additive_rule(ctx: Ctx) -> TT:
    q = ctx.x("query")
    ctx.need_rank(q, (2, 3), "N×features (one query vector per sample) or N×T×features "
                  "(one per step)", port="query")
    keys, dk = need_sequence(ctx, "keys", "key features")
    ctx.infer("query_size", ctx.need_concrete(q.shape[-1], "number of query features",
                                              port="query"))
    ctx.infer("key_size", dk)
    return TT((*q.shape[:-1], dk))


def _additive_count(ctx: Ctx) -> int:
    h, i = ctx.p.hidden_size, ctx.inferred
    return h * (i["query_size"] + i["key_size"] + 1) + (h if ctx.p.bias else 0)


def _additive_flops(ctx: Ctx) -> int:
    h, i = ctx.p.hidden_size, ctx.inferred
    t = dims.nominal(ctx.x("keys").shape[1])
    q = ctx.x("query")
    tq = dims.nominal(q.shape[1]) if len(q.shape) == 3 else 1  # scores every (query, key) pair
    return tq * (2 * h * (i["query_size"] + t * (i["key_size"] + 2)) + 4 * t * i["key_size"])


def _additive_emit(ctx: Ctx) -> Emit:
    i = ctx.inferred
    ctor = call("AdditiveAttention", i["query_size"], i["key_size"], ctx.p.hidden_size,
                bias=ctx.p.bias, defaults={"bias": True})
    return Emit(init=ctor, helpers=("AdditiveAttention",))


def _additive_from_module(mod, call_kwargs) -> dict:
    return read_module(get("AdditiveAttention"), mod, readers={
        "hidden_size": lambda m: m.score.in_features,
        "bias": lambda m: m.key_proj.bias is not None})


register(
    BlockSpec(
        type="Embedding", family="attention", weights=True,
        doc="Looks up a learned vector for each token id: int64 ids N×... become "
            "float vectors N×...×embedding_dim.",
        formula="y = W[x]",
        inputs=(Port("in", dtype="int", doc="token ids (int64), each below num_embeddings"),),
        params=(
            Param("num_embeddings", "int", 100,
                  "size of the vocabulary: token ids go from 0 to num_embeddings−1", min=1),
            Param("embedding_dim", "int", 32, "length of each token's vector", min=1),
            Param("padding_idx", "int", None,
                  "token id whose vector stays zero and is not trained (empty: none)",
                  nullable=True, advanced=True),
            Param("max_norm", "float", None,
                  "rescale each looked-up vector whose norm exceeds this (empty: never)",
                  nullable=True, min=0, min_open=True, advanced=True),
            Param("norm_type", "float", 2.0, "the p of the p-norm that max_norm bounds",
                  advanced=True),
            Param("scale_grad_by_freq", "bool", False,
                  "scale gradients by the inverse frequency of the tokens in the batch",
                  advanced=True),
        ),
        rule=_embedding_rule, from_module=_embedding_from_module,
        count=lambda ctx: ctx.p.num_embeddings * ctx.p.embedding_dim,
        flops=lambda ctx: 0,
        emit=_embedding_emit,
    ),
    BlockSpec(
        type="PositionalEncoding", family="attention", weights=True,
        doc="Adds position information to a sequence N×T×E, so attention can tell "
            "the order of the tokens: fixed sine waves or a learned table.",
        formula="y = dropout(x + PE[:T])",
        params=(
            Param("kind", "choice", "sinusoidal",
                  "sinusoidal: fixed sine/cosine waves; learned: a trained vector per position",
                  choices=("sinusoidal", "learned")),
            Param("max_len", "int", 512, "longest sequence it accepts", min=1),
            Param("dropout", "float", 0.0, "probability of zeroing an element of the result",
                  min=0, max=1),
        ),
        inferred=("d_model",),
        rule=_positional_rule, from_module=_positional_from_module,
        count=lambda ctx: (ctx.p.max_len * ctx.inferred["d_model"]
                           if ctx.p.kind == "learned" else 0),
        emit=_positional_emit,
    ),
    BlockSpec(
        type="MultiheadAttention", family="attention", weights=True,
        keywords=("self-attention", "mha", "transformer", "heads"),
        doc="Scaled dot-product attention with several heads. With only the query "
            "connected it is self-attention (key = value = query).",
        formula="y = softmax(Q·Kᵀ/√d)·V per head, heads concatenated and projected",
        inputs=(
            Port("query", doc="the sequence that asks, N×Tq×E"),
            Port("key", optional=True, doc="what is matched against (default: the query)"),
            Port("value", optional=True, doc="what is returned (default: the key)"),
        ),
        params=(
            Param("num_heads", "int", None, "parallel attention heads; must divide embed_dim",
                  min=1, required=True),
            Param("dropout", "float", 0.0, "dropout on the attention weights", min=0, max=1),
            Param("bias", "bool", True, "learn biases in the input and output projections"),
            Param("causal", "bool", False,
                  "each position attends only to itself and earlier positions"),
            BATCH_FIRST,
        ),
        inferred=("embed_dim", "kdim", "vdim"),
        rule=_mha_rule, count=_mha_count, flops=_mha_flops, activations=_mha_activations,
        emit=_mha_emit, name_prefix="attn", from_module=_mha_from_module,
        module_result=("out", None),  # (attn_output, attn_weights): no port gives weights
    ),
    BlockSpec(
        type="AdditiveAttention", family="attention", weights=True,
        keywords=("bahdanau", "seq2seq"),
        doc="Bahdanau attention: weighs the time steps of the keys by how well they "
            "match the query and returns their weighted sum.",
        formula="a = softmax_t(vᵀ·tanh(W_q·q + W_k·k_t + b)); y = Σ_t a_t·k_t",
        inputs=(Port("query", doc="one vector per sample, N×Dq, or one per step, N×Tq×Dq"),
                Port("keys", doc="a sequence, N×T×Dk")),
        params=(
            Param("hidden_size", "int", 64, "size of the scoring network's hidden layer",
                  min=1),
            Param("bias", "bool", True, "learn the bias b of the scoring network"),
        ),
        inferred=("query_size", "key_size"),
        rule=_additive_rule, count=_additive_count, flops=_additive_flops,
        emit=_additive_emit, from_module=_additive_from_module,
    ),
)
