"""Tensor dimensions: concrete ints and symbolic sizes such as ``"T"``.

A shape is a tuple whose first entry is the batch dimension ``"N"`` and whose
other entries are ``int`` or ``str``.  A string is a symbolic size: a plain
name (``"T"``) or an integer expression over names (``"T-2"``,
``"(T-2)//2+1"``, ``"16*T"``).  Expressions are kept in a canonical linear
form ``a*T+b`` when they are linear in one name, so chains of edits do not
grow unreadable; other expressions stay as text.  Expressions are only ever
*evaluated* by :func:`evaluate`, a tiny arithmetic interpreter over
``+ - * //`` — never by ``eval``.
"""

from __future__ import annotations

import ast
import math
from typing import Mapping, Union

Dim = Union[int, str]
BATCH = "N"

#: Stand-in value of a symbolic size when a number is needed for an estimate
#: (FLOPs, activation memory).
NOMINAL = 32


def is_concrete(d: Dim) -> bool:
    return isinstance(d, int)


def _linear(d: Dim) -> tuple[str | None, int, int] | None:
    """Return ``(name, a, b)`` with ``d == a*name + b``, or None if not linear."""
    if isinstance(d, int):
        return (None, 0, d)
    try:
        tree = ast.parse(d, mode="eval").body
    except SyntaxError:
        return None
    return _lin(tree)


def _lin(node) -> tuple[str | None, int, int] | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return (None, 0, node.value)
    if isinstance(node, ast.Name):
        return (node.id, 1, 0)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _lin(node.operand)
        return None if inner is None else (inner[0], -inner[1], -inner[2])
    if isinstance(node, ast.BinOp):
        left, right = _lin(node.left), _lin(node.right)
        if left is None or right is None:
            return None
        if left[0] and right[0] and left[0] != right[0]:
            return None
        name = left[0] or right[0]
        if isinstance(node.op, ast.Add):
            return (name, left[1] + right[1], left[2] + right[2])
        if isinstance(node.op, ast.Sub):
            return (name, left[1] - right[1], left[2] - right[2])
        if isinstance(node.op, ast.Mult):
            if left[1] == 0:
                return (name, left[2] * right[1], left[2] * right[2])
            if right[1] == 0:
                return (name, right[2] * left[1], right[2] * left[2])
            return None
    return None


def _format_linear(name: str | None, a: int, b: int) -> Dim:
    if name is None or a == 0:
        return b
    term = name if a == 1 else f"-{name}" if a == -1 else f"{a}*{name}"
    if b == 0:
        return term
    return f"{term}+{b}" if b > 0 else f"{term}-{-b}"


def _wrap(d: Dim) -> str:
    s = str(d)
    return s if s.isidentifier() or s.lstrip("-").isdigit() else f"({s})"


def add(d: Dim, c: int) -> Dim:
    """``d + c``."""
    if isinstance(d, int):
        return d + c
    if c == 0:
        return d
    lin = _linear(d)
    if lin is not None:
        return _format_linear(lin[0], lin[1], lin[2] + c)
    return f"{_wrap(d)}+{c}" if c > 0 else f"{_wrap(d)}-{-c}"


def mul(a: Dim, b: Dim) -> Dim:
    """``a * b``; symbolic when either side is."""
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if isinstance(a, str) and isinstance(b, int):
        a, b = b, a
    if isinstance(a, int):
        if a == 1:
            return b
        lin = _linear(b)
        if lin is not None:
            return _format_linear(lin[0], lin[1] * a, lin[2] * a)
        return f"{a}*{_wrap(b)}"
    return f"{_wrap(a)}*{_wrap(b)}"


def floordiv(d: Dim, c: int) -> Dim:
    """``d // c`` for a positive int ``c``."""
    if isinstance(d, int):
        return d // c
    if c == 1:
        return d
    lin = _linear(d)
    if lin is not None and lin[1] % c == 0 and lin[2] % c == 0:
        return _format_linear(lin[0], lin[1] // c, lin[2] // c)
    return f"{_wrap(d)}//{c}"


def product(dims) -> Dim:
    out: Dim = 1
    for d in dims:
        out = mul(out, d)
    return out


def window_out(size: Dim, kernel: int, stride: int = 1, pad_total: int = 0,
               dilation: int = 1, ceil_mode: bool = False) -> Dim:
    """Output length of a sliding window (convolution or pooling).

    ``floor((size + pad_total - dilation*(kernel-1) - 1) / stride) + 1``, or
    with ``ceil_mode`` the ceiling, less a last window that would start in
    the right padding (PyTorch's ``pooling_output_shape``; the left padding
    is ``pad_total // 2``).

    A symbolic size in ceil mode gets one floor formula for every length:
    with ``inner = size + pad_total - span`` and ``left = pad_total // 2``, the
    last partial window is kept exactly when it starts before
    ``size + left``, which works out as
    ``(inner + min(stride, span - left) - 1) // stride + 1`` (the plain
    ceiling when ``stride <= span - left``, where no window can start in the
    padding).  It assumes ``left < span``, which PyTorch's "padding at most
    half the kernel" guarantees.
    """
    span = dilation * (kernel - 1) + 1
    if isinstance(size, int):
        inner = size + pad_total - span
        if ceil_mode:
            out = -(-inner // stride) + 1
            # PyTorch: the last window must start inside the (left-padded) input.
            if (out - 1) * stride >= size + pad_total // 2:
                out -= 1
            return out
        return math.floor(inner / stride) + 1
    inner = add(size, pad_total - span)
    if ceil_mode:
        inner = add(inner, min(stride, span - pad_total // 2) - 1)
    if stride == 1:
        return add(inner, 1)
    return add(floordiv(inner, stride), 1)


def transposed_out(size: Dim, kernel: int, stride: int, pad: int,
                   dilation: int, output_padding: int) -> Dim:
    """Output length of a transposed convolution."""
    delta = -2 * pad + dilation * (kernel - 1) + output_padding + 1
    return add(mul(add(size, -1), stride), delta)


def equal(a: Dim, b: Dim) -> bool:
    if a == b:
        return True
    la, lb = _linear(a), _linear(b)
    return la is not None and la == lb


def evaluate(d: Dim, env: Mapping[str, int] | None = None, default: int | None = None) -> int:
    """Value of a dimension with names taken from ``env`` (or ``default``).

    Raises:
        KeyError: a name is not in ``env`` and no default is given.
        ValueError: the expression uses anything but ints, names, + - * //.
    """
    if isinstance(d, int):
        return d
    env = env or {}

    def ev(node) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name):
            if node.id in env:
                return int(env[node.id])
            if default is None:
                raise KeyError(node.id)
            return default
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.FloorDiv) and right != 0:
                return left // right
        raise ValueError(f"not a dimension expression: {d!r}")

    try:
        tree = ast.parse(d, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"not a dimension expression: {d!r}") from exc
    return ev(tree)


def nominal(d: Dim) -> int:
    """A number for estimates: symbolic names count as :data:`NOMINAL`."""
    if isinstance(d, int):
        return d
    try:
        return max(evaluate(d, default=NOMINAL), 1)
    except ValueError:
        return NOMINAL


def numel(shape, skip_batch: bool = True) -> int:
    """Elements per sample (the batch dimension left out), symbolic sizes nominal."""
    n = 1
    for d in (shape[1:] if skip_batch else shape):
        n *= nominal(d)
    return n


def format_shape(shape) -> str:
    """``("N", 16, 8, 8)`` → ``"N×16×8×8"``."""
    return "×".join(_wrap(d) if isinstance(d, str) and d != BATCH else str(d) for d in shape)


def is_valid_name(s: str) -> bool:
    """A user-written symbolic size must be a plain identifier (e.g. ``"T"``)."""
    return isinstance(s, str) and s.isidentifier() and s != BATCH and s.isascii()
