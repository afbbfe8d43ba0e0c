"""Calls with no block of their own that existing blocks compute exactly, on import.

:mod:`codegen.import_functional` maps a call onto the block declared for it;
the calls here have no declaration because what they become depends on their
operands or on the input's shape and type:

- arithmetic: ``x / c`` and ``x.div(c)`` are ``Scale(1/c)`` (one rounding
  apart, far inside the import's 1e-5), ``-x`` is ``Scale(-1)``, and
  ``x - y`` is ``Add(x, Scale(-1)(y))`` (negation is exact, so the sum is
  the difference bit for bit); a constant added or subtracted, a tensor as a
  divisor, ``alpha=`` or ``rounding_mode=`` have no block and are named;
- calls that return the values they are given: ``.contiguous()``,
  ``.clone()``, ``.detach()`` (whether it may stop gradients is
  :mod:`codegen.import_modes`'s to say), ``.float()`` and ``.to(device)`` of
  a float32 tensor; a type conversion (``.float()`` of token ids) is named;
- ``x.view(...)``/``x.reshape(...)`` whose sizes are worked out from the
  input's shape (``x.view(x.size(0), x.size(1) * x.size(2))``,
  ``x.view(-1, 16 * 5 * 5)`` where the ``-1`` is the batch): a ``Reshape``;
  a shape that folds the batch into other dimensions
  (``out.view(-1, hidden)`` of a sequence) or fixes its size is named.

Functions are matched by identity, tensor methods by name, as in
:mod:`codegen.import_functional`, whose helpers (the builder's shapes,
:func:`~codegen.import_functional._size_of`) these use.
"""

from __future__ import annotations

import operator
from functools import lru_cache

from . import import_functional as functional
from . import import_states


@lru_cache(maxsize=1)
def _functions() -> dict:
    """Torch function → what it is, for the functions handled here."""
    import torch

    return {operator.truediv: "div", torch.div: "div", torch.true_divide: "div",
            operator.neg: "neg", torch.neg: "neg",
            operator.sub: "sub", torch.sub: "sub",
            torch.clone: "clone", torch.reshape: "view"}


_METHODS = {"div": "div", "true_divide": "div", "neg": "neg", "sub": "sub",
            "contiguous": "same", "clone": "clone", "detach": "same", "float": "float",
            "to": "to", "view": "view", "reshape": "view"}


def kind_of(n) -> str | None:
    """What a traced call is among the calls handled here (None: none of them)."""
    if n.op == "call_method":
        return _METHODS.get(n.target)
    if n.op != "call_function":
        return None
    try:
        return _functions().get(n.target)
    except TypeError:  # an unhashable target is none of them
        return None


def rewrite(b, n) -> bool:
    """Map one call handled here onto blocks; True when mapped or refused."""
    kind = kind_of(n)
    if kind is None:
        return False
    if kind == "div":
        return _div(b, n)
    if kind == "neg":
        return _neg(b, n)
    if kind == "sub":
        return _sub(b, n)
    if kind == "view":
        return _view_call(b, n)
    return _same(b, n, kind)


def _number(b, v):
    """``v`` as a plain number (a size worked out where it is one), or None."""
    v = functional._size_of(b, v) if hasattr(v, "op") else v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return None


def _scale(b, t: str, value: float) -> str:
    return b.add("Scale", functional._changed("Scale", {"value": value}), [(t, "in")])


def _div(b, n) -> bool:
    args, kwargs = list(n.args), dict(n.kwargs)
    x = args[0] if args else kwargs.get("input")
    y = args[1] if len(args) > 1 else kwargs.get("other")
    if kwargs.get("rounding_mode") is not None:
        b.bad.append(f"division with rounding_mode={kwargs['rounding_mode']!r} has no block")
        return True
    t = b.tensor(x)
    if t is None:
        if _number(b, x) is None:
            return False  # no tensor of a block (a recurrent state): not one of these
        b.bad.append("dividing a constant by a tensor has no block")
        return True
    c = _number(b, y)
    if c is None:
        b.bad.append("dividing by a tensor has no block (only by a constant: the Scale "
                     "block)")
        return True
    if c == 0:
        b.bad.append("dividing by zero has no block")
        return True
    b.val[n] = ("T", _scale(b, t, 1.0 / c))
    return True


def _neg(b, n) -> bool:
    t = b.tensor(n.args[0]) if n.args else None
    if t is None:
        return False
    b.val[n] = ("T", _scale(b, t, -1.0))
    return True


def _sub(b, n) -> bool:
    args, kwargs = list(n.args), dict(n.kwargs)
    x = args[0] if args else kwargs.get("input")
    y = args[1] if len(args) > 1 else kwargs.get("other")
    alpha = kwargs.get("alpha", args[2] if len(args) > 2 else 1)
    if alpha != 1:
        b.bad.append(f"subtraction with alpha={alpha!r} has no block")
        return True
    tx, ty = b.tensor(x), b.tensor(y)
    if tx is not None and ty is not None:
        b.val[n] = ("T", b.add("Add", {}, [(tx, "in"), (_scale(b, ty, -1.0), "in")]))
        return True
    if tx is not None and _number(b, y) is not None:
        b.bad.append(f"subtracting a constant ({y!r}) has no block")
    elif ty is not None and _number(b, x) is not None:
        b.bad.append(f"subtracting from a constant ({x!r} - a tensor) has no block")
    elif getattr(x if tx is None else y, "op", None) == "get_attr":
        b.bad.append(f"subtracting {_what(b, x if tx is None else y)} has no block")
    else:
        return False  # no tensor of a block (a recurrent state): not one of these
    return True


def _what(b, v) -> str:
    """What an operand is, for a message."""
    if hasattr(v, "op") and v.op == "get_attr":
        return f"the model's own tensor self.{v.target}"
    if hasattr(v, "op"):
        return str(v)
    return repr(v)


def _same(b, n, kind: str) -> bool:
    """``.contiguous()``, ``.clone()``, ``.detach()``, ``.float()``, ``.to(...)``."""
    args = list(n.args)
    t = b.tensor(args[0]) if args else None
    if t is None:
        return False
    extra = args[1:] + list(n.kwargs.values())
    if kind == "clone" and any(k != "memory_format" for k in n.kwargs) or \
            kind in ("same", "float") and args[1:]:
        return False
    dtype = (b.an.output_type(t, import_states.port_of(t) or "out").dtype
             if functional._shape(b, t) is not None else None)
    if kind == "to":
        bad = [v for v in extra if not _keeps_values(b, v)]
        if bad:
            b.bad.append(f".to({_what(b, bad[0])}) changes the type; no block converts "
                         "types")
            return True
        if dtype == "int64" and extra:
            return False
    if kind == "float" and dtype != "float32":
        b.bad.append(f".float() of a {dtype or 'non-float'} tensor (a type conversion) has "
                     "no block")
        return True
    b.val[n] = ("T", t)
    return True


def _keeps_values(b, v) -> bool:
    """A ``.to()`` argument that moves a tensor without changing its values: a
    device (``x.device``, ``"cpu"``), ``torch.float32``, ``non_blocking``, ``copy``."""
    import torch

    if hasattr(v, "op"):
        return b.is_meta(v)  # x.device, another tensor's device
    return isinstance(v, (str, bool, torch.device)) or v is torch.float32


def _view_call(b, n) -> bool:
    args = list(n.args)
    t = b.tensor(args[0]) if args else None
    shape = functional._shape(b, t) if t is not None else None
    if shape is None or n.kwargs:
        return False
    return view(b, n, t, shape, args[1:])


def view(b, n, t: str, shape: tuple, rest: list) -> bool:
    """``x.view(...)``/``x.reshape(...)`` → ``Reshape`` when the batch stays
    dim 0; True when mapped or refused, False to leave the call to the caller."""
    want = list(rest[0]) if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
    want = [functional._size_of(b, v) for v in want]
    if not want or any(v is functional._UNKNOWN for v in want):
        return False
    first, sample = want[0], want[1:]
    shown = f".{n.target if n.op == 'call_method' else n.target.__name__}(" + ", ".join(
        "batch" if v == shape[0] else str(v) for v in want) + ")"
    numbers = all(type(v) is int and v > 0 for v in sample)
    if first == shape[0] and not isinstance(first, int):
        unknown = [v for v in sample if not isinstance(v, int) or v == -1]
        if len(unknown) > 1:
            b.bad.append(f"{shown} has several sizes worked out from the input (-1 or a "
                         "variable size); a Reshape holds one")
            return True
        functional._reshape(b, n, t, sample)
        return True
    if first == -1 and numbers:
        if all(isinstance(s, int) for s in shape[1:]) and \
                functional._product(sample) == functional._product(shape[1:]):
            functional._reshape(b, n, t, sample)  # x.view(-1, 16 * 5 * 5): the -1 is the batch
            return True
        b.bad.append(f"{shown} folds the batch into other dimensions (a block keeps the "
                     f"batch as dim 0; the input is {_dims(shape)})")
        return True
    if type(first) is int and first > 0:
        b.bad.append(f"{shown} fixes the batch size to {first}; write x.size(0) or -1 for "
                     "the batch")
        return True
    return False


def _dims(shape) -> str:
    return "×".join(str(s) for s in shape)
