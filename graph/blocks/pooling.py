"""Pooling blocks: MaxPool1d/2d/3d, AvgPool1d/2d/3d, adaptive pooling, GlobalAvgPool.

Windowed pooling follows PyTorch's output formula (floor, or ceil with
``ceil_mode``, where a last window starting in the right padding is dropped;
:func:`graph.dims.window_out` has it for symbolic lengths too).  PyTorch's
``AvgPool3d`` alone also refuses an input smaller than its kernel in any
dimension, whatever the padding.
``stride`` left empty (null) means "the same as kernel_size", PyTorch's
default.  Pooling has no weights, so the channel dimension may be symbolic.
``GlobalAvgPool`` is not a module but one readable line in ``forward``:
``x = x.mean(dim=(2, 3))``.
"""

from __future__ import annotations

import math

from .. import dims
from ..problems import Code
from ._common import expand, module
from .base import TT, BlockSpec, Ctx, Emit, Param, call
from .conv import LAYOUTS, by_dim, check_window, compact, spatial_input
from .registry import register

_DEFAULTS = {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False,
             "count_include_pad": True}


def _input_covers_kernel(ctx: Ctx, x: TT, kernel: tuple, pad: tuple) -> None:
    """AvgPool3d: each unpadded size must be at least the kernel (PyTorch's rule).

    ``avg_pool3d`` checks this on top of the usual output-size check, so
    padding cannot make up for a short dimension (MaxPool3d and the 1-d/2-d
    average pools have no such check).  A symbolic size is assumed long enough.
    """
    sizes = x.shape[2:]
    if not any(isinstance(s, int) and s < k for s, k in zip(sizes, kernel)):
        return
    fit = tuple(min(k, s) if isinstance(s, int) else k for s, k in zip(sizes, kernel))
    fits = all(q <= k // 2 for q, k in zip(pad, fit))
    fix = {"kind": "set_param", "param": "kernel_size", "value": compact(fit)} if fits else None
    advice = (f"set kernel_size to {compact(fit)} or less" if fits else
              "use a smaller kernel_size and padding")
    padded = " (padding does not count here)" if any(pad) else ""
    ctx.fail(Code.WINDOW, f"window {by_dim(kernel)} is larger than the input "
             f"{by_dim(sizes)} (input {x}); AvgPool3d needs every dimension at least as "
             f"large as the kernel{padded} — {advice}, or remove this pooling layer", fix=fix)


def _pool_spec(kind: str, n: int) -> BlockSpec:
    """The spec of ``MaxPool{n}d`` or ``AvgPool{n}d``."""
    name = f"{kind}Pool{n}d"
    is_max = kind == "Max"
    params = [
        Param("kernel_size", "size", 2, "size of the pooling window", min=1, length=n),
        Param("stride", "size", None, "step between windows; empty: same as kernel_size",
              min=1, length=n, nullable=True),
        Param("padding", "size", 0,
              f"{'-inf' if is_max else 'zeros'} added on each side; at most half the kernel",
              min=0, length=n),
    ]
    if is_max:
        params.append(Param("dilation", "size", 1, "spacing between window taps", min=1,
                            length=n, advanced=True))
    params.append(Param("ceil_mode", "bool", False,
                        "round the output size up (keep a partial last window)", advanced=True))
    if not is_max:
        params.append(Param("count_include_pad", "bool", True,
                            "count padded zeros in the average", advanced=True))

    def geometry(ctx: Ctx) -> tuple:
        p = ctx.p
        kernel = expand(p.kernel_size, n)
        stride = kernel if p.stride is None else expand(p.stride, n)
        pad = expand(p.padding, n)
        dilation = expand(p.get("dilation", 1), n)
        return kernel, stride, pad, dilation

    def rule(ctx: Ctx) -> TT:
        x = spatial_input(ctx, n)
        kernel, stride, pad, dilation = geometry(ctx)
        if any(q > k // 2 for q, k in zip(pad, kernel)):
            half = compact(tuple(k // 2 for k in kernel))
            ctx.fail(Code.PARAM, f"padding {by_dim(pad)} is more than half of kernel_size "
                     f"{by_dim(kernel)} (PyTorch refuses it: a window would see only "
                     f"padding); set padding to {half} or less",
                     fix={"kind": "set_param", "param": "padding", "value": half})
        if n == 3 and not is_max:
            _input_covers_kernel(ctx, x, kernel, pad)
        out = tuple(dims.window_out(s, k, st, 2 * q, d, ctx.p.ceil_mode)
                    for s, k, st, q, d in zip(x.shape[2:], kernel, stride, pad, dilation))
        if any(isinstance(o, int) and o <= 0 for o in out):
            spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
            need = tuple(max(q, -(-(w - s) // 2)) if isinstance(s, int) else q
                         for s, q, w in zip(x.shape[2:], pad, spans))
            fits = all(q <= k // 2 for q, k in zip(need, kernel))
            fix = {"kind": "set_param", "param": "padding", "value": compact(need)} if fits else None
            advice = (f"set padding to {compact(need)}, use a smaller kernel_size, or remove "
                      "this pooling layer" if fits else
                      "use a smaller kernel_size or remove this pooling layer (the input is "
                      "already this small)")
            check_window(ctx, x, kernel, dilation, tuple(2 * q for q in pad), "window",
                         advice, fix)
        return TT(x.shape[:2] + out, x.dtype)

    def flops(ctx: Ctx) -> int:
        kernel = expand(ctx.p.kernel_size, n)
        return ctx.numel(ctx.out) * math.prod(kernel)

    def emit(ctx: Ctx):
        p = ctx.p
        kwargs = {k: compact(p[k]) for k in ("stride", "padding", "dilation", "ceil_mode",
                                             "count_include_pad") if k in p}
        if kwargs["stride"] == compact(p.kernel_size):
            kwargs["stride"] = None  # PyTorch's default already
        return module(call(f"nn.{name}", compact(p.kernel_size), defaults=_DEFAULTS, **kwargs))

    if is_max:
        doc = f"{n}-d max pooling: keeps the largest value of each window."
        formula = "y = max over the window"
    else:
        doc = f"{n}-d average pooling: the mean of each window."
        formula = "y = mean over the window"
    args = ("kernel_size, stride, padding, dilation, ceil_mode, return_indices" if is_max
            else "kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override")
    return BlockSpec(
        type=name, family="pooling", doc=doc, formula=formula, params=tuple(params),
        rule=rule, flops=flops, emit=emit,
        functional=(f"F.{kind.lower()}_pool{n}d(input, {args})",),
        details=f"Input {LAYOUTS[n]}; out = ⌊(in + 2·padding − dilation·(kernel − 1) − 1) "
                "/ stride⌋ + 1 (⌈…⌉ with ceil_mode).",
    )


def _adaptive_spec(kind: str, n: int) -> BlockSpec:
    """The spec of ``Adaptive{Avg,Max}Pool{n}d``."""
    name = f"Adaptive{kind}Pool{n}d"

    def rule(ctx: Ctx) -> TT:
        x = spatial_input(ctx, n)
        return TT(x.shape[:2] + expand(ctx.p.output_size, n), x.dtype)

    return BlockSpec(
        type=name, family="pooling",
        doc=f"Adaptive {kind.lower()} pooling to a fixed output size, whatever the input "
            "size (windows are chosen to fit).",
        formula=f"y = {kind.lower()} over ≈in/out-sized windows",
        params=(Param("output_size", "size", 1, "spatial size of the output", min=1, length=n),),
        rule=rule,
        flops=lambda ctx: ctx.numel(ctx.x()),
        emit=lambda ctx: module(call(f"nn.{name}", compact(ctx.p.output_size))),
        functional=(f"F.adaptive_{kind.lower()}_pool{n}d(input, output_size!"
                    + (", return_indices)" if kind == "Max" else ")"),),
        details=f"Input {LAYOUTS[n]} → N×C×{by_dim(('out',) * n)}.",
    )


def _global_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    if x.rank < 3:
        ctx.fail(Code.RANK, f"expects input N×C×... with at least one dimension after the "
                 f"channels (rank 3 or more) but receives {x} (rank {x.rank}); it is already "
                 "pooled — remove this GlobalAvgPool")
    return TT(x.shape[:2], x.dtype)


def _global_emit(ctx: Ctx) -> Emit:
    rank = ctx.x().rank
    axes = "2" if rank == 3 else "(" + ", ".join(str(d) for d in range(2, rank)) + ")"
    return Emit(forward="{out} = {in}.mean(dim=" + axes + ")")


register(
    *(_pool_spec(kind, n) for kind in ("Max", "Avg") for n in (1, 2, 3)),
    *(_adaptive_spec(kind, n) for kind in ("Avg", "Max") for n in (1, 2)),
    BlockSpec(
        type="GlobalAvgPool", family="pooling",
        doc="Averages every dimension after the channels: N×C×... → N×C (before a classifier).",
        formula="y[n, c] = mean of x[n, c, ...]",
        rule=_global_rule,
        flops=lambda ctx: ctx.numel(ctx.x()),
        emit=_global_emit,
    ),
)
