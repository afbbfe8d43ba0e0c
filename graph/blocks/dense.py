"""Fully connected blocks: Linear, Bilinear, Identity."""

from __future__ import annotations

from .. import dims
from ..problems import Code
from ._common import WEIGHT_NORM, module, same_shape, weight_norm, weight_norm_extra
from .base import TT, BlockSpec, Ctx, Param, Port, call
from .registry import register


def _linear_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    if x.rank < 2:
        ctx.need_rank(x, (2,), "N×features")
    ctx.infer("in_features", ctx.need_concrete(x.shape[-1], "number of input features"))
    return TT(x.shape[:-1] + (ctx.p.out_features,), x.dtype)


def _linear_count(ctx: Ctx) -> int:
    n_in, n_out = ctx.inferred["in_features"], ctx.p.out_features
    return n_in * n_out + (n_out if ctx.p.bias else 0) + weight_norm_extra(ctx, n_out)


def _linear_flops(ctx: Ctx) -> int:
    rows = ctx.numel(ctx.out) // ctx.p.out_features
    return 2 * rows * ctx.inferred["in_features"] * ctx.p.out_features


def _linear_emit(ctx: Ctx):
    ctor = call("nn.Linear", ctx.inferred["in_features"], ctx.p.out_features,
                bias=ctx.p.bias, defaults={"bias": True})
    return module(weight_norm(ctx, ctor))


def _bilinear_rule(ctx: Ctx) -> TT:
    a, b = ctx.x("in1"), ctx.x("in2")
    for port, t in (("in1", a), ("in2", b)):
        if t.rank < 2:
            ctx.need_rank(t, (2,), "N×features", port=port)
    if a.rank != b.rank or any(not dims.equal(u, v) for u, v in zip(a.shape[:-1], b.shape[:-1])):
        ctx.fail(Code.SIZE, f"its two inputs must agree except in the last dimension, "
                 f"but in1 is {a} and in2 is {b}", port="in2")
    ctx.infer("in1_features", ctx.need_concrete(a.shape[-1], "number of features", "in1"))
    ctx.infer("in2_features", ctx.need_concrete(b.shape[-1], "number of features", "in2"))
    return TT(a.shape[:-1] + (ctx.p.out_features,), a.dtype)


def _bilinear_count(ctx: Ctx) -> int:
    i1, i2, o = ctx.inferred["in1_features"], ctx.inferred["in2_features"], ctx.p.out_features
    return i1 * i2 * o + (o if ctx.p.bias else 0)


register(
    BlockSpec(
        type="Linear", family="fully connected", weights=True,
        keywords=("dense", "fc", "fully connected", "perceptron", "mlp", "projection"),
        doc="Fully connected layer: every output is a weighted sum of all input features.",
        formula="y = x·Wᵀ + b",
        params=(
            Param("out_features", "int", 64, "number of output features", min=1),
            Param("bias", "bool", True, "learn an additive bias b"),
            WEIGHT_NORM,
        ),
        inferred=("in_features",),
        rule=_linear_rule, count=_linear_count, flops=_linear_flops, emit=_linear_emit,
    ),
    BlockSpec(
        type="Bilinear", family="fully connected", weights=True,
        doc="Bilinear layer: y_k = x1ᵀ·W_k·x2 + b_k, mixing two inputs multiplicatively.",
        formula="y = x1ᵀ W x2 + b",
        inputs=(Port("in1"), Port("in2")),
        params=(
            Param("out_features", "int", 16, "number of output features", min=1),
            Param("bias", "bool", True, "learn an additive bias b"),
        ),
        inferred=("in1_features", "in2_features"),
        rule=_bilinear_rule, count=_bilinear_count,
        flops=lambda ctx: 2 * ctx.numel(ctx.out) * ctx.inferred["in1_features"] * (ctx.inferred["in2_features"] + 1),
        emit=lambda ctx: module(call("nn.Bilinear", ctx.inferred["in1_features"],
                                     ctx.inferred["in2_features"], ctx.p.out_features,
                                     bias=ctx.p.bias, defaults={"bias": True})),
    ),
    BlockSpec(
        type="Identity", family="fully connected",
        doc="Passes its input through unchanged (a placeholder or a named tap).",
        formula="y = x",
        inputs=(Port("in", dtype="any"),),
        rule=same_shape, flops=lambda ctx: 0,
        emit=lambda ctx: module("nn.Identity()"),
    ),
)
