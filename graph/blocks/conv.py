"""Convolution blocks: Conv1d/2d/3d, ConvTranspose1d/2d, DepthwiseSeparableConv2d.

One factory, :func:`_conv_spec`, makes every N-d (transposed) convolution
from the number of spatial dimensions, so the variants cannot drift apart.
The output length of each spatial dimension follows PyTorch's formulas
(:func:`graph.dims.window_out` and :func:`graph.dims.transposed_out`), which
also work on symbolic sizes: a Conv1d over N×C×T with ``padding="same"`` keeps
``T``, and a "valid" kernel of 3 gives ``T-2``.

The window helpers at the top (:func:`spatial_input`, :func:`check_window`,
:func:`compact`, ...) are shared with :mod:`graph.blocks.pooling`.
"""

from __future__ import annotations

import math

from .. import dims
from ..problems import Code
from ._common import WEIGHT_NORM, expand, module, weight_norm, weight_norm_extra
from .base import TT, BlockSpec, Ctx, Param, call
from .module_import import read_module
from .registry import get, register, register_helper

#: How the input of an N-d layer is laid out, for messages.
LAYOUTS = {1: "N×C×L", 2: "N×C×H×W", 3: "N×C×D×H×W"}


# --------------------------------------------------------------------------
# Helpers shared with pooling
# --------------------------------------------------------------------------

def spatial_input(ctx: Ctx, n: int) -> TT:
    """The input, after checking it is batched N×C×(n spatial dims).

    PyTorch also takes unbatched inputs, but a graph always has a batch, so a
    missing dimension is a mistake worth reporting.
    """
    x = ctx.x()
    ctx.need_rank(x, (n + 2,), LAYOUTS[n])
    return x


def by_dim(text_values) -> str:
    """``(3, 3)`` → ``"3×3"`` (sizes written as in shapes)."""
    return dims.format_shape(tuple(text_values))


def compact(v):
    """A per-dimension tuple whose entries agree as one int (readable code)."""
    if isinstance(v, tuple) and v and all(e == v[0] for e in v):
        return v[0]
    return v


def check_window(ctx: Ctx, x: TT, kernel: tuple, dilation: tuple, pad_total: tuple,
                 what: str, advice: str, fix: dict | None) -> None:
    """Fail with :data:`Code.WINDOW` when a window does not fit the padded input.

    Only fixed sizes can be checked; a symbolic size such as ``T`` is assumed
    to be long enough.
    """
    sizes = x.shape[2:]
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if not any(isinstance(s, int) and s + p < w for s, p, w in zip(sizes, pad_total, spans)):
        return
    padded = tuple(dims.add(s, p) for s, p in zip(sizes, pad_total))
    window = f"{what} {by_dim(kernel)}"
    if any(d != 1 for d in dilation):
        window += f" with dilation {by_dim(dilation)} spans {by_dim(spans)} and"
    pads = by_dim(tuple(p // 2 for p in pad_total)) if any(pad_total) else "0"
    ctx.fail(Code.WINDOW, f"{window} is larger than the padded input {by_dim(padded)} "
             f"(input {x}, padding {pads}); {advice}", fix=fix)


def _pad_totals(ctx: Ctx, n: int, kernel: tuple, dilation: tuple) -> tuple:
    """Padding added to each spatial dimension (both sides together)."""
    padding = ctx.p.padding
    if padding == "valid":
        return (0,) * n
    if padding == "same":
        return tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    return tuple(2 * p for p in expand(padding, n))


def _half_kernel(kernel: tuple, dilation: tuple):
    """Symmetric padding that keeps the size at stride 1 (odd kernels)."""
    return compact(tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation)))


# --------------------------------------------------------------------------
# Shape rule of a (depthwise) convolution
# --------------------------------------------------------------------------

def _conv_geometry(ctx: Ctx, n: int, groups: int) -> TT:
    """Checks and output shape shared by ConvNd and DepthwiseSeparableConv2d."""
    p = ctx.p
    x = spatial_input(ctx, n)
    c_in = ctx.infer("in_channels", ctx.need_concrete(x.shape[1], "number of input channels"))
    c_out = p.out_channels
    for name, c in (("in_channels", c_in), ("out_channels", c_out)):
        if c % groups:
            g = math.gcd(c_in, c_out)
            ctx.fail(Code.GROUPS, f"{name} {c} is not divisible by groups={groups} (input {x}, "
                     f"out_channels {c_out}); every group needs the same number of channels — "
                     f"set groups to a divisor of both, such as {g}",
                     fix={"kind": "set_param", "param": "groups", "value": g})
    kernel = expand(p.kernel_size, n)
    stride = expand(p.stride, n)
    dilation = expand(p.dilation, n)
    if p.padding == "same" and any(s != 1 for s in stride):
        half = _half_kernel(kernel, dilation)
        ctx.fail(Code.PARAM, f'padding "same" works only with stride 1 (PyTorch refuses it for '
                 f"strided convolutions), but stride is {by_dim(stride)}; use padding={half} "
                 "instead, or stride 1",
                 fix={"kind": "set_param", "param": "padding", "value": half})
    pad_total = _pad_totals(ctx, n, kernel, dilation)
    if all(s == 1 for s in stride):
        fix = {"kind": "set_param", "param": "padding", "value": "same"}
        advice = 'set padding to "same" or use a smaller kernel_size'
    else:
        need = compact(tuple(
            max(q // 2, -(-(d * (k - 1) + 1 - s) // 2)) if isinstance(s, int) else q // 2
            for s, q, k, d in zip(x.shape[2:], pad_total, kernel, dilation)))
        fix = {"kind": "set_param", "param": "padding", "value": need}
        advice = f"set padding to {need} or use a smaller kernel_size"
    check_window(ctx, x, kernel, dilation, pad_total, "kernel", advice, fix)
    mode = p.get("padding_mode", "zeros")
    if mode in ("reflect", "circular"):
        for s, q in zip(x.shape[2:], pad_total):
            # PyTorch pads explicitly before such convolutions: reflect needs the
            # padding to be shorter than the input, circular at most as long.
            pad = q - q // 2
            if isinstance(s, int) and (pad >= s if mode == "reflect" else pad > s):
                limit = "smaller than" if mode == "reflect" else "at most"
                ctx.fail(Code.PARAM, f'padding_mode "{mode}" needs padding {limit} the input '
                         f"size, but the input is {x} and padding is {pad}; use less padding "
                         'or padding_mode "zeros"',
                         fix={"kind": "set_param", "param": "padding_mode", "value": "zeros"})
    out = tuple(dims.window_out(s, k, st, q, d)
                for s, k, st, q, d in zip(x.shape[2:], kernel, stride, pad_total, dilation))
    return TT((x.shape[0], c_out) + out, x.dtype)


def _transposed_geometry(ctx: Ctx, n: int) -> TT:
    p = ctx.p
    x = spatial_input(ctx, n)
    c_in = ctx.infer("in_channels", ctx.need_concrete(x.shape[1], "number of input channels"))
    c_out = p.out_channels
    for name, c in (("in_channels", c_in), ("out_channels", c_out)):
        if c % p.groups:
            g = math.gcd(c_in, c_out)
            ctx.fail(Code.GROUPS, f"{name} {c} is not divisible by groups={p.groups} (input {x}, "
                     f"out_channels {c_out}); set groups to a divisor of both, such as {g}",
                     fix={"kind": "set_param", "param": "groups", "value": g})
    kernel, stride, pad, dilation, extra = (expand(v, n) for v in (
        p.kernel_size, p.stride, p.padding, p.dilation, p.output_padding))
    if any(o >= max(s, d) for o, s, d in zip(extra, stride, dilation)):
        ctx.fail(Code.PARAM, f"output_padding {by_dim(extra)} must be smaller than stride "
                 f"{by_dim(stride)} or dilation {by_dim(dilation)} (it only picks between the "
                 "output sizes a stride allows); lower output_padding",
                 fix={"kind": "set_param", "param": "output_padding", "value": 0})
    out = tuple(dims.transposed_out(s, k, st, q, d, o)
                for s, k, st, q, d, o in zip(x.shape[2:], kernel, stride, pad, dilation, extra))
    if any(isinstance(o, int) and o <= 0 for o in out):
        most = compact(tuple(
            min(q, ((s - 1) * st + d * (k - 1) + o) // 2) if isinstance(s, int) else q
            for s, k, st, q, d, o in zip(x.shape[2:], kernel, stride, pad, dilation, extra)))
        shape = TT((x.shape[0], c_out) + out)
        ctx.fail(Code.ZERO_SIZE, f"its output would be {shape}, which is empty: padding "
                 f"{by_dim(pad)} trims more than the input {x} grows to with kernel_size "
                 f"{by_dim(kernel)} and stride {by_dim(stride)}; set padding to {most} or less",
                 fix={"kind": "set_param", "param": "padding", "value": most})
    return TT((x.shape[0], c_out) + out, x.dtype)


# --------------------------------------------------------------------------
# The factory
# --------------------------------------------------------------------------

_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True,
             "padding_mode": "zeros", "output_padding": 0}


def _kernel_volume(ctx: Ctx, n: int) -> int:
    return math.prod(expand(ctx.p.kernel_size, n))


def _conv_spec(n: int, transposed: bool = False) -> BlockSpec:
    """The spec of ``Conv{n}d`` or ``ConvTranspose{n}d``."""
    name = f"ConvTranspose{n}d" if transposed else f"Conv{n}d"
    size = dict(min=1, length=n)
    params = [
        Param("out_channels", "int", 16, "number of output channels (filters)", min=1),
        Param("kernel_size", "size", 3, "size of the sliding window", **size),
        Param("stride", "size", 1, "step between windows; 2 halves each spatial size", **size),
    ]
    if transposed:
        params += [
            Param("padding", "size", 0, "trimmed from each side of the output",
                  min=0, length=n),
            Param("output_padding", "size", 0,
                  "extra size on one side of the output (picks among the sizes a stride "
                  "allows); must be smaller than stride or dilation", min=0, length=n,
                  advanced=True),
        ]
    else:
        params.append(Param(
            "padding", "size", 0,
            'zeros added on each side; "same" keeps the size (stride 1), "valid" adds none',
            min=0, length=n, choices=("same", "valid")))
    params += [
        Param("dilation", "size", 1, "spacing between kernel taps (dilated/atrous convolution)",
              advanced=True, **size),
        Param("groups", "int", 1, "split channels into groups convolved separately; "
              "groups = in_channels is a depthwise convolution", min=1),
        Param("bias", "bool", True, "learn an additive bias per output channel"),
    ]
    if not transposed:
        params.append(Param("padding_mode", "choice", "zeros", "what the padding is filled with",
                            choices=("zeros", "reflect", "replicate", "circular"),
                            advanced=True))
    params.append(WEIGHT_NORM)

    def rule(ctx: Ctx) -> TT:
        return _transposed_geometry(ctx, n) if transposed else _conv_geometry(ctx, n, ctx.p.groups)

    def count(ctx: Ctx) -> int:
        c_in, c_out, g = ctx.inferred["in_channels"], ctx.p.out_channels, ctx.p.groups
        weights = c_in * c_out // g * _kernel_volume(ctx, n)
        # weight_norm's magnitude g runs along the weight's first dimension,
        # which for a transposed convolution is the input channels.
        return weights + (c_out if ctx.p.bias else 0) + weight_norm_extra(
            ctx, c_in if transposed else c_out)

    def flops(ctx: Ctx) -> int:
        c_in, c_out, g = ctx.inferred["in_channels"], ctx.p.out_channels, ctx.p.groups
        taps = _kernel_volume(ctx, n)
        if transposed:  # every input element is spread over c_out/g × kernel outputs
            return 2 * ctx.numel(ctx.x()) * (c_out // g) * taps
        return 2 * ctx.numel(ctx.out) * (c_in // g) * taps

    def emit(ctx: Ctx):
        p = ctx.p
        kwargs = {k: compact(p[k]) if isinstance(p[k], tuple) else p[k]
                  for k in ("kernel_size", "stride", "padding", "output_padding", "dilation",
                            "groups", "bias", "padding_mode") if k in p}
        if kwargs["padding"] == "valid":
            kwargs["padding"] = 0  # the same thing, and PyTorch's default
        ctor = call(f"nn.{name}", ctx.inferred["in_channels"], p.out_channels,
                    defaults=_DEFAULTS, **kwargs)
        return module(weight_norm(ctx, ctor))

    if transposed:
        doc = (f"{n}-d transposed convolution (learned upsampling): each input element "
               "spreads a kernel over the output; stride 2 doubles each spatial size.")
        formula = "out = (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1"
    else:
        doc = (f"{n}-d convolution: slides out_channels learned filters over the "
               f"{'sequence' if n == 1 else 'image' if n == 2 else 'volume'}.")
        formula = "out = ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1"
    return BlockSpec(
        type=name, family="convolution", weights=True, doc=doc, formula=formula,
        params=tuple(params), inferred=("in_channels",),
        rule=rule, count=count, flops=flops, emit=emit,
        details=f"Input {LAYOUTS[n]}; in_channels is taken from C.",
        keywords=("deconvolution", "upsample") if transposed else ("cnn", "filter", "kernel"),
    )


# --------------------------------------------------------------------------
# Depthwise separable convolution (a helper module in generated code)
# --------------------------------------------------------------------------

DEPTHWISE_SEPARABLE = '''
class DepthwiseSeparableConv2d(nn.Module):
    """Depthwise separable convolution (MobileNet): a per-channel spatial
    convolution (groups = in_channels) followed by a 1×1 convolution that
    mixes channels; far fewer weights than one full Conv2d."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        bias=True,
    ):
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_channels,
            in_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=in_channels,
            bias=bias,
        )
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))
'''
register_helper("DepthwiseSeparableConv2d", DEPTHWISE_SEPARABLE)


def _ds_rule(ctx: Ctx) -> TT:
    # groups = in_channels in the depthwise half divides in_channels by
    # construction, and the pointwise half is ungrouped: nothing to check.
    return _conv_geometry(ctx, 2, groups=1)


def _ds_count(ctx: Ctx) -> int:
    c_in, c_out = ctx.inferred["in_channels"], ctx.p.out_channels
    bias = ctx.p.bias
    depthwise = c_in * _kernel_volume(ctx, 2) + (c_in if bias else 0)
    return depthwise + c_in * c_out + (c_out if bias else 0)


def _ds_flops(ctx: Ctx) -> int:
    c_in, c_out = ctx.inferred["in_channels"], ctx.p.out_channels
    positions = ctx.numel(ctx.out) // c_out
    return 2 * positions * c_in * (_kernel_volume(ctx, 2) + c_out)


def _ds_emit(ctx: Ctx):
    p = ctx.p
    padding = 0 if p.padding == "valid" else compact(p.padding)
    ctor = call("DepthwiseSeparableConv2d", ctx.inferred["in_channels"], p.out_channels,
                kernel_size=compact(p.kernel_size), stride=compact(p.stride), padding=padding,
                dilation=compact(p.dilation), bias=p.bias, defaults=_DEFAULTS)
    return module(ctor, helpers=("DepthwiseSeparableConv2d",))


def _ds_from_module(mod, call_kwargs) -> dict:
    """Our helper class: the geometry is the depthwise half's, out_channels the
    pointwise half's."""
    depthwise = mod.depthwise
    return read_module(get("DepthwiseSeparableConv2d"), mod, readers={
        "out_channels": lambda m: m.pointwise.out_channels,
        **{k: (lambda m, k=k: getattr(depthwise, k))
           for k in ("kernel_size", "stride", "padding", "dilation")},
        "bias": lambda m: depthwise.bias is not None})


register(
    *(_conv_spec(n) for n in (1, 2, 3)),
    *(_conv_spec(n, transposed=True) for n in (1, 2)),
    BlockSpec(
        type="DepthwiseSeparableConv2d", family="convolution", weights=True,
        doc="Depthwise separable convolution (MobileNet): a per-channel k×k convolution, "
            "then a 1×1 convolution mixing channels.",
        formula="y = pointwise₁ₓ₁(depthwise_k×k(x))",
        params=(
            Param("out_channels", "int", 32, "number of output channels", min=1),
            Param("kernel_size", "size", 3, "size of the depthwise window", min=1, length=2),
            Param("stride", "size", 1, "step between windows", min=1, length=2),
            Param("padding", "size", 0,
                  'zeros added on each side; "same" keeps the size (stride 1)',
                  min=0, length=2, choices=("same", "valid")),
            Param("dilation", "size", 1, "spacing between kernel taps", min=1, length=2,
                  advanced=True),
            Param("bias", "bool", True, "learn biases in both convolutions"),
        ),
        inferred=("in_channels",),
        rule=_ds_rule, count=_ds_count, flops=_ds_flops, emit=_ds_emit,
        from_module=_ds_from_module,
        details="Input N×C×H×W; emitted as a small DepthwiseSeparableConv2d module.",
    ),
)
