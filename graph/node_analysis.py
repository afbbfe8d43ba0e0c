"""One node's analysis: parameters resolved and checked, inputs read, shape rule run.

:class:`NodeAnalyser` works out one node's :class:`NodeResult` from its
predecessors' results: the node's parameters are the spec's defaults
overridden by what the user set (each checked, ``"$name"`` values bound to
a unit's parameters), its input tensor types are its predecessors' outputs
on the edges into each port (the port's dtype checked), and its spec's shape
rule gives the output types, or a problem; then the spec's counts (parameters,
FLOPs, activations) and the run of sigmoid-like layers before it.
:class:`graph.analysis.Analyzer` decides which nodes to (re)analyse, and in
which order.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from .blocks import FLOAT, INT, TT, Ctx, P
from .blocks.initialisation import init_problem
from .graph import Graph, Node
from .problems import ERROR, WARNING, Code, ParamError, Problem, ShapeError
from .unit_values import bind, param_refs, plain, rewrap

#: Sigmoid/tanh layers in a row (without normalisation) before we warn.
SATURATING_LIMIT = 6


#: Shared, read-only stand-ins for a node result's empty parts: a big graph's
#: analysis makes one result per node, and most have no problems.
_NONE: tuple = ()
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(slots=True)
class NodeResult:
    """What analysis knows about one node (read-only for callers)."""

    outs: dict[str, TT] | None = None
    problems: Sequence[Problem] = _NONE
    params: P | None = None
    inferred: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    n_params: int = 0
    flops: int = 0
    activations: int = 0
    ins: Mapping[str, list[TT]] = field(default_factory=lambda: _EMPTY)
    saturating_depth: int = 0
    #: of a unit instance: its inner nodes' results by dotted id relative to
    #: it (``c1``, ``0.c1`` in a repeated one, ``b.c1`` in a nested one)
    inner: Mapping[str, "NodeResult"] = field(default_factory=lambda: _EMPTY)

    @property
    def ok(self) -> bool:
        return self.outs is not None


@dataclass(slots=True)
class NodeAnalyser:
    """Analyses the nodes of one graph, one at a time.

    Args:
        graph: the graph the nodes belong to.
        results: node id → result, filled in by the caller in topological
            order (read here for a node's inputs).
        seeds: Input node id → the tensor type it gives (a unit's Inputs).
        bindings: unit parameter → value, for ``"$name"`` parameter values.
        symbolic: seeds and bindings carry :class:`graph.units.Sym` values
            that name their source (codegen of a unit's class), so results
            made from them are kept out of the shared caches.
    """

    graph: Graph
    results: Mapping[str, NodeResult]
    seeds: Mapping[str, TT] | None = None
    bindings: Mapping[str, Any] | None = None
    symbolic: bool = False

    def analyse(self, node: Node, cyclic: set[str], strict: bool) -> NodeResult:
        """The node's result from its predecessors' (already in ``results``).

        Args:
            node: the node to analyse.
            cyclic: ids of the nodes on a cycle (each gets that problem only).
            strict: re-raise an unexpected exception from the spec's functions
                (:data:`graph.analysis.STRICT`) instead of reporting it.
        """
        res = NodeResult()
        spec = node.spec
        if spec is None:
            _problem(res, node, Code.UNKNOWN_TYPE, f"unknown block type {node.type!r}")
            return res
        if node.id in cyclic:
            _problem(res, node, Code.CYCLE, "is part of a cycle; data cannot flow in a loop — "
                     "remove one of the edges that close it")
            return res

        if self.seeds is not None and node.id in self.seeds:
            res.params = _default_params(spec)
            seed = self.seeds[node.id]
            res.outs = {"out": seed} if self.symbolic else _one_output("out", seed)
            return res

        # parameters: the spec's defaults, overridden by what the user set
        # (nodes that set none share their spec's defaults: read-only)
        given = node.params
        wrapped = None
        if self.bindings is not None and given:
            given, wrapped = self._bind(node, given, res)
        p = P(_defaults(spec)) if given else _default_params(spec)
        bad = False
        if given:
            index = spec.param_index
            for name, value in given.items():
                prm = index.get(name)
                if prm is None:
                    bad = True
                    if name in spec.inferred:
                        _problem(res, node, Code.PARAM, f"{name} is inferred from the input "
                                 "shape and must not be given; remove it")
                    else:
                        close = difflib.get_close_matches(name, list(index), n=1)
                        hint = f"; did you mean {close[0]!r}?" if close else ""
                        _problem(res, node, Code.UNKNOWN_PARAM, f"has no parameter {name!r}{hint}")
                    continue
                try:
                    p[name] = prm.check(value)
                except ParamError as exc:
                    bad = True
                    _problem(res, node, Code.PARAM, str(exc))
        for prm in _required(spec):
            if prm.name not in given:
                bad = True
                _problem(res, node, Code.PARAM, f"{prm.name} has no default; set {prm.name} "
                         f"({prm.doc})")
        if wrapped:
            for name, value in wrapped.items():
                if name in p:
                    p[name] = rewrap(p[name], value)
        if given and (why := init_problem(p)):
            # an error, but shapes do not depend on it: inference goes on downstream
            _problem(res, node, Code.PARAM, why)
        res.params = p

        # inputs
        ins: dict[str, list[TT]] = {}
        blocked = False
        results = self.results
        all_in = self.graph.in_edges(node.id)
        single = len(spec.inputs) == 1
        for port in spec.inputs:
            edges = all_in if single else [e for e in all_in if e.target_port == port.name]
            if not edges:
                if not port.optional:
                    what = "its input" if single else f"input {port.name!r}"
                    _problem(res, node, Code.UNCONNECTED, f"{what} is not connected; connect a "
                             "block's output to it", port=port.name)
                    blocked = True
                continue
            if len(edges) > 1 and not port.variadic:
                _problem(res, node, Code.EXTRA_EDGE, f"input {port.name!r} has {len(edges)} "
                         "incoming edges but takes only one; remove the extra edges (use Add "
                         "or Concat to combine tensors)", port=port.name)
                blocked = True
                continue
            tts = []
            for e in edges:
                r = results.get(e.source)
                if r is None or r.outs is None:
                    blocked = True  # the problem is upstream and reported there
                    break
                tt = r.outs.get(e.source_port)
                if tt is None:
                    _problem(res, node, Code.BAD_EDGE, f"edge from "
                             f"{self.graph.nodes[e.source].label()} uses unknown output port "
                             f"{e.source_port!r}", port=port.name)
                    blocked = True
                    break
                if port.dtype == "float" and tt.dtype != FLOAT:
                    _problem(res, node, Code.DTYPE, f"expects float32 input but receives {tt} "
                             f"of integer type {tt.dtype} (token ids?); put an Embedding before "
                             "it, or set the Input's dtype to float32", port=port.name)
                    blocked = True
                elif port.dtype == "int" and tt.dtype != INT:
                    _problem(res, node, Code.DTYPE, f"expects int64 token ids but receives {tt} "
                             f"of type {tt.dtype}; set the Input's dtype to int64", port=port.name)
                    blocked = True
                tts.append(tt)
            ins[port.name] = tts
        if len(ins) == 1:
            (only, got), = ins.items()
            if len(got) == 1 and not self.symbolic:
                ins = _one_input(only, got[0])  # shared by all nodes fed this type
        res.ins = ins
        if bad or blocked:
            return res

        # shape rule
        ctx = Ctx(spec, p, ins)
        try:
            out = spec.rule(ctx)
        except ShapeError as exc:
            _problem(res, node, exc.code, exc.message, port=exc.port, fix=exc.fix)
            _inner(spec, ctx, node, res)
            return res
        except Exception as exc:  # a bug in a rule must not take the editor down
            if strict:
                raise
            _problem(res, node, Code.SIZE, f"could not work out the output shape ({exc})")
            return res
        outs = out if isinstance(out, dict) else {spec.outputs[0].name: out} \
            if self.symbolic else _one_output(spec.outputs[0].name, out)
        for tt in outs.values():
            if any(type(d) is int and d <= 0 for d in tt.shape[1:]):
                _problem(res, node, Code.ZERO_SIZE, f"its output size reaches {tt}, which is empty; "
                        "use a smaller kernel or stride, more padding, or a larger input")
                return res
        ctx.outs = outs
        res.outs = outs
        res.inferred = ctx.inferred
        _inner(spec, ctx, node, res)
        try:
            res.n_params = spec.count(ctx)
            res.flops = spec.flops(ctx)
            res.activations = spec.activations(ctx)
        except Exception:
            if strict:
                raise
        depth = 0
        if spec.family != "normalization":
            for e in self.graph.in_edges(node.id):
                r = results.get(e.source)
                if r is not None and r.saturating_depth > depth:
                    depth = r.saturating_depth
            if spec.saturating:
                depth += 1
                if depth == SATURATING_LIMIT + 1:
                    _problem(res, node, Code.SATURATING, f"is the {depth}th sigmoid/tanh-like layer in a row "
                            "without normalisation; gradients will vanish — use ReLU/GELU or "
                            "add BatchNorm/LayerNorm", severity=WARNING)
        res.saturating_depth = depth
        return res

    def _bind(self, node: Node, given: dict, res: NodeResult) -> tuple[dict, dict | None]:
        """``given`` with each ``"$name"`` replaced by the unit parameter's
        value, and (symbolic) the bound values that carry a name, by parameter."""
        out = {}
        wrapped = None
        for name, value in given.items():
            refs = param_refs(value)
            for ref in refs:
                if ref not in self.bindings:
                    _problem(res, node, Code.PARAM, f"{name} refers to ${ref}, which is not a "
                             "parameter of the unit")
            if refs:
                value = bind(value, self.bindings)
                if self.symbolic:
                    wrapped = wrapped or {}
                    wrapped[name] = value
                value = plain(value)  # what the parameter's check sees
            out[name] = value
        return out, wrapped


def _inner(spec, ctx: Ctx, node: Node, res: NodeResult) -> None:
    """A unit instance's inner results, and its inner problems lifted to it
    with dotted ids (a catalogue block has none)."""
    hook = getattr(spec, "inner_results", None)
    if hook is None:
        return
    res.inner, lifted = hook(ctx, node)
    if lifted:
        res.problems = list(res.problems) + lifted


def _problem(res: NodeResult, node: Node, code: str, message: str, port: str | None = None,
             severity: str = ERROR, fix: dict | None = None) -> None:
    found = Problem(severity, code, node.id, f"{node.label()}: {message}", port, fix)
    if res.problems:
        res.problems.append(found)
    else:
        res.problems = [found]


@functools.lru_cache(maxsize=None)
def _defaults(spec) -> dict:
    return {prm.name: prm.default for prm in spec.params if not prm.required}


# Most nodes have one input and one output port, and many share a tensor type
# (every layer of an MLP block sees N×64): their ``ins``/``outs`` mappings are
# shared, read-only objects, which keeps a 10,000-node analysis small in memory
# (and so as fast per node as a 1,000-node one).
@functools.lru_cache(maxsize=4096)
def _one_input(port: str, tt: TT) -> Mapping[str, list[TT]]:
    return MappingProxyType({port: (tt,)})


@functools.lru_cache(maxsize=4096)
def _one_output(port: str, tt: TT) -> Mapping[str, TT]:
    return MappingProxyType({port: tt})


@functools.lru_cache(maxsize=None)
def _default_params(spec) -> P:
    return P(_defaults(spec))


@functools.lru_cache(maxsize=None)
def _required(spec) -> tuple:
    return tuple(prm for prm in spec.params if prm.required)

