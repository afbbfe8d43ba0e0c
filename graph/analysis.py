"""Shape inference and validation, incremental.

Algorithm: the graph's nodes are visited in topological order; each node's
parameters are resolved and checked against its spec, its input tensor types
are read from its predecessors' results, and its spec's shape rule gives the
output types (or a problem).  Results are cached per node.

After an edit only *dirty* nodes are re-analysed: the edited node, then — in
topological order, through a heap — its successors, but only while a node's
outputs actually change ("early cut-off": renaming a layer or changing a
dropout rate stops at that node).  Structural edits (nodes or edges added or
removed) also redo the graph-wide checks (cycles, missing Input/Output,
nodes that reach no Output), which are linear in the graph's size.

The :class:`Analyzer` subscribes to a :class:`~graph.graph.Graph`'s events and
does its work lazily, in :meth:`Analyzer.refresh`.
"""

from __future__ import annotations

import difflib
import functools
import gc
import heapq
from collections import deque
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import networkx as nx

from . import checks, training_check, units
from .blocks import FLOAT, INT, TT, Ctx, P
from .blocks.base import init_problem
from .dataset_checks import dataset_problems
from .graph import Edge, Graph, Node
from .problems import ERROR, WARNING, Code, ParamError, Problem, ShapeError
from .unit_values import bind, param_refs, plain, rewrap

#: Re-raise unexpected exceptions from shape rules (set by the test suite so a
#: bug in a rule fails loudly); in the application they become problems.
STRICT = False

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


class Analyzer:
    """Keeps the shapes and problems of a graph up to date.

    Args:
        graph: the graph to watch.
        training: the project's ``training`` section: its own problems
            (:mod:`graph.training_check`, listed after the network's) and the
            warnings that depend on the loss and the dataset size.
        dataset_samples: number of training samples, if known.
        memory: the machine's memory in bytes, for the warning on a model
            whose weights alone exceed it (default: this machine's,
            :func:`graph.checks.machine_memory`; None: no such warning).
        watch: follow the graph's edits (False for a one-off analysis).
        seeds: Input node id → the tensor type it gives (a unit's Inputs
            take their instance's inputs instead of their ``shape``).
        bindings: unit parameter → value, for ``"$name"`` parameter values.
        symbolic: seeds and bindings carry :class:`graph.units.Sym` values;
            parameters bound to one keep it (so code can name it).
        dataset: what the chosen dataset gives (:class:`graph.dataset_info.DatasetInfo`,
            read by the caller): each Input and Output is checked against it.
    """

    def __init__(self, graph: Graph, training: dict | None = None,
                 dataset_samples: int | None = None, *, memory: int | None | str = "machine",
                 watch: bool = True, seeds: Mapping[str, TT] | None = None,
                 bindings: Mapping[str, Any] | None = None, symbolic: bool = False,
                 dataset=None):
        self.graph = graph
        self.dataset = dataset
        #: seeds and bindings hold :class:`graph.units.Sym` values that name
        #: their source (codegen of a unit's class): kept out of shared caches
        self._symbolic = symbolic
        self._seeds = seeds
        self._bindings = bindings
        self.training = training or {}
        self.dataset_samples = dataset_samples
        self.memory = checks.machine_memory() if memory == "machine" else memory
        self.results: dict[str, NodeResult] = {}
        #: ids of the nodes whose result has problems (so listing them does
        #: not walk every node of a big, mostly valid graph)
        self._flagged: set[str] = set()
        #: nodes to re-analyse; ``_all_dirty`` stands for every node (a fresh
        #: analyser), without a set of them all
        self._dirty: set[str] = set()
        self._all_dirty = True
        self._structure_seen = -1
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._cyclic: set[str] = set()
        self._global: list[Problem] = []
        self._context_dirty = True
        self._renames = 0
        self._structural_key: tuple[int, int] | None = None
        self._structural: list[Problem] = []
        #: the training section's problems, redone when it is replaced or the
        #: Outputs change (a per-output loss names them)
        self._training_key: tuple | None = None
        self._training_problems: list[Problem] = []
        ev = graph.events
        self._subs = [
            (ev.node_added, lambda n: self._dirty.add(n.id)),
            (ev.node_removed, self._on_removed),
            (ev.edge_added, lambda e: self._dirty.add(e.target)),
            (ev.edge_removed, lambda e: self._dirty.add(e.target)),
            (ev.param_changed, lambda n, _name: self._dirty.add(n.id)),
            (ev.node_renamed, self._on_renamed),
            (ev.unit_changed, self._on_unit_changed),
            (ev.unit_defined, self._on_unit_changed),
        ] if watch else []
        for sig, cb in self._subs:
            sig.connect(cb)

    def close(self) -> None:
        """Stop watching the graph."""
        for sig, cb in self._subs:
            sig.disconnect(cb)

    # --------------------------------------------------------------- events
    def _on_removed(self, node: Node) -> None:
        self.results.pop(node.id, None)
        self._dirty.discard(node.id)
        self._flagged.discard(node.id)

    def _on_unit_changed(self, name: str) -> None:
        # only this unit's instances are re-checked (units using it send
        # their own unit_changed)
        self._dirty.update(self.graph.instances(name))

    def run_network(self) -> "Analyzer":
        """Bring shapes and node problems up to date, without the graph-wide
        checks (the inner network of a unit instance)."""
        if self.graph.structure_version != self._structure_seen:
            self._restructure()
        if self._dirty or self._all_dirty:
            self._propagate()
        self._context_dirty = False
        return self

    def network_order(self) -> list[str]:
        """The node ids in topological order, as of the last run (read-only)."""
        return self._order

    def invalidate(self) -> None:
        """Redo every node at the next refresh (a unit used inside changed)."""
        self._all_dirty = True

    def _on_renamed(self, node: Node) -> None:
        # Messages name the node; the outputs are unchanged, so no propagation.
        self._dirty.add(node.id)
        self._renames += 1
        self._context_dirty = True

    def set_training(self, training: dict | None, dataset_samples: int | None = None) -> None:
        self.training = training or {}
        self.dataset_samples = dataset_samples
        self._context_dirty = True
        self._training_key = None

    def set_dataset(self, dataset) -> None:
        """Check against what the chosen dataset gives from now on
        (a :class:`graph.dataset_info.DatasetInfo`, or None: not known)."""
        if dataset != self.dataset:
            self.dataset = dataset
            self._context_dirty = True

    # --------------------------------------------------------------- refresh
    def refresh(self) -> "Analyzer":
        """Bring results up to date with the graph; cheap when nothing changed."""
        g = self.graph
        if (g.structure_version == self._structure_seen and not self._dirty
                and not self._all_dirty and not self._context_dirty):
            return self
        # The cyclic collector would rescan the whole (large, acyclic) heap
        # several times during a big analysis; nothing here makes reference cycles.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            if g.structure_version != self._structure_seen:
                self._restructure()
            if self._dirty or self._all_dirty:
                self._propagate()
            if self._context_dirty:
                self._global_checks()
        finally:
            if was_enabled:
                gc.enable()
        return self

    def _restructure(self) -> None:
        # Kahn's algorithm over the graph's own adjacency (sources taken in
        # insertion order, so the order is deterministic); nodes left over sit
        # on or behind a cycle, and networkx finds which are on one.
        g = self.graph
        ins, outs = g.adjacency()
        indeg = {nid: len(edges) for nid, edges in ins.items()}  # in node order
        ready = deque(nid for nid, k in indeg.items() if not k)
        order: list[str] = []
        index: dict[str, int] = {}
        while ready:
            nid = ready.popleft()
            index[nid] = len(order)
            order.append(nid)
            for e in outs[nid]:
                t = e.target
                k = indeg[t] - 1
                indeg[t] = k
                if not k:
                    ready.append(t)
        cyclic: set[str] = set()
        if len(order) < len(g.nodes):
            nxg = g.nx_graph()
            rest = nxg.subgraph(nid for nid in g.nodes if indeg[nid] > 0)
            for comp in nx.strongly_connected_components(rest):
                if len(comp) > 1:
                    cyclic |= comp
            cyclic |= {u for u, v in nx.selfloop_edges(rest)}
            # Behind a cycle: order the rest as if the cycle's edges were cut.
            sub = rest.subgraph(n for n in rest if n not in cyclic)
            rank = {nid: i for i, nid in enumerate(g.nodes)}
            order += list(nx.lexicographical_topological_sort(sub, key=rank.__getitem__))
            order += sorted(cyclic, key=rank.__getitem__)
            index = {nid: i for i, nid in enumerate(order)}
        self._dirty |= cyclic ^ self._cyclic
        self._cyclic = cyclic
        self._order = order
        self._index = index
        self._structure_seen = g.structure_version
        self._context_dirty = True

    def _propagate(self) -> None:
        g = self.graph
        index = self._index
        results = self.results
        if self._all_dirty or len(self._dirty) >= len(index):
            # Everything is dirty: each node once, in order (what the heap
            # below would do, without its log-time pops).
            self._dirty = set()
            self._all_dirty = False
            self._context_dirty = True
            analyse = self._analyse
            nodes = g.nodes
            flagged = self._flagged = set()
            for nid in self._order:
                r = results[nid] = analyse(nodes[nid])
                if r.problems:
                    flagged.add(nid)
            return
        heap = [(index[n], n) for n in self._dirty if n in index]
        heapq.heapify(heap)
        queued = set(self._dirty)
        self._dirty = set()
        while heap:
            _, nid = heapq.heappop(heap)
            queued.discard(nid)
            old = self.results.get(nid)
            new = self._analyse(g.nodes[nid])
            self.results[nid] = new
            if new.problems:
                self._flagged.add(nid)
            else:
                self._flagged.discard(nid)
            if old is None or old.outs != new.outs or old.saturating_depth != new.saturating_depth:
                self._context_dirty = True
                for e in g.out_edges(nid):
                    t = e.target
                    if t not in queued:
                        queued.add(t)
                        heapq.heappush(heap, (index[t], t))
            elif old.n_params != new.n_params or bool(old.problems) != bool(new.problems):
                self._context_dirty = True

    # --------------------------------------------------------------- one node
    def _analyse(self, node: Node) -> NodeResult:
        res = NodeResult()
        spec = node.spec
        if spec is None:
            _problem(res, node, Code.UNKNOWN_TYPE, f"unknown block type {node.type!r}")
            return res
        if node.id in self._cyclic:
            _problem(res, node, Code.CYCLE, "is part of a cycle; data cannot flow in a loop — "
                     "remove one of the edges that close it")
            return res

        if self._seeds is not None and node.id in self._seeds:
            res.params = _default_params(spec)
            seed = self._seeds[node.id]
            res.outs = {"out": seed} if self._symbolic else _one_output("out", seed)
            return res

        # parameters: the spec's defaults, overridden by what the user set
        # (nodes that set none share their spec's defaults: read-only)
        given = node.params
        wrapped = None
        if self._bindings is not None and given:
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
            if len(got) == 1 and not self._symbolic:
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
            if STRICT:
                raise
            _problem(res, node, Code.SIZE, f"could not work out the output shape ({exc})")
            return res
        outs = out if isinstance(out, dict) else {spec.outputs[0].name: out} \
            if self._symbolic else _one_output(spec.outputs[0].name, out)
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
            if STRICT:
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
                if ref not in self._bindings:
                    _problem(res, node, Code.PARAM, f"{name} refers to ${ref}, which is not a "
                             "parameter of the unit")
            if refs:
                value = bind(value, self._bindings)
                if self._symbolic:
                    wrapped = wrapped or {}
                    wrapped[name] = value
                value = plain(value)  # what the parameter's check sees
            out[name] = value
        return out, wrapped

    # --------------------------------------------------------------- global
    def _global_checks(self) -> None:
        self._context_dirty = False
        g = self.graph
        # The checks on the graph's structure cost a pass over it; a parameter
        # edit cannot change them, so they are redone only after structural
        # edits or renames (their messages name nodes).
        key = (g.structure_version, self._renames)
        if key != self._structural_key:
            self._structural = checks.structural_problems(g, self._order) + \
                checks.name_problems(g)
            self._structural_key = key
        outputs = tuple(o.id for o in g.ends("output"))
        if self._training_key != outputs:
            self._training_problems = training_check.section_problems(self.training,
                                                                      list(outputs))
            self._training_key = outputs
        # the loss-input warnings look at the blocks before the Outputs, the augmentation
        # check at the Inputs: cheap, always redone
        self._global = self._structural + self._training_problems + \
            training_check.training_problems_with_graph(self.training, g) + \
            checks.context_problems(
                g, self.training, self.results, self.dataset_samples, self.memory) + \
            dataset_problems(g, self.training, self.results, self.dataset)

    # --------------------------------------------------------------- reading
    def problems(self) -> list[Problem]:
        """Every problem, errors first, each group in topological order."""
        self.refresh()
        found = list(self._global)
        index = self._index
        for nid in sorted(self._flagged, key=index.__getitem__):
            found.extend(self.results[nid].problems)
        # the training section's problems after the network's
        last = len(index)
        # a problem inside a unit instance (dotted id) sorts with its instance
        found.sort(key=lambda pr: (pr.severity != ERROR, index.get(
            pr.node, index.get(pr.node.partition(".")[0], -1) if pr.node else -1)
            if pr.location is None else last))
        return found

    def node_problems(self, node_id: str) -> list[Problem]:
        self.refresh()
        r = self.results.get(node_id)
        own = list(r.problems) if r else []
        return own + [p for p in self._global if p.node == node_id]

    def errors(self) -> list[Problem]:
        return [p for p in self.problems() if p.severity == ERROR]

    def model_errors(self) -> list[Problem]:
        """The errors of the network itself: what stops its model being built
        (the training section's own problems stop only training)."""
        return [p for p in self.errors() if p.location is None]

    def valid(self) -> bool:
        return not self.errors()

    def result(self, node_id: str) -> NodeResult | None:
        self.refresh()
        return self.results.get(node_id)

    def output_type(self, node_id: str, port: str = "out") -> TT | None:
        r = self.result(node_id)
        return r.outs.get(port) if r and r.outs else None

    def edge_type(self, edge: Edge) -> TT | None:
        return self.output_type(edge.source, edge.source_port)

    def shapes(self) -> dict[tuple[str, str], TT]:
        self.refresh()
        return {(nid, port): tt for nid in self._order
                for port, tt in ((self.results[nid].outs or {}).items()
                                 if nid in self.results else ())}

    def order(self) -> list[str]:
        self.refresh()
        return list(self._order)

    def totals(self) -> dict[str, int]:
        self.refresh()
        rs = self.results.values()
        n_params = sum(r.n_params for r in rs)
        frozen = sum(_frozen_params(self.graph.nodes.get(nid), r, r.inner)
                     for nid, r in self.results.items())
        return {"params": n_params, "flops": sum(r.flops for r in rs),
                "activations": sum(r.activations for r in rs),
                "size_bytes": 4 * n_params,
                "frozen_params": frozen, "trainable_params": n_params - frozen}


def _frozen_params(node: Node | None, res: NodeResult, inner: Mapping, prefix: str = "") -> int:
    """The parameters of ``node`` that are not trained: all of a frozen block's
    or unit instance's, else those of the frozen blocks inside a unit (each copy
    of a repeated one; ``inner`` holds their results by dotted id)."""
    if node is None or not res.n_params:
        return 0
    if node.frozen:
        return res.n_params
    unit = getattr(node.spec, "unit", None)
    if unit is None:
        return 0
    n = node.repeat if type(node.repeat) is int and node.repeat > 1 else 1
    total = 0
    for k in range(n):
        copy = f"{prefix}{k}." if n > 1 else prefix
        for inner_node in unit.graph.nodes.values():
            r = inner.get(copy + inner_node.id)
            if r is not None:
                total += _frozen_params(inner_node, r, inner, f"{copy}{inner_node.id}.")
    return total


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


def analyze(graph: Graph, training: dict | None = None,
            dataset_samples: int | None = None, dataset=None) -> Analyzer:
    """Analyse a graph once (the analyzer stays subscribed; call ``close``
    when done if the graph lives on); ``dataset``: a
    :class:`graph.dataset_info.DatasetInfo` to check the Inputs and Outputs against."""
    return Analyzer(graph, training, dataset_samples, dataset=dataset).refresh()


def shape_json(tt: TT) -> list:
    """A shape for JSON output: ``["N", 16, 8, 8]``."""
    return [d if isinstance(d, int) else str(d) for d in tt.shape]


def problem_counts(problems: Iterable[Problem]) -> tuple[int, int]:
    errors = warnings = 0
    for p in problems:
        if p.severity == ERROR:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


# A unit's shape rule analyses its inner network with this class (see
# graph.units.use_analyzer: units cannot import this module, which imports them).
units.use_analyzer(Analyzer)
