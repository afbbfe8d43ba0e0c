"""Transformer layers: TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder.

Always batch-first; ``d_model`` is inferred from the input's last dimension.
The attention helpers (head checks, counts) are shared with
:mod:`graph.blocks.attention`.
"""

from __future__ import annotations

from .. import dims
from ..problems import Code
from .attention import attention_flops, check_heads, mha_count, need_sequence
from .base import TT, BlockSpec, Ctx, Emit, Param, Port, Src, call
from .registry import register

# --------------------------------------------------------------------------
# Transformer layers
# --------------------------------------------------------------------------

_LAYER_DEFAULTS = {"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu",
                   "layer_norm_eps": 1e-5, "norm_first": False, "bias": True}


def _transformer_params(stack: bool = False, decoder: bool = False) -> tuple[Param, ...]:
    params = (Param("num_layers", "int", 2, "encoder layers stacked", min=1),) if stack else ()
    params += (
        Param("nhead", "int", 4, "attention heads; must divide d_model", min=1),
        Param("dim_feedforward", "int", 2048, "hidden size of the feed-forward network",
              min=1),
        Param("dropout", "float", 0.1, "dropout after attention and in the feed-forward "
              "network", min=0, max=1),
        Param("activation", "choice", "relu", "activation of the feed-forward network",
              choices=("relu", "gelu")),
        Param("norm_first", "bool", False,
              "LayerNorm before attention and feed-forward (pre-norm; trains deep "
              "stacks more stably)"),
        Param("layer_norm_eps", "float", 1e-5, "added to the variance in LayerNorm",
              min=0, min_open=True, advanced=True),
        Param("bias", "bool", True, "learn biases in the linear layers and LayerNorms",
              advanced=True),
    )
    if decoder:
        params += (Param("causal", "bool", True, "each target position attends only to "
                         "itself and earlier target positions"),)
    return params


def _encoder_rule(ctx: Ctx) -> TT:
    x, e = need_sequence(ctx, "in", "features (d_model)")
    check_heads(ctx, e, "nhead", "d_model")
    ctx.infer("d_model", e)
    return x


def _decoder_rule(ctx: Ctx) -> TT:
    tgt, e = need_sequence(ctx, "tgt", "features (d_model)")
    check_heads(ctx, e, "nhead", "d_model")
    memory, e_mem = need_sequence(ctx, "memory", "memory features")
    if e_mem != e:
        ctx.fail(Code.SIZE, f"memory must have the target's feature size d_model={e}, but "
                 f"the target is {tgt} and the memory is {memory}; add a Linear with "
                 f"out_features={e} on the memory", port="memory",
                 fix={"kind": "insert", "type": "Linear", "params": {"out_features": e}})
    ctx.infer("d_model", e)
    return tgt


def _layer_count(ctx: Ctx, attentions: int, norms: int) -> int:
    e, f, bias = ctx.inferred["d_model"], ctx.p.dim_feedforward, ctx.p.bias
    ffn = 2 * e * f + ((f + e) if bias else 0)
    return attentions * mha_count(e, e, e, bias) + ffn + norms * e * (2 if bias else 1)


def _layer_flops(ctx: Ctx, t: int, s: int | None) -> int:
    e, f = ctx.inferred["d_model"], ctx.p.dim_feedforward
    cross = attention_flops(t, s, e, e, e) if s is not None else 0
    return attention_flops(t, t, e, e, e) + cross + 4 * t * e * f + 10 * t * e


def _layer_activations(ctx: Ctx, t: int) -> int:
    e = ctx.inferred["d_model"]
    return t * (8 * e + 2 * ctx.p.dim_feedforward) + ctx.p.nhead * t * t


def _seq_len(ctx: Ctx, port: str) -> int:
    return dims.nominal(ctx.x(port).shape[1])


def _layer_ctor(ctx: Ctx, kind: str) -> str:
    p = ctx.p
    return call(f"nn.{kind}", ctx.inferred["d_model"], p.nhead,
                dim_feedforward=p.dim_feedforward, dropout=p.dropout, activation=p.activation,
                layer_norm_eps=p.layer_norm_eps, batch_first=True, norm_first=p.norm_first,
                bias=p.bias, defaults=_LAYER_DEFAULTS)


def _encoder_stack_emit(ctx: Ctx) -> Emit:
    # nested tensors only speed up padded batches and warn for some settings
    return Emit(init=call("nn.TransformerEncoder",
                          Src(_layer_ctor(ctx, "TransformerEncoderLayer")),
                          num_layers=ctx.p.num_layers, enable_nested_tensor=False))


def _decoder_emit(ctx: Ctx) -> Emit:
    causal = ctx.p.causal

    def forward(v: dict) -> str:
        tgt = v["tgt"]
        mask = (f", tgt_mask=causal_mask({tgt}.size(1), {tgt}.device), tgt_is_causal=True"
                if causal else "")
        return f"{v['out']} = {v['self']}({tgt}, {v['memory']}{mask})"

    return Emit(init=_layer_ctor(ctx, "TransformerDecoderLayer"), forward=forward,
                helpers=("causal_mask",) if causal else ())


register(
    BlockSpec(
        type="TransformerEncoderLayer", family="attention", weights=True,
        doc="One Transformer encoder layer: self-attention then a feed-forward "
            "network, each with a residual connection and LayerNorm.",
        formula="x = norm(x + attn(x)); y = norm(x + W₂·act(W₁·x))",
        params=_transformer_params(), inferred=("d_model",),
        rule=_encoder_rule,
        count=lambda ctx: _layer_count(ctx, 1, 2),
        flops=lambda ctx: _layer_flops(ctx, _seq_len(ctx, "in"), None),
        activations=lambda ctx: _layer_activations(ctx, _seq_len(ctx, "in")),
        emit=lambda ctx: Emit(init=_layer_ctor(ctx, "TransformerEncoderLayer")),
        name_prefix="encoder_layer",
    ),
    BlockSpec(
        type="TransformerDecoderLayer", family="attention", weights=True,
        doc="One Transformer decoder layer: (causal) self-attention on the target, "
            "attention to the encoder's memory, then a feed-forward network.",
        formula="x = norm(x + self_attn(x)); x = norm(x + attn(x, memory)); "
                "y = norm(x + W₂·act(W₁·x))",
        inputs=(Port("tgt", doc="the target sequence, N×T×E"),
                Port("memory", doc="the encoder's output, N×S×E")),
        params=_transformer_params(decoder=True), inferred=("d_model",),
        rule=_decoder_rule,
        count=lambda ctx: _layer_count(ctx, 2, 3),
        flops=lambda ctx: _layer_flops(ctx, _seq_len(ctx, "tgt"), _seq_len(ctx, "memory")),
        activations=lambda ctx: 2 * _layer_activations(ctx, _seq_len(ctx, "tgt")),
        emit=_decoder_emit, name_prefix="decoder_layer",
    ),
    BlockSpec(
        type="TransformerEncoder", family="attention", weights=True,
        doc="A stack of num_layers identical Transformer encoder layers.",
        formula="y = layer_L(… layer_1(x))",
        params=_transformer_params(stack=True), inferred=("d_model",),
        rule=_encoder_rule,
        count=lambda ctx: ctx.p.num_layers * _layer_count(ctx, 1, 2),
        flops=lambda ctx: ctx.p.num_layers * _layer_flops(ctx, _seq_len(ctx, "in"), None),
        activations=lambda ctx: ctx.p.num_layers * _layer_activations(ctx, _seq_len(ctx, "in")),
        emit=_encoder_stack_emit, name_prefix="encoder",
    ),
)
