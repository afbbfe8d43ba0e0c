"""Transformer layers: TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder.

Batch-first unless ``batch_first`` is false (sequence first, T×N×E, as
PyTorch's default builds them); ``d_model`` is inferred from the input's last
dimension.
The attention helpers (head checks, counts) are shared with
:mod:`graph.blocks.attention`.
"""

from __future__ import annotations

from .. import dims
from ..problems import Code
from .attention import (BATCH_FIRST, attention_flops, check_heads, mha_count, need_sequence,
                        time_axis)
from .base import TT, BlockSpec, Ctx, Emit, Param, Port, Src, call
from .module_import import ImportRefused, read_module, refuse_call_arguments, same
from .registry import get, register

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
    if stack:
        params += (Param("norm", "bool", False, "a final LayerNorm after the last layer "
                         "(with the layers' layer_norm_eps and bias); pre-norm stacks "
                         "usually have one"),)
    return params + (BATCH_FIRST,)


def _encoder_rule(ctx: Ctx) -> TT:
    x, e = need_sequence(ctx, "in", "features (d_model)")
    check_heads(ctx, e, "nhead", "d_model")
    ctx.infer("d_model", e)
    return x


def _decoder_rule(ctx: Ctx) -> TT:
    tgt, e = need_sequence(ctx, "tgt", "features (d_model)")
    check_heads(ctx, e, "nhead", "d_model")
    memory, e_mem = need_sequence(ctx, "memory", "memory features")
    if not ctx.p.batch_first and not dims.equal(tgt.shape[1], memory.shape[1]):
        ctx.fail(Code.SIZE, f"sequence-first (batch_first false): the target {tgt} and the "
                 f"memory {memory} must agree in their second dimension, the batch",
                 port="memory")
    if e_mem != e:
        ctx.fail(Code.SIZE, f"memory must have the target's feature size d_model={e}, but "
                 f"the target is {tgt} and the memory is {memory}; add a Linear with "
                 f"out_features={e} on the memory", port="memory",
                 fix={"kind": "insert", "type": "Linear", "params": {"out_features": e}})
    ctx.infer("d_model", e)
    return tgt


def _final_norm_count(ctx: Ctx) -> int:
    return ctx.inferred["d_model"] * (2 if ctx.p.bias else 1) if ctx.p.norm else 0


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
    return dims.nominal(ctx.x(port).shape[time_axis(ctx)])


def _layer_ctor(ctx: Ctx, kind: str) -> str:
    p = ctx.p
    return call(f"nn.{kind}", ctx.inferred["d_model"], p.nhead,
                dim_feedforward=p.dim_feedforward, dropout=p.dropout, activation=p.activation,
                layer_norm_eps=p.layer_norm_eps, batch_first=p.batch_first, norm_first=p.norm_first,
                bias=p.bias, defaults=_LAYER_DEFAULTS)


def _encoder_stack_emit(ctx: Ctx) -> Emit:
    # nested tensors only speed up padded batches and warn for some settings
    p = ctx.p
    norm = Src(call("nn.LayerNorm", ctx.inferred["d_model"], eps=p.layer_norm_eps, bias=p.bias,
                    defaults={"eps": 1e-5, "bias": True})) if p.norm else None
    return Emit(init=call("nn.TransformerEncoder",
                          Src(_layer_ctor(ctx, "TransformerEncoderLayer")),
                          num_layers=p.num_layers, norm=norm, enable_nested_tensor=False,
                          defaults={"norm": None}))


def _decoder_emit(ctx: Ctx) -> Emit:
    causal, t = ctx.p.causal, time_axis(ctx)

    def forward(v: dict) -> str:
        tgt = v["tgt"]
        mask = (f", tgt_mask=causal_mask({tgt}.size({t}), {tgt}.device), tgt_is_causal=True"
                if causal else "")
        return f"{v['out']} = {v['self']}({tgt}, {v['memory']}{mask})"

    return Emit(init=_layer_ctor(ctx, "TransformerDecoderLayer"), forward=forward,
                helpers=("causal_mask",) if causal else ())


# --------------------------------------------------------------------------
# Import: reading PyTorch's layers back
# --------------------------------------------------------------------------

def _activation(mod):
    """``"relu"``/``"gelu"`` for the activations the block offers, refused otherwise
    (a GELU with ``approximate="tanh"`` or any other function computes differently)."""
    act = mod.activation
    if isinstance(act, str):
        return act
    name = getattr(act, "__name__", None)
    if name in ("relu", "gelu") and getattr(act, "__module__", "") == "torch.nn.functional":
        return name
    kind = type(act).__name__
    if (kind in ("ReLU", "GELU") and type(act).__module__.startswith("torch.nn")
            and getattr(act, "approximate", "none") == "none"):
        return kind.lower()
    raise ImportRefused("activation", act)


_LAYER_READERS = {
    "nhead": lambda m: m.self_attn.num_heads,
    "dim_feedforward": lambda m: m.linear1.out_features,
    "dropout": lambda m: m.dropout.p,
    "activation": _activation,
    "layer_norm_eps": lambda m: m.norm1.eps,
    "batch_first": lambda m: m.self_attn.batch_first,
    "bias": lambda m: m.linear1.bias is not None,
}


def _layer_from_module(kind: str):
    def from_module(mod, call_kwargs) -> dict:
        values = read_module(get(kind), mod, readers=_LAYER_READERS)
        if kind == "TransformerDecoderLayer":
            refuse_call_arguments(call_kwargs, ("tgt_mask", "tgt_is_causal"),
                                  "is not supported (the block masks only the target's "
                                  "future steps, with causal)")
            # any mask is taken for the causal one: the check after the import refuses another
            values["causal"] = bool(call_kwargs.get("tgt_is_causal")
                                    or call_kwargs.get("tgt_mask") is not None)
        else:
            refuse_call_arguments(call_kwargs, (), _NO_MASK)
        return values

    return from_module


def _final_norm(mod, layer: dict) -> bool:
    """Whether the stack ends in the LayerNorm the block's ``norm`` makes."""
    norm = mod.norm
    if norm is None:
        return False
    ok = (type(norm).__name__ == "LayerNorm" and type(norm).__module__.startswith("torch.nn")
          and len(norm.normalized_shape) == 1 and norm.elementwise_affine
          and same(norm.eps, layer["layer_norm_eps"]) and (norm.bias is not None) == layer["bias"])
    if not ok:
        raise ImportRefused("norm", norm, "is not supported (only a LayerNorm over the "
                            "features with the layers' eps and bias is)")
    return True


#: Why a mask in the call of a Transformer layer is refused.
_NO_MASK = ("is not supported (the block attends to every step; a causal decoder is "
            "TransformerDecoderLayer with causal)")


def _encoder_from_module(mod, call_kwargs) -> dict:
    """``nn.TransformerEncoder``: the layer's settings (every copy alike),
    the count and the final norm.  ``enable_nested_tensor`` and ``mask_check``
    only act on padding masks, which the block's code never passes."""
    refuse_call_arguments(call_kwargs, (), _NO_MASK)
    layers = [read_module(get("TransformerEncoderLayer"), m, readers=_LAYER_READERS)
              for m in mod.layers]
    if any(other != layers[0] for other in layers[1:]):
        raise ImportRefused("encoder_layer", mod.layers[0], "is not supported with layers "
                            "that differ from each other")
    if type(mod.layers[0]).__name__ != "TransformerEncoderLayer":
        raise ImportRefused("encoder_layer", mod.layers[0])
    values = read_module(get("TransformerEncoder"), mod, readers={
        "norm": lambda m: _final_norm(m, layers[0]),
        "num_layers": lambda m: len(m.layers)},
        skip=("encoder_layer", "enable_nested_tensor", "mask_check"))
    return {**layers[0], **values}


register(
    BlockSpec(
        type="TransformerEncoderLayer", family="attention", weights=True,
        keywords=("transformer", "self-attention", "bert"),
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
        from_module=_layer_from_module("TransformerEncoderLayer"),
    ),
    BlockSpec(
        type="TransformerDecoderLayer", family="attention", weights=True,
        keywords=("transformer", "self-attention", "gpt"),
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
        from_module=_layer_from_module("TransformerDecoderLayer"),
    ),
    BlockSpec(
        type="TransformerEncoder", family="attention", weights=True,
        keywords=("transformer", "self-attention", "bert"),
        doc="A stack of num_layers identical Transformer encoder layers.",
        formula="y = layer_L(… layer_1(x))",
        params=_transformer_params(stack=True), inferred=("d_model",),
        rule=_encoder_rule,
        count=lambda ctx: ctx.p.num_layers * _layer_count(ctx, 1, 2) + _final_norm_count(ctx),
        flops=lambda ctx: ctx.p.num_layers * _layer_flops(ctx, _seq_len(ctx, "in"), None),
        activations=lambda ctx: ctx.p.num_layers * _layer_activations(ctx, _seq_len(ctx, "in")),
        emit=_encoder_stack_emit, name_prefix="encoder", from_module=_encoder_from_module,
    ),
)
