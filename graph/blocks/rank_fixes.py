"""Quick fixes for an input of the wrong rank (used by ``Ctx.need_rank``).

A higher rank than a block takes is flattened (``Flatten``, keeping dim 1 when
the block wants more than N×features).  A lower rank gets a ``Reshape`` only
when there is a natural target shape, chosen by what the block adds:
``"channels"`` (N×64 → N×1×8×8 for an image layer, grey or RGB with square
sides; N×F → N×1×F for a 1-d convolution; N×A×B → N×1×A×B), ``"steps"``
(N×F → N×F×1 for a recurrent layer: F steps of one feature) or ``"tokens"``
(N×F → N×1×F for attention: one token).  Otherwise there is no fix, and the
message only says to add a Reshape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import dims

if TYPE_CHECKING:  # pragma: no cover
    from .base import TT


def rank_hint(t: TT, want: int, fix: dict | None) -> str:
    """The advice that ends a rank-mismatch message (naming the Reshape target)."""
    if fix is not None and fix["type"] == "Reshape":
        shape = dims.format_shape(("N",) + tuple(fix["params"]["shape"]))
        return f"; add a Reshape to {shape} before it"
    if t.rank > want:
        return "; add a Flatten (or a pooling layer) before it"
    return "; add a Reshape before it"


def rank_fix(t: TT, want: int, adds: str) -> dict | None:
    """The quick fix for an input of the wrong rank: a Flatten or a Reshape
    whose target really has rank ``want``, or None when none makes sense."""
    if t.rank > want:
        if want == 2:
            return {"kind": "insert", "type": "Flatten"}
        # merge the trailing dims, keeping channels (or steps) on dim 1
        return {"kind": "insert", "type": "Flatten", "params": {"start_dim": want - 1}}
    shape = _raised_shape(t.shape[1:], want - 1, adds)
    if shape is None:
        return None
    return {"kind": "insert", "type": "Reshape", "params": {"shape": shape}}


def _raised_shape(sample: tuple, rank: int, adds: str) -> list[int] | None:
    """A Reshape target (sample shape, -1 for one variable size) of ``rank``
    dims for ``sample``, of lower rank; None when no natural one exists."""
    if sum(1 for d in sample if not isinstance(d, int)) > 1:
        return None  # a Reshape has only one -1 to absorb variable sizes
    entries = [d if isinstance(d, int) else -1 for d in sample] or [1]
    if len(entries) == rank:
        return entries  # an N-only tensor: one value per sample, N×1
    if len(entries) >= 2 or adds == "channels" and rank == 2:
        if adds != "channels":
            return None  # an N×A×B input to a sequence layer has its rank already
        return [1] * (rank - len(entries)) + entries  # add size-1 channel dims in front
    (f,) = entries
    if adds == "steps":
        return [f, 1]  # N×F → N×F×1: F steps of one feature
    if adds == "tokens":
        return [1, f] if f != -1 else [-1, 1]
    if f == -1:
        return None  # a variable size cannot be split into square images
    spatial = rank - 1
    for c in (1, 3):  # grey or RGB images with square (cubic) sides
        side = round((f / c) ** (1 / spatial)) if f % c == 0 else 0
        if side > 0 and c * side ** spatial == f:
            return [c] + [side] * spatial
    return None
