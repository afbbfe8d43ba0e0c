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
does its work lazily, in :meth:`Analyzer.refresh`.  One node's analysis is
:mod:`graph.node_analysis`'s, the visiting order :mod:`graph.topo_order`'s,
the graph-wide checks :mod:`graph.checks`'s.
"""

from __future__ import annotations

import gc
import heapq
from typing import Any, Iterable, Mapping

from . import checks, training_check, units
from .blocks import TT
from .dataset_checks import dataset_problems
from .graph import Edge, Graph, Node
from .node_analysis import SATURATING_LIMIT, NodeAnalyser, NodeResult
from .problems import ERROR, Problem
from .topo_order import order_with_cycles

__all__ = ["STRICT", "SATURATING_LIMIT", "NodeResult", "Analyzer", "analyze", "shape_json",
           "problem_counts"]

#: Re-raise unexpected exceptions from shape rules (set by the test suite so a
#: bug in a rule fails loudly); in the application they become problems.
STRICT = False


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
        #: the Inputs' tensor types of a unit's inner network (None: a project's)
        self._seeds = seeds
        self.training = training or {}
        self.dataset_samples = dataset_samples
        self.memory = checks.machine_memory() if memory == "machine" else memory
        self.results: dict[str, NodeResult] = {}
        self._nodes = NodeAnalyser(graph, self.results, seeds, bindings, symbolic)
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
        g = self.graph
        order, index, cyclic = order_with_cycles(g)
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
        # STRICT is read at each call: the test suite sets it after import
        return self._nodes.analyse(node, self._cyclic, STRICT)

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
