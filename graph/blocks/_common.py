"""Pieces several block families share: dimension arguments and code helpers."""

from __future__ import annotations

from typing import Any

from .. import dims
from ..problems import Code
from .base import TT, Ctx, Emit, Param, Src, call


def expand(v: Any, n: int) -> tuple:
    """An int-or-list parameter as a tuple of ``n`` entries."""
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,) * n


def norm_dim(ctx: Ctx, dim: int, rank: int, name: str = "dim", port: str = "in") -> int:
    """A dim index (batch = 0, negatives allowed) as a non-negative index."""
    d = dim + rank if dim < 0 else dim
    if not 0 <= d < rank:
        ctx.fail(Code.PARAM, f"{name}={dim} is out of range for an input of rank {rank} "
                 f"(valid: {-rank}..{rank - 1})", port=port)
    return d


def weight_norm(ctx: Ctx, ctor: str) -> str:
    """Wrap a constructor in weight normalisation when the block asks for it."""
    if ctx.p.get("weight_norm"):
        return f"nn.utils.parametrizations.weight_norm({ctor})"
    return ctor


def module(ctor: str, helpers: tuple[str, ...] = ()) -> Emit:
    """The usual emission: ``self.<name> = <ctor>`` and ``y = self.<name>(x)``."""
    return Emit(init=ctor, helpers=helpers)


def same_shape(ctx: Ctx) -> TT:
    """Shape rule of element-wise layers."""
    return ctx.x()


def numel_in(ctx: Ctx, port: str = "in") -> int:
    return dims.numel(ctx.x(port).shape)


def weight_norm_extra(ctx: Ctx, out_channels: int) -> int:
    """Weight normalisation adds a magnitude g per output unit."""
    return out_channels if ctx.p.get("weight_norm") else 0


WEIGHT_NORM = Param("weight_norm", "bool", False,
                    "reparametrise the weight as g·v/‖v‖ (weight normalisation)", advanced=True)

__all__ = ["expand", "norm_dim", "weight_norm", "module", "same_shape", "numel_in",
           "WEIGHT_NORM", "Src", "call", "weight_norm_extra"]
