"""Units: named sub-networks used as block types (``docs/project-format.md``, version 2).

A :class:`UnitDef` is a name, parameters with defaults, and an inner
:class:`~graph.graph.Graph` whose ``Input`` and ``Output`` nodes are the
unit's ports (named after their ids, in node order).  An instance is an
ordinary node whose type is the unit's name; its spec is a :class:`UnitSpec`
made from the definition, so analysis, the file format and codegen treat it
through the same interface as a catalogue block.

Algorithm of the shape rule: the inner graph is analysed by an
:class:`~graph.analysis.Analyzer` whose ``Input`` nodes are seeded with the
instance's input tensor types and whose ``"$name"`` parameter values are
replaced by the instance's parameters.  ``repeat: N`` chains N such runs, each
fed the previous copy's output.  Runs are cached on the definition by
(resolved parameters, input types); the cache is dropped whenever the
definition (or a unit it uses) changes, so 16 instances of one bottleneck
with the same shapes cost one inner analysis, and an edit inside a unit
re-checks only that unit's instances.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from . import blocks
from .blocks.base import TT, BlockSpec, Ctx, Param, ParamError, Port
from .names import CODE_NAMES
from .problems import ERROR, Problem, ShapeError

#: The palette family of units.
FAMILY = "units"


def unit_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a unit, or None if it can."""
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
        return f"a unit name must be a Python identifier (letters, digits, _), got {name!r}"
    if keyword.iskeyword(name) or name in CODE_NAMES:
        return f"{name!r} is a Python keyword or a name the generated code uses; it cannot " \
               "name a unit"
    if blocks.get(name) is not None:
        return f"{name!r} is a catalogue block; a unit must not shadow it (choose another name)"
    return None


def unit_param_problem(name: object) -> str | None:
    """Why ``name`` cannot name a unit parameter (an argument of the unit's
    class in the generated code), or None if it can."""
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii() \
            or name.startswith("_"):
        return (f"a unit parameter name must be a Python identifier starting with a letter, "
                f"got {name!r}")
    if keyword.iskeyword(name) or name in CODE_NAMES:
        return f"{name!r} is a Python keyword or a name the generated code uses"
    return None


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

    def __repr__(self) -> str:
        return self.source


class SymInt(Sym, int):
    def __new__(cls, value: int, source: str):
        obj = int.__new__(cls, value)
        obj.source = source
        return obj

    __str__ = int.__repr__


class SymFloat(Sym, float):
    def __new__(cls, value: float, source: str):
        obj = float.__new__(cls, value)
        obj.source = source
        return obj

    __str__ = float.__repr__


class SymStr(Sym, str):
    def __new__(cls, value: str, source: str):
        obj = str.__new__(cls, value)
        obj.source = source
        return obj

    def __str__(self) -> str:
        return str.__str__(self)


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


@dataclass(frozen=True)
class UnitParam(Param):
    """A unit parameter: its kind is the JSON type of its default."""

    def check(self, value: Any) -> Any:
        if self.kind == "str":
            if not isinstance(value, str):
                raise ParamError(f"{self.name} must be a string, got {value!r}")
            return value
        if self.kind == "any":
            if value is None:
                return None
            return freeze(value)
        return super().check(value)


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "str"
    if isinstance(default, (list, tuple)) and default and all(type(v) is int for v in default):
        return "ints"
    return "any"


def freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value


@dataclass
class _Once:
    """One copy of a unit analysed with given parameters and inputs."""

    outs: dict[str, TT] | None
    inner: Mapping[str, Any]  # relative dotted id → NodeResult
    problems: list[Problem]  # node ids relative to the unit
    error: Problem | None
    n_params: int = 0
    flops: int = 0
    activations: int = 0


_EMPTY: Mapping[str, Any] = MappingProxyType({})
#: the units being analysed, outermost first (a guard against recursion that
#: slipped past the file and editing checks)
_ACTIVE: list[str] = []


class UnitDef:
    """A unit definition.

    Attributes:
        name: the unit's type name (a Python identifier).
        params: parameter name → default value.
        graph: the inner network; its Input/Output nodes are the ports.
        version: bumped on every change of the definition (or of a unit it uses).
    """

    def __init__(self, name: str, params: dict | None = None, graph=None):
        from .graph import Graph

        self.name = name
        self.params = dict(params or {})
        self.graph = graph if graph is not None else Graph()
        self.version = 0
        #: (resolved params, input types) → :class:`_Once`; dropped by :meth:`touch`
        self.runs: dict = {}
        self._specs: dict[int, UnitSpec] = {}
        self._spec_key: tuple | None = None

    def touch(self) -> None:
        """Note a change: drop the cached analyses (and the spec if ports or
        parameters changed)."""
        self.version += 1
        self.runs.clear()

    def input_ids(self) -> list[str]:
        return [n.id for n in self.graph.ends("input")]

    def output_ids(self) -> list[str]:
        return [n.id for n in self.graph.ends("output")]

    def uses(self) -> set[str]:
        """Names of the units whose instances are inside this one."""
        return {n.type for n in self.graph.nodes.values()
                if blocks.get(n.type) is None}

    def spec(self, repeat: int = 1) -> "UnitSpec":
        """The block spec of an instance (made once per ports/parameters)."""
        key = (tuple(self.input_ids()), tuple(self.output_ids()),
               repr(sorted(self.params.items())))
        if key != self._spec_key:
            self._specs = {}
            self._spec_key = key
        spec = self._specs.get(repeat)
        if spec is None:
            spec = self._specs[repeat] = _make_spec(self, repeat)
        return spec

    def copy(self) -> "UnitDef":
        """A deep copy (its graph not yet attached to a units table)."""
        import copy as _copy

        return UnitDef(self.name, _copy.deepcopy(self.params), self.graph.copy(units=False))

    # ------------------------------------------------------------ analysis
    def run_once(self, p: Mapping[str, Any], ins: Mapping[str, Any]) -> _Once:
        """The inner network analysed with parameters ``p`` and inputs ``ins``
        (port → one tensor type); cached."""
        key = (freeze(dict(p)), tuple(sorted(ins.items())))
        hit = self.runs.get(key)
        if hit is None:
            hit = self.runs[key] = self._analyse(p, ins)
        return hit

    def _analyse(self, p: Mapping[str, Any], ins: Mapping[str, TT]) -> _Once:
        from .analysis import Analyzer
        from .problems import Code

        if self.name in _ACTIVE:
            cycle = " → ".join(_ACTIVE[_ACTIVE.index(self.name):] + [self.name])
            err = Problem(ERROR, Code.CYCLE, None, f"unit {self.name} uses itself: {cycle}")
            return _Once(None, _EMPTY, [], err)
        _ACTIVE.append(self.name)
        try:
            # named values (codegen of a class) stay named through nested units
            symbolic = any(isinstance(v, Sym) for v in p.values()) or any(
                isinstance(d, Sym) for tt in ins.values() for d in tt.shape)
            an = Analyzer(self.graph, memory=None, watch=False, seeds=dict(ins), bindings=p,
                          symbolic=symbolic)
            an.run_network()
        finally:
            _ACTIVE.pop()
        inner: dict[str, Any] = {}
        problems: list[Problem] = []
        error = None
        n_params = flops = activations = 0
        for nid in an._order:
            r = an.results[nid]
            inner[nid] = r
            for k, rr in r.inner.items():
                inner[f"{nid}.{k}"] = rr
            for pr in r.problems:
                problems.append(pr)
                if error is None and pr.severity == ERROR:
                    error = pr
            n_params += r.n_params
            flops += r.flops
            activations += r.activations
        outs = None
        if error is None:
            outs = {}
            for oid in self.output_ids():
                r = an.results.get(oid)
                if r is None or not r.outs:
                    error = Problem(ERROR, Code.UNCONNECTED, oid, f"output {oid!r} receives nothing")
                    outs = None
                    break
                outs[oid] = r.outs["out"]
        return _Once(outs, inner, problems, error, n_params, flops, activations)


@dataclass
class UnitRun:
    """An instance analysed: all its copies together."""

    outs: dict[str, TT] | None
    inner: Mapping[str, Any]
    problems: list[Problem]
    error: ShapeError | None
    n_params: int = 0
    flops: int = 0
    activations: int = 0


@dataclass(frozen=True, eq=False)
class UnitSpec(BlockSpec):
    """The spec of an instance of a unit (``repeat`` copies in a chain)."""

    unit: Any = None
    repeat: int = 1

    def run(self, p: Mapping[str, Any], ins: Mapping[str, Any]) -> UnitRun:
        """All copies analysed with the instance's parameters and inputs."""
        unit = self.unit
        first = {port: tts[0] for port, tts in ins.items() if tts}
        key = ("run", self.repeat, freeze(dict(p)), tuple(sorted(first.items())))
        hit = unit.runs.get(key)
        if hit is not None:
            return hit
        inner: dict[str, Any] = {}
        problems: list[Problem] = []
        error = None
        total = [0, 0, 0]
        cur = first
        outs = None
        n = self.repeat
        for k in range(n):
            once = unit.run_once(p, cur)
            prefix = f"{k}." if n > 1 else ""
            for rid, r in once.inner.items():
                inner[prefix + rid] = r
            for pr in once.problems:
                problems.append(_moved(pr, prefix))
            total[0] += once.n_params
            total[1] += once.flops
            total[2] += once.activations
            if once.error is not None:
                err = once.error
                where = f"inner block {prefix}{err.node}" if err.node else "inside"
                msg = err.message
                if n > 1:
                    got = next(iter(cur.values()), None)
                    msg = (f"copy {k + 1} of {n} (its input {got}) fails: {where} — {msg}")
                else:
                    msg = f"{where} — {msg}"
                error = ShapeError(err.code, msg)
                outs = None
                break
            outs = once.outs
            if k + 1 < n:
                cur = {self.inputs[0].name: next(iter(outs.values()))}
        hit = unit.runs[key] = UnitRun(outs, inner, problems, error, *total)
        return hit

    def inner_results(self, ctx: Ctx, node) -> tuple[Mapping[str, Any], list[Problem]]:
        """The inner nodes' results by relative dotted id, and their problems
        lifted to the instance (node ids ``<instance>.<inner>``)."""
        run = self.run(ctx.p, ctx.ins)
        lifted = [Problem(pr.severity, pr.code, f"{node.id}.{pr.node}" if pr.node else node.id,
                          f"in {node.label()}: {pr.message}", pr.port)
                  for pr in run.problems]
        return run.inner, lifted


def _moved(pr: Problem, prefix: str) -> Problem:
    if not prefix:
        return pr
    return Problem(pr.severity, pr.code, prefix + pr.node if pr.node else pr.node,
                   pr.message, pr.port)


def _rule(ctx: Ctx):
    run = ctx.spec.run(ctx.p, ctx.ins)
    if run.error is not None:
        raise run.error
    return dict(run.outs)


def _count(ctx: Ctx) -> int:
    return ctx.spec.run(ctx.p, ctx.ins).n_params


def _flops(ctx: Ctx) -> int:
    return ctx.spec.run(ctx.p, ctx.ins).flops


def _activations(ctx: Ctx) -> int:
    return ctx.spec.run(ctx.p, ctx.ins).activations


def _make_spec(unit: UnitDef, repeat: int) -> UnitSpec:
    params = tuple(UnitParam(name, _kind(default), freeze(default) if isinstance(
        default, list) else default, f"unit parameter (default {default!r})",
        nullable=default is None)
        for name, default in unit.params.items())
    return UnitSpec(
        type=unit.name, family=FAMILY,
        doc=f"Unit {unit.name}: a sub-network defined in this project.",
        rule=_rule, count=_count, flops=_flops, activations=_activations,
        inputs=tuple(Port(i, dtype="any") for i in unit.input_ids()),
        outputs=tuple(Port(o) for o in unit.output_ids()),
        params=params, unit=unit, repeat=repeat)


def unit_cycle(units: Mapping[str, UnitDef], start: str) -> list[str] | None:
    """A chain of unit names from ``start`` back to itself (``[A, B, A]``),
    or None when ``start`` never uses itself."""
    path: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> list[str] | None:
        if name in path:
            return path[path.index(name):] + [name]
        if name in seen or name not in units:
            return None
        seen.add(name)
        path.append(name)
        for used in sorted(units[name].uses()):
            found = visit(used)
            if found:
                return found
        path.pop()
        return None

    return visit(start)


def dependents(units: Mapping[str, UnitDef], name: str) -> list[str]:
    """The units that use ``name``, directly or through others."""
    out: list[str] = []
    todo = [name]
    while todo:
        cur = todo.pop()
        for other, u in units.items():
            if other not in out and other != name and cur in u.uses():
                out.append(other)
                todo.append(other)
    return out
