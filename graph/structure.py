"""The read side of a graph: its nodes and ordered edges, the indexes kept
over them, and the questions asked of them.

:class:`GraphStructure` holds :class:`~graph.elements.Node` objects by id and
:class:`~graph.elements.Edge` objects in one ordered list (the order of edges
into a variadic port is the order of its operands), with per-node incoming
and outgoing edges, the Input and Output nodes, the instances of each unit
and how many nodes hold each name, so that every query here is answered
without a pass over the whole graph.  A networkx ``MultiDiGraph`` mirrors the
structure for graph algorithms (cycle checks, topological order), built when
asked for.  The edits, and the events they send, are :class:`graph.graph.Graph`'s.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterable

import networkx as nx

from . import blocks
from .elements import Edge, Node
from .names import DefaultNames, name_problem
from .problems import GraphEditError


class GraphStructure:
    """Nodes, edges, their indexes and the queries on them.  See the module
    docstring; :class:`graph.graph.Graph` keeps the indexes in step as it edits."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        #: the networkx mirror, built when asked for (:meth:`nx_graph`)
        self._nx: nx.MultiDiGraph | None = None
        self._nx_version = -1
        self._in: dict[str, list[Edge]] = {}
        self._out: dict[str, list[Edge]] = {}
        #: node name → how many nodes have it (a file written by hand may
        #: repeat a name; validation reports that)
        self._names: dict[str, int] = {}
        self._defaults = DefaultNames(self._names)
        #: ids of the Input and Output nodes ("input"/"output" role), in node order
        self._ends: dict[str, dict[str, None]] = {"input": {}, "output": {}}
        self._ids = itertools.count(1)
        #: bumped on every structural change (nodes or edges added/removed)
        self.structure_version = 0
        #: unit name → :class:`graph.units.UnitDef`, shared with the units'
        #: inner graphs (a unit may use another one)
        self.units: dict = {}
        #: unit name → ids of its instances here
        self._by_type: dict[str, dict[str, None]] = {}

    # ------------------------------------------------------------------ query
    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphEditError(f"there is no node with id {node_id!r}") from None

    def in_edges(self, node_id: str, port: str | None = None) -> list[Edge]:
        edges = self._in.get(node_id, [])
        return edges if port is None else [e for e in edges if e.target_port == port]

    def out_edges(self, node_id: str) -> list[Edge]:
        return self._out.get(node_id, [])

    def predecessors(self, node_id: str) -> list[str]:
        return list(dict.fromkeys(e.source for e in self.in_edges(node_id)))

    def successors(self, node_id: str) -> list[str]:
        return list(dict.fromkeys(e.target for e in self.out_edges(node_id)))

    def ends(self, role: str) -> list[Node]:
        """The nodes of a role (``"input"`` or ``"output"``), in node order,
        without a pass over the whole graph."""
        return [self.nodes[nid] for nid in self._ends[role]]

    def adjacency(self) -> tuple[dict[str, list[Edge]], dict[str, list[Edge]]]:
        """The incoming and outgoing edges of every node, by id, in node order
        (the graph's own dicts, for fast whole-graph passes: read-only)."""
        return self._in, self._out

    def nx_graph(self) -> nx.MultiDiGraph:
        """The networkx mirror (read-only for callers), built on first use
        after a structural change: keeping it in step edge by edge cost a
        large file's load most of its time."""
        if self._nx is None or self._nx_version != self.structure_version:
            nxg = nx.MultiDiGraph()
            nxg.add_nodes_from(self.nodes)
            nxg.add_edges_from((e.source, e.target, e) for e in self.edges)
            self._nx, self._nx_version = nxg, self.structure_version
        return self._nx

    def reaches(self, source: str, target: str) -> bool:
        """Whether a path of edges leads from ``source`` to ``target`` (a
        depth-first walk of what ``source`` feeds: cheap when little does)."""
        seen = {source}
        stack = [source]
        out = self._out
        while stack:
            for e in out[stack.pop()]:
                nid = e.target
                if nid == target:
                    return True
                if nid not in seen:
                    seen.add(nid)
                    stack.append(nid)
        return False

    def topological_order(self) -> list[str]:
        """Node ids in a topological order, ties broken by insertion order.

        Raises:
            GraphEditError: the graph has a cycle.
        """
        order = {nid: i for i, nid in enumerate(self.nodes)}
        try:
            return list(nx.lexicographical_topological_sort(self.nx_graph(), key=order.__getitem__))
        except nx.NetworkXUnfeasible:
            raise GraphEditError("the graph has a cycle") from None

    def spec_of_type(self, type_name: str) -> blocks.BlockSpec | None:
        """The spec of a block type or of one of this project's units."""
        spec = blocks.get(type_name)
        if spec is None and type_name in self.units:
            return self.units[type_name].spec()
        return spec

    def instances(self, unit_name: str) -> list[str]:
        """Ids of this graph's instances of a unit, in node order of insertion."""
        return list(self._by_type.get(unit_name, ()))

    def names(self) -> set[str]:
        return set(self._names)

    def name_problem(self, name: object, node_id: str | None = None) -> str | None:
        """Why ``name`` cannot be a node's name here, or None if it can.

        Args:
            name: the candidate.
            node_id: the node that would get it (its own name does not count
                as taken), or None for a new node.
        """
        own = self.nodes[node_id].name if node_id in self.nodes else None
        return name_problem(name, _Others(self._names, own))

    def free_name(self, prefix: str, avoid: Iterable[str] = ()) -> str:
        """A derived name ``prefix_k`` that no node has (nor any of ``avoid``),
        never one handed out before while this graph lives."""
        avoid = set(avoid)
        while True:
            name = self._defaults.add(prefix)
            if name not in avoid:
                return name

    def new_id(self, prefix: str = "n") -> str:
        while True:
            nid = f"{prefix}{next(self._ids)}"
            if nid not in self.nodes:
                return nid

    def index_of(self, node_id: str) -> int:
        """The node's position in node order (for :meth:`restore_node`)."""
        for i, nid in enumerate(self.nodes):
            if nid == node_id:
                return i
        raise GraphEditError(f"no node with id {node_id!r}")

    def get_param(self, node_id: str, name: str) -> Any:
        node = self.node(node_id)
        if name in node.params:
            return node.params[name]
        spec = node.spec
        return spec.param_index[name].default if spec and name in spec.param_index else None

    def _drop_name(self, name: str) -> None:
        """One node fewer holds ``name`` (a removal or a rename)."""
        left = self._names.get(name, 0) - 1
        if left > 0:
            self._names[name] = left
        else:
            self._names.pop(name, None)

    # ------------------------------------------------------------------ edges
    def check_connect(self, source: str, target: str, source_port: str | None = None,
                      target_port: str | None = None) -> str | None:
        """Why the connection would be refused, or None if it is allowed."""
        if source not in self.nodes:
            return f"there is no node with id {source!r}"
        if target not in self.nodes:
            return f"there is no node with id {target!r}"
        src, dst = self.nodes[source], self.nodes[target]
        sspec, tspec = src.spec, dst.spec
        if sspec is None or tspec is None:
            return "unknown block type"
        if sspec.output_port(source_port) is None:
            if source_port is not None and tspec and sspec.input_port(source_port):
                return "cannot connect from an input port; drag from an output port"
            return f"{src.label()} has no output port {source_port!r}" if source_port else \
                f"{src.label()} has no output"
        port = tspec.input_port(target_port)
        if port is None:
            if target_port is not None and tspec.output_port(target_port):
                return "cannot connect an output to an output; connect to an input port"
            return f"{dst.label()} has no input port {target_port!r}" if target_port else \
                f"{dst.label()} takes no input"
        if source == target:
            return "a block cannot feed itself (that would be a cycle)"
        if self.reaches(target, source):
            return (f"connecting {src.label()} to {dst.label()} would create a cycle "
                    f"({dst.label()} already feeds {src.label()})")
        if not port.variadic and self.in_edges(target, port.name):
            return (f"input {port.name!r} of {dst.label()} is already connected; "
                    f"only one edge may enter it (remove that edge first)")
        return None

    def __len__(self) -> int:
        return len(self.nodes)


class _Others:
    """The names of the nodes other than one (``in`` only): a name counts as
    taken when some node but ``own``'s holder has it."""

    __slots__ = ("counts", "own")

    def __init__(self, counts: dict[str, int], own: str | None):
        self.counts, self.own = counts, own

    def __contains__(self, name: object) -> bool:
        return self.counts.get(name, 0) > (1 if name == self.own else 0)
