"""Parameter values inside units: ``"$name"`` references and named values.

Inside a unit a parameter value ``"$name"`` stands for the unit's parameter
``name``; :func:`bind` puts the instance's value in its place.  Code
generation binds *named* values instead (:class:`Sym`: an int, float or str
that remembers the source expression it stands for), so the layers of a
unit's class come out written with its constructor's arguments.
"""

from __future__ import annotations

from typing import Any, Mapping


def param_refs(value: Any) -> list[str]:
    """The unit parameters a value refers to (``"$channels"`` → ``["channels"]``)."""
    if isinstance(value, str) and value.startswith("$") and len(value) > 1:
        return [value[1:]]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in param_refs(v)]
    return []


def bind(value: Any, bindings: Mapping[str, Any]) -> Any:
    """``value`` with every ``"$name"`` replaced by ``bindings[name]``
    (names not bound are left as they are)."""
    if isinstance(value, str) and value.startswith("$") and value[1:] in bindings:
        return bindings[value[1:]]
    if isinstance(value, (list, tuple)):
        return [bind(v, bindings) for v in value]
    return value


class Sym:
    """Mixin of the values that carry the source expression they stand for
    (a unit class's constructor argument): ``repr`` writes the name, so
    :func:`graph.blocks.base.lit` puts ``channels`` into the code, not ``64``;
    ``str`` stays the value (messages and shapes)."""

    source: str

    def __new__(cls, value: Any, source: str):
        obj = cls.__mro__[2].__new__(cls, value)  # int, float or str
        obj.source = source
        return obj

    def __repr__(self) -> str:
        return self.source

    def __str__(self) -> str:
        return type(self).__mro__[2].__repr__(self) if not isinstance(self, str) \
            else str.__str__(self)


class SymInt(Sym, int):
    pass


class SymFloat(Sym, float):
    pass


class SymStr(Sym, str):
    pass


def symbol(value: Any, source: str) -> Any:
    """``value`` as a :class:`Sym` named ``source`` (bools, None and lists
    stay plain: they cannot carry a name)."""
    if type(value) is int:
        return SymInt(value, source)
    if type(value) is float:
        return SymFloat(value, source)
    if type(value) is str:
        return SymStr(value, source)
    return value


def plain(value: Any) -> Any:
    """``value`` without any :class:`Sym` (what parameter checks see)."""
    if isinstance(value, Sym):
        return type(value).__mro__[2](value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def rewrap(checked: Any, bound: Any) -> Any:
    """A checked parameter value given back the names its bound value had."""
    if isinstance(bound, Sym):
        return symbol(checked, bound.source) if checked == bound else checked
    if isinstance(bound, (list, tuple)) and isinstance(checked, (list, tuple)) \
            and len(checked) == len(bound):
        return tuple(rewrap(c, b) for c, b in zip(checked, bound))
    return checked


def freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value
