"""How a block becomes PyTorch source: :class:`Emit`, and the helpers that
write literals and calls (parameter values only ever reach code through ``repr``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .params import same_value


@dataclass(frozen=True)
class Emit:
    """How one node becomes PyTorch source.

    Args:
        init: constructor expression assigned to ``self.<name>`` in
            ``__init__`` (e.g. ``"nn.Conv2d(1, 16, kernel_size=3)"``), or None
            for blocks that are plain operations in ``forward``.
        forward: None for the usual ``y = self.<name>(x)``; else a template
            formatted with ``out`` (the result variable), ``self`` (the layer
            attribute, e.g. ``self.conv1``) and one entry per input port (the
            variable name, or for a variadic port a list of names — use a
            callable for those).  A callable receives that mapping and
            returns the line(s).
        helpers: names of helper classes/functions (see
            :func:`graph.blocks.registry.register_helper`) the code uses.
    """

    init: str | None = None
    forward: str | Callable[[Mapping[str, Any]], str] | None = None
    helpers: tuple[str, ...] = ()


def lit(v: Any) -> str:
    """A Python literal for a parameter value (lists become tuples).

    Strings are their ``repr``, in double quotes where that needs no escape
    (black's preferred quotes; the same characters otherwise).
    """
    if isinstance(v, (list, tuple)):
        inner = ", ".join(lit(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    text = repr(v)
    if isinstance(v, str) and text[0] == "'" and '"' not in v:
        # repr chose single quotes and v has no double quote: nothing inside
        # is an escaped quote, so only the delimiters change
        return f'"{text[1:-1]}"'
    return text


def call(func: str, *args: Any, defaults: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """Source of a call, leaving out keyword arguments equal to PyTorch's defaults."""
    defaults = defaults or {}
    parts = [a if isinstance(a, Src) else lit(a) for a in args]
    for k, v in kwargs.items():
        # a value that names its source (a unit class's argument) is always written
        if k in defaults and same_value(defaults[k], v) and not hasattr(v, "source"):
            continue
        parts.append(f"{k}={v if isinstance(v, Src) else lit(v)}")
    return f"{func}({', '.join(parts)})"


class Src(str):
    """A string that is already source code (not to be quoted by :func:`call`)."""
