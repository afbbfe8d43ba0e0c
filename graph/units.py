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
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from . import blocks
from .blocks.base import TT, BlockSpec, Ctx, Param, ParamError, Port
from .names import CODE_NAMES
from .unit_values import Sym, freeze
from .problems import ERROR, Code, Problem, ShapeError

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
#: Inner analysers kept per unit (one per distinct parameters and input types).
KEPT_ANALYSERS = 64
#: the units being analysed, outermost first (a guard against recursion that
#: slipped past the file and editing checks)
_ACTIVE: list[str] = []

#: The :class:`graph.analysis.Analyzer` class, which analyses a unit's inner
#: network.  The analyser imports graphs, whose nodes find their specs here, so
#: this module cannot import it; :mod:`graph.analysis` hands itself in when it
#: is imported (importing any ``graph`` module imports it first, through the
#: package's ``__init__``).
_ANALYZER: list = []


def use_analyzer(analyzer_class) -> None:
    """Set the class that analyses units' inner networks (done by :mod:`graph.analysis`)."""
    _ANALYZER[:] = [analyzer_class]


class UnitDef:
    """A unit definition.

    Attributes:
        name: the unit's type name (a Python identifier).
        params: parameter name → default value (fixed once the unit is
            defined: a new set of parameters is a new definition, see
            :meth:`graph.graph.Graph.replace_unit`).
        graph: the inner network (a :class:`graph.graph.Graph`, given by the
            caller: graphs hold units, so this module does not import them); its
            Input/Output nodes are the ports.
        version: bumped on every change of the definition (or of a unit it uses).
    """

    def __init__(self, name: str, params: dict | None, graph):
        self.name = name
        self.params = dict(params or {})
        self.graph = graph
        self.version = 0
        #: (resolved params, input types) → :class:`_Once`; dropped by :meth:`touch`
        self.runs: dict = {}
        self._specs: dict[int, UnitSpec] = {}
        self._spec_key: tuple | None = None
        self._spec_seen = -1
        #: (resolved params, input types) → an inner :class:`Analyzer` kept
        #: across edits, so an edit inside the unit re-checks only what it
        #: changes there (an edit's cost does not grow with the unit's size)
        self._analyzers: dict = {}

    def touch(self, deep: bool = False) -> None:
        """Note a change: drop the cached results (the spec is remade when
        ports or parameters changed).

        Args:
            deep: a unit used inside this one changed: the kept inner analysers
                redo every node (they follow edits of this unit's own graph
                themselves, node by node).
        """
        self.version += 1
        self.runs.clear()
        if deep:
            for an in self._analyzers.values():
                an.invalidate()

    def input_ids(self) -> list[str]:
        return [n.id for n in self.graph.ends("input")]

    def output_ids(self) -> list[str]:
        return [n.id for n in self.graph.ends("output")]

    def uses(self) -> set[str]:
        """Names of the units whose instances are inside this one."""
        return {n.type for n in self.graph.nodes.values()
                if blocks.get(n.type) is None}

    def spec(self, repeat: int = 1) -> "UnitSpec":
        """The block spec of an instance (made once per set of ports; asked
        for on every look-up of an instance's spec, so cheap when unchanged)."""
        seen = self.graph.structure_version
        if seen != self._spec_seen:
            self._spec_seen = seen
            key = (tuple(self.input_ids()), tuple(self.output_ids()))
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
            hit = self.runs[key] = self._analyse(p, ins, key)
        return hit

    def _analyser(self, p: Mapping[str, Any], ins: Mapping[str, TT], key):
        Analyzer = _ANALYZER[0]
        an = self._analyzers.get(key)
        if an is None:
            if len(self._analyzers) >= KEPT_ANALYSERS:  # the oldest goes
                self._analyzers.pop(next(iter(self._analyzers))).close()
            # named values (codegen of a class) stay named through nested units
            symbolic = any(isinstance(v, Sym) for v in p.values()) or any(
                isinstance(d, Sym) for tt in ins.values() for d in tt.shape)
            an = self._analyzers[key] = Analyzer(self.graph, memory=None, seeds=dict(ins),
                                                 bindings=dict(p), symbolic=symbolic)
        return an

    def _analyse(self, p: Mapping[str, Any], ins: Mapping[str, TT], key) -> _Once:
        if self.name in _ACTIVE:
            cycle = " → ".join(_ACTIVE[_ACTIVE.index(self.name):] + [self.name])
            err = Problem(ERROR, Code.CYCLE, None, f"unit {self.name} uses itself: {cycle}")
            return _Once(None, _EMPTY, [], err)
        _ACTIVE.append(self.name)
        try:
            an = self._analyser(p, ins, key)
            an.run_network()
        finally:
            _ACTIVE.pop()
        inner: dict[str, Any] = {}
        problems: list[Problem] = []
        error = None
        n_params = flops = activations = 0
        for nid in an.network_order():
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
    #: the last (params, inputs, version, run): the shape rule, counts and inner
    #: results of one node analysis ask for the same run
    _last: list = field(default_factory=lambda: [None, None, -1, None], repr=False)

    def run(self, p: Mapping[str, Any], ins: Mapping[str, Any]) -> UnitRun:
        """All copies analysed with the instance's parameters and inputs."""
        unit = self.unit
        last = self._last
        if last[0] is p and last[1] is ins and last[2] == unit.version:
            return last[3]
        hit = self._run(p, ins)
        last[:] = [p, ins, unit.version, hit]
        return hit

    def _run(self, p: Mapping[str, Any], ins: Mapping[str, Any]) -> UnitRun:
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
