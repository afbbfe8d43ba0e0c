"""Normalisation blocks: batch, layer, RMS, group, instance and local response norm.

The sizes PyTorch needs (``num_features``, ``num_channels``,
``normalized_shape``) are inferred from the input; the running statistics of
batch and instance norm are buffers, not parameters, so they are not counted.
Instance norm without ``affine`` and running statistics keeps nothing per
channel, so its channel count may be variable (it is then emitted as
``nn.functional.instance_norm``).
"""

from __future__ import annotations

import math

from .. import dims
from ..problems import Code
from ._common import module
from .base import TT, BlockSpec, Ctx, Emit, Param, call, lit
from .module_import import read_module
from .registry import get, register

FAMILY = "normalization"


def _trailing_from_module(kind: str):
    """LayerNorm/RMSNorm: the block infers the sizes of ``normalized_shape``
    from the input, so only how many trailing dimensions it spans is read."""
    return lambda mod, kw: read_module(get(kind), mod, readers={
        "normalized_dims": lambda m: len(m.normalized_shape)})

_EPS = Param("eps", "float", 1e-5, "added to the variance for numerical stability",
             min=0, min_open=True, advanced=True)
_MOMENTUM = Param("momentum", "float", 0.1,
                  "weight of the newest batch in the running statistics "
                  "(empty: a cumulative average)", min=0, max=1, nullable=True, advanced=True)


def _channels(ctx: Ctx, ranks: tuple[int, ...], layout: str) -> int:
    """Check the rank and infer the number of channels (dim 1)."""
    x = ctx.x()
    ctx.need_rank(x, ranks, layout)
    return ctx.need_concrete(x.shape[1], "number of channels (dim 1)")


# --------------------------------------------------------------------------
# Batch and instance norm
# --------------------------------------------------------------------------

_STAT_DEFAULTS = {"eps": 1e-5, "momentum": 0.1}


def _stat_norm(type_: str, ranks: tuple[int, ...], layout: str, doc: str,
               affine: bool, instance: bool = False) -> BlockSpec:
    defaults = dict(_STAT_DEFAULTS, affine=affine, track_running_stats=not instance)

    def rule(ctx: Ctx) -> TT:
        x = ctx.x()
        ctx.need_rank(x, ranks, layout)
        c = x.shape[1]
        kept = " and ".join(k for k in ("affine", "track_running_stats") if ctx.p[k])
        if instance and not isinstance(c, int):
            # Without per-channel weights or statistics PyTorch takes any channel
            # count (num_features is then unused): a variable one is fine.
            if kept:
                ctx.fail(Code.SYMBOLIC, f"with {kept} it keeps values per channel, so it needs "
                         f"a fixed number of channels, but dim 1 of {x} is the variable size "
                         f"{c}; set {kept} to false or give the Input a fixed size",
                         fix=None if " " in kept else
                         {"kind": "set_param", "param": kept, "value": False})
            ctx.infer("num_features", c)
        else:
            ctx.infer("num_features", _channels(ctx, ranks, layout))
        if instance:
            spatial = dims.product(x.shape[2:])
            if isinstance(spatial, int) and spatial < 2:
                ctx.fail(Code.SIZE, f"normalises each channel over its own values, but input "
                         f"{x} has only {spatial} per channel; use BatchNorm or a larger input")
        return x

    def emit(ctx: Ctx):
        p = ctx.p
        if not isinstance(ctx.inferred["num_features"], int):
            # a variable channel count: no number to give the module (it would
            # warn at every call whose channels differ), and nothing per channel
            # to keep, so the function it calls does the same without one
            return Emit(forward="{out} = nn.functional.instance_norm(" + "{in}"
                        + (f", eps={lit(p.eps)})" if p.eps != 1e-5 else ")"))
        return module(call(f"nn.{type_}", ctx.inferred["num_features"], eps=p.eps,
                           momentum=p.momentum, affine=p.affine,
                           track_running_stats=p.track_running_stats, defaults=defaults))

    over = "each sample's channel" if instance else "the batch"
    return BlockSpec(
        type=type_, family=FAMILY, doc=doc,
        formula=f"y = (x − mean) / √(var + ε) · γ + β  (statistics per channel over {over})",
        params=(_EPS, _MOMENTUM,
                Param("affine", "bool", affine, "learn a per-channel scale γ and shift β"),
                Param("track_running_stats", "bool", not instance,
                      "keep running mean/variance for evaluation", advanced=True)),
        inferred=("num_features",),
        rule=rule, emit=emit,
        count=lambda ctx: 2 * ctx.inferred["num_features"] if ctx.p.affine else 0,
        flops=lambda ctx: 4 * ctx.numel(ctx.out),
    )


# --------------------------------------------------------------------------
# LayerNorm and RMSNorm
# --------------------------------------------------------------------------

def _trailing_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    k = ctx.p.normalized_dims
    if k > x.rank - 1:
        ctx.fail(Code.PARAM, f"normalized_dims={k} is more than the {x.rank - 1} "
                 f"dimension(s) after the batch in {x}; use at most {x.rank - 1}",
                 fix={"kind": "set_param", "param": "normalized_dims", "value": x.rank - 1})
    shape = tuple(ctx.need_concrete(d, "size of each normalised dimension")
                  for d in x.shape[x.rank - k:])
    ctx.infer("normalized_shape", shape)
    return x


def _normalized_arg(ctx: Ctx):
    shape = ctx.inferred["normalized_shape"]
    return shape[0] if len(shape) == 1 else list(shape)


def _trailing_size(ctx: Ctx) -> int:
    return dims.product(ctx.inferred["normalized_shape"])


def _layer_norm_count(ctx: Ctx) -> int:
    if not ctx.p.elementwise_affine:
        return 0
    return _trailing_size(ctx) * (2 if ctx.p.bias else 1)


_NORMALIZED_DIMS = Param("normalized_dims", "int", 1,
                         "how many trailing dimensions are normalised together", min=1)
_AFFINE = Param("elementwise_affine", "bool", True, "learn a per-element scale γ (and shift β)")


# --------------------------------------------------------------------------
# GroupNorm and LocalResponseNorm
# --------------------------------------------------------------------------

def _group_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    if x.rank < 2:
        ctx.need_rank(x, (2,), "N×C×...")
    c = ctx.infer("num_channels", ctx.need_concrete(x.shape[1], "number of channels (dim 1)"))
    g = ctx.p.num_groups
    if c % g:
        ctx.fail(Code.GROUPS, f"num_channels={c} (dim 1 of {x}) is not divisible by "
                 f"num_groups={g}; choose num_groups dividing {c}, e.g. {math.gcd(c, g)}",
                 fix={"kind": "set_param", "param": "num_groups", "value": math.gcd(c, g)})
    return x


def _lrn_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    if x.rank < 3:
        ctx.need_rank(x, (3,), "N×C×L, N×C×H×W or more")
    return x


register(
    _stat_norm("BatchNorm1d", (2, 3), "N×C or N×C×L",
               "Normalises each feature over the batch, then scales and shifts it.", True),
    _stat_norm("BatchNorm2d", (4,), "N×C×H×W",
               "Normalises each channel over the batch and image, then scales and shifts it.",
               True),
    _stat_norm("BatchNorm3d", (5,), "N×C×D×H×W",
               "Normalises each channel over the batch and volume, then scales and shifts it.",
               True),
    _stat_norm("InstanceNorm1d", (3,), "N×C×L",
               "Normalises each channel of each sample over its length (style transfer).",
               False, instance=True),
    _stat_norm("InstanceNorm2d", (4,), "N×C×H×W",
               "Normalises each channel of each sample over its image (style transfer).",
               False, instance=True),
    BlockSpec(
        type="LayerNorm", family=FAMILY,
        doc="Normalises each sample over its last dimension(s) (Transformers, RNNs).",
        formula="y = (x − mean) / √(var + ε) · γ + β  (over the trailing dims)",
        params=(_NORMALIZED_DIMS, _EPS, _AFFINE,
                Param("bias", "bool", True, "learn the shift β (with elementwise_affine)")),
        inferred=("normalized_shape",), from_module=_trailing_from_module("LayerNorm"),
        rule=_trailing_rule, count=_layer_norm_count,
        flops=lambda ctx: 5 * ctx.numel(ctx.out),
        emit=lambda ctx: module(call("nn.LayerNorm", _normalized_arg(ctx), eps=ctx.p.eps,
                                     elementwise_affine=ctx.p.elementwise_affine,
                                     bias=ctx.p.bias,
                                     defaults={"eps": 1e-5, "elementwise_affine": True,
                                               "bias": True})),
        # without weight and bias; the importer reads normalized_shape's length
        functional=("F.layer_norm(input, normalized_shape!, weight, bias, eps)",),
    ),
    BlockSpec(
        type="RMSNorm", family=FAMILY,
        doc="Divides each sample by the root mean square of its last dimension(s); "
            "a cheaper LayerNorm without centring (LLaMA-style models).",
        formula="y = x / √(mean(x²) + ε) · γ",
        params=(_NORMALIZED_DIMS,
                Param("eps", "float", None, "added to mean(x²); empty: the float type's "
                      "machine epsilon", min=0, min_open=True, nullable=True, advanced=True),
                _AFFINE),
        inferred=("normalized_shape",), from_module=_trailing_from_module("RMSNorm"),
        rule=_trailing_rule,
        count=lambda ctx: _trailing_size(ctx) if ctx.p.elementwise_affine else 0,
        flops=lambda ctx: 4 * ctx.numel(ctx.out),
        emit=lambda ctx: module(call("nn.RMSNorm", _normalized_arg(ctx), eps=ctx.p.eps,
                                     elementwise_affine=ctx.p.elementwise_affine,
                                     defaults={"eps": None, "elementwise_affine": True})),
    ),
    BlockSpec(
        type="GroupNorm", family=FAMILY,
        doc="Normalises groups of channels within each sample (works with small batches).",
        formula="y = (x − mean) / √(var + ε) · γ + β  (per sample and channel group)",
        params=(Param("num_groups", "int", 8, "number of channel groups; must divide the "
                      "channels", min=1),
                _EPS,
                Param("affine", "bool", True, "learn a per-channel scale γ and shift β")),
        inferred=("num_channels",),
        rule=_group_rule,
        count=lambda ctx: 2 * ctx.inferred["num_channels"] if ctx.p.affine else 0,
        flops=lambda ctx: 5 * ctx.numel(ctx.out),
        emit=lambda ctx: module(call("nn.GroupNorm", ctx.p.num_groups,
                                     ctx.inferred["num_channels"], eps=ctx.p.eps,
                                     affine=ctx.p.affine,
                                     defaults={"eps": 1e-5, "affine": True})),
    ),
    BlockSpec(
        type="LocalResponseNorm", family=FAMILY,
        doc="Divides each value by the activity of neighbouring channels (AlexNet).",
        formula="y = x / (k + α/n · Σ x²_neighbours)^β",
        params=(Param("size", "int", 5, "number of neighbouring channels used", min=1),
                # k > 0 and α ≥ 0 keep the base of the power positive: otherwise
                # torch computes NaN wherever k + α·mean(x²) falls below zero
                Param("alpha", "float", 1e-4, "multiplicative factor α", min=0),
                Param("beta", "float", 0.75, "exponent β"),
                Param("k", "float", 1.0, "additive factor k (> 0)", min=0, min_open=True)),
        rule=_lrn_rule,
        flops=lambda ctx: (2 * ctx.p.size + 4) * ctx.numel(ctx.out),
        emit=lambda ctx: module(call("nn.LocalResponseNorm", ctx.p.size, alpha=ctx.p.alpha,
                                     beta=ctx.p.beta, k=ctx.p.k,
                                     defaults={"alpha": 1e-4, "beta": 0.75, "k": 1.0})),
    ),
)
