"""Block parameters: what each kind accepts, and the check that normalises a value.

A :class:`Param` is one entry of a block spec's ``params`` (see
:mod:`graph.blocks.base`); :meth:`Param.check` turns a project's raw JSON
value into the value shape rules and code see, or raises
:class:`~graph.problems.ParamError` with a message that names the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import dims
from ..problems import ParamError

#: Parameter kinds and the values they accept.
KINDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "choice": "one of the listed choices",
    "size": "a whole number or a list of them (one per spatial dimension)",
    "ints": "a list of whole numbers",
    "shape": "a list of positive whole numbers or names such as \"T\"",
}


#: The largest whole number any parameter may take: more is a typo, never a
#: layer (and torch loops over counts such as ``num_layers``).
MAX_INT = 2**31 - 1


@dataclass(frozen=True)
class Param:
    """One parameter of a block.

    Args:
        name: PyTorch's parameter name (or ours, see product.md §2).
        kind: a key of :data:`KINDS`.
        default: the value when the project leaves it out.
        doc: one line for the inspector.
        min, max: inclusive bounds (``min_open``/``max_open`` make them strict).
        choices: the allowed values of a ``choice`` (or the extra strings a
            ``size`` accepts, such as ``"same"``).
        length: for ``size``, how many entries a list must have.
        nullable: ``None`` (JSON null) is allowed.
        required: there is no default; the user must give a value.
    """

    name: str
    kind: str
    default: Any
    doc: str = ""
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    choices: tuple = ()
    length: int | None = None
    nullable: bool = False
    required: bool = False
    advanced: bool = False

    def is_default(self, value: Any) -> bool:
        """Whether ``value`` means the default (``[1, 1]`` for a size default of 1)."""
        return same_value(self.default, value)

    def range_text(self) -> str:
        lo = "" if self.min is None else f"{'>' if self.min_open else '>='} {self.min:g}"
        hi = "" if self.max is None else f"{'<' if self.max_open else '<='} {self.max:g}"
        return " and ".join(x for x in (lo, hi) if x)

    def _bounded(self, v) -> None:
        if type(v) is int and abs(v) > MAX_INT and self.kind != "float":
            # no layer has 2³¹ of anything; torch would loop over it (train hangs)
            raise ParamError(f"{self.name} must be at most {MAX_INT:,} (2³¹ − 1), got {v:,}")
        if self.min is not None and (v < self.min or (self.min_open and v == self.min)):
            raise ParamError(f"{self.name} must be {self.range_text()}, got {v!r}")
        if self.max is not None and (v > self.max or (self.max_open and v == self.max)):
            raise ParamError(f"{self.name} must be {self.range_text()}, got {v!r}")

    def check(self, value: Any) -> Any:
        """Return the normalised value, or raise :class:`ParamError` saying why."""
        if value is None:
            if self.nullable:
                return None
            raise ParamError(f"{self.name} needs a value ({KINDS[self.kind]})")
        k = self.kind
        if k == "int":
            if type(value) is not int:
                raise ParamError(f"{self.name} must be a whole number, got {value!r}")
            self._bounded(value)
            return value
        if k == "float":
            if type(value) not in (int, float) or value != value or value in (float("inf"), float("-inf")):
                raise ParamError(f"{self.name} must be a finite number, got {value!r}")
            self._bounded(value)
            return float(value)
        if k == "bool":
            if type(value) is not bool:
                raise ParamError(f"{self.name} must be true or false, got {value!r}")
            return value
        if k == "choice":
            if not isinstance(value, (str, int, float)) or isinstance(value, bool) or value not in self.choices:
                options = ", ".join(repr(c) for c in self.choices)
                raise ParamError(f"{self.name} must be one of {options}, got {value!r}")
            return value
        if k == "size":
            if isinstance(value, str):
                if value in self.choices:
                    return value
                raise ParamError(f"{self.name} must be a whole number{', ' + ' or '.join(map(repr, self.choices)) if self.choices else ''}, got {value!r}")
            if type(value) is int:
                self._bounded(value)
                return value
            if isinstance(value, (list, tuple)):
                if self.length is not None and len(value) != self.length:
                    raise ParamError(f"{self.name} must have {self.length} entries (one per spatial dimension), got {len(value)}")
                if not value or any(type(v) is not int for v in value):
                    raise ParamError(f"{self.name} must be a list of whole numbers, got {value!r}")
                for v in value:
                    self._bounded(v)
                return tuple(value)
            raise ParamError(f"{self.name} must be a whole number or a list of them, got {value!r}")
        if k == "ints":
            if not isinstance(value, (list, tuple)) or any(type(v) is not int for v in value):
                raise ParamError(f"{self.name} must be a list of whole numbers, got {value!r}")
            if self.length is not None and len(value) != self.length:
                raise ParamError(f"{self.name} must have {self.length} entries, got {len(value)}")
            for v in value:
                self._bounded(v)
            return tuple(value)
        if k == "shape":
            if not isinstance(value, (list, tuple)) or not value:
                raise ParamError(f"{self.name} must be a non-empty list of sizes, e.g. [1, 28, 28] or [\"T\"], got {value!r}")
            out = []
            for v in value:
                if type(v) is int:
                    if v <= 0:
                        raise ParamError(f"{self.name}: every size must be positive, got {v}")
                    if v > MAX_INT:
                        raise ParamError(f"{self.name}: every size must be at most "
                                         f"{MAX_INT:,} (2³¹ − 1), got {v:,}")
                elif isinstance(v, str):
                    if not dims.is_valid_name(v):
                        raise ParamError(f"{self.name}: {v!r} is not a valid size name (use a name such as \"T\")")
                else:
                    raise ParamError(f"{self.name}: sizes must be whole numbers or names, got {v!r}")
                out.append(v)
            return tuple(out)
        raise AssertionError(f"unknown parameter kind {k}")


def same_value(a: Any, b: Any) -> bool:
    """Whether two parameter values mean the same: a list equals the tuple of
    its entries, a scalar equals a list that repeats it (``3`` and ``[3, 3]``
    for a size), and numbers compare by value but ``True`` is not ``1``."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        ta = tuple(a) if isinstance(a, (list, tuple)) else None
        tb = tuple(b) if isinstance(b, (list, tuple)) else None
        if ta is None or tb is None:
            seq, scalar = (ta, b) if ta is not None else (tb, a)
            return all(x == scalar for x in seq)
        return ta == tb
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)
