"""The network as data: nodes, ports, ordered edges, and the edits on them.

A :class:`Graph` holds :class:`Node` objects by id and :class:`Edge` objects
in one ordered list (the order of edges into a variadic port is the order of
its operands).  A networkx ``MultiDiGraph`` mirrors the structure for graph
algorithms (cycle checks, topological order).  Every edit goes through a
method here, which refuses an invalid edit with a :class:`GraphEditError`
whose message is the reason, and then notifies subscribers through
:attr:`Graph.events`.

:attr:`Graph.units` holds the project's unit definitions
(:mod:`graph.units`); a node whose type is a unit's name is an instance and
finds its spec there.  The unit edits (define, replace, remove, group,
ungroup) are in :mod:`graph.unit_edits`; :class:`Node` and :class:`Edge` in
:mod:`graph.elements` (so that module can build graphs without importing this
one).
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Iterable

import networkx as nx

from . import blocks, unit_edits
from .elements import Edge, Node
from .events import GraphEvents
from .names import DefaultNames, name_problem
from .problems import GraphEditError


class Graph:
    """A network of blocks.  See the module docstring."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.events = GraphEvents()
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
        self._unit_subs: dict[str, Any] = {}

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

    # ------------------------------------------------------------------ nodes
    def add_node(self, type: str, params: dict | None = None, name: str | None = None,
                 id: str | None = None, pos: Iterable[float] | None = None) -> Node:
        """Add a block; unknown types and duplicate ids are refused.

        Returns:
            The new node (its id is made if not given, its name derived from
            the type if not given).
        """
        spec = self.spec_of_type(type)
        if spec is None:
            raise GraphEditError(f"unknown block type {type!r}")
        if id is None:
            id = self.new_id(spec.name_prefix[:1] or "n")
        elif not isinstance(id, str) or not id:
            raise GraphEditError("a node id must be a non-empty string")
        elif id in self.nodes:
            raise GraphEditError(f"a node with id {id!r} already exists")
        auto = name is None
        if auto:
            name = self.free_name(spec.name_prefix)
        elif not isinstance(name, str) or not name.strip():
            raise GraphEditError("a node name must not be empty")
        # Other names are not judged here: a file written by hand may hold
        # one the code cannot use, and validation reports it on the node.
        node = Node(id=id, type=type, name=name, params=dict(params or {}),
                    pos=tuple(pos) if pos is not None else None, auto_name=auto)
        self._insert_node(node)
        return node

    def _insert_node(self, node: Node, index: int | None = None) -> None:
        if index is None or index >= len(self.nodes):
            self.nodes[node.id] = node
        else:  # back at its place: node order is the model's argument order
            items = list(self.nodes.items())
            items.insert(max(0, index), (node.id, node))
            self.nodes.clear()
            self.nodes.update(items)
        self._in[node.id] = []
        self._out[node.id] = []
        node.units = self.units
        if node.type not in blocks.BLOCKS:  # a unit instance
            self._by_type.setdefault(node.type, {})[node.id] = None
        self._names[node.name] = self._names.get(node.name, 0) + 1
        ends = self._ends.get(node.spec.role) if node.spec is not None else None
        if ends is not None:
            ends[node.id] = None
            if index is not None:  # Inputs and Outputs also keep node order
                order = [k for k in self.nodes if k in ends]
                ends.clear()
                ends.update(dict.fromkeys(order))
        self.structure_version += 1
        self.events.node_added.emit(node)
        self.events.changed.emit()

    def remove_node(self, node_id: str) -> tuple[Node, list[tuple[int, Edge]]]:
        """Remove a node and its edges.

        Returns:
            The node and its removed edges with their former positions in
            :attr:`edges`, for :meth:`restore_node`.
        """
        node = self.node(node_id)
        removed = [(i, e) for i, e in enumerate(self.edges)
                   if e.source == node_id or e.target == node_id]
        for _, e in reversed(removed):
            self.disconnect(e)
        del self.nodes[node_id]
        del self._in[node_id]
        del self._out[node_id]
        for ends in self._ends.values():
            ends.pop(node_id, None)
        if node.type in self._by_type:
            self._by_type[node.type].pop(node_id, None)
        self._drop_name(node.name)
        self.structure_version += 1
        self.events.node_removed.emit(node)
        self.events.changed.emit()
        return node, removed

    def index_of(self, node_id: str) -> int:
        """The node's position in node order (for :meth:`restore_node`)."""
        for i, nid in enumerate(self.nodes):
            if nid == node_id:
                return i
        raise GraphEditError(f"no node with id {node_id!r}")

    def restore_node(self, node: Node, edges: list[tuple[int, Edge]] = (),
                     index: int | None = None) -> None:
        """Put back a node removed by :meth:`remove_node` (undo).

        Args:
            node, edges: what :meth:`remove_node` returned.
            index: its former :meth:`index_of`, so that node order (the order
                of the model's inputs and outputs) comes back too; default last.
        """
        if node.id in self.nodes:
            raise GraphEditError(f"a node with id {node.id!r} already exists")
        self._insert_node(node, index)
        for index, e in sorted(edges, key=lambda ie: ie[0]):
            self._attach(e, index)

    def _drop_name(self, name: str) -> None:
        left = self._names.get(name, 0) - 1
        if left > 0:
            self._names[name] = left
        else:
            self._names.pop(name, None)

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set a parameter; ``None`` resets it to the block's default.

        Values are checked by validation (so an out-of-range value typed in the
        inspector is shown as a problem), but a name the block does not have is
        refused here.
        """
        node = self.node(node_id)
        spec = node.spec
        if spec is not None and name not in spec.param_index:
            raise GraphEditError(f"{node.type} has no parameter {name!r}")
        if name in spec.inferred:
            raise GraphEditError(f"{name} of {node.type} is inferred from its input; it cannot be set")
        if value is None and not spec.param_index[name].nullable:
            node.params.pop(name, None)
        else:
            node.params[name] = copy.deepcopy(value)
        self.events.param_changed.emit(node, name)
        self.events.changed.emit()

    def get_param(self, node_id: str, name: str) -> Any:
        node = self.node(node_id)
        if name in node.params:
            return node.params[name]
        spec = node.spec
        return spec.param_index[name].default if spec and name in spec.param_index else None

    def rename(self, node_id: str, name: str, *, restore: bool = False) -> None:
        """Give a node a new name.

        Args:
            restore: put back a name the node had before (undo): it is not
                judged again, as a file may have brought in one the code
                cannot use.

        Raises:
            GraphEditError: the name is not usable (:meth:`name_problem`: not
                an identifier, a keyword, an ``nn.Module`` attribute, taken...).
        """
        node = self.node(node_id)
        why = "a node name must not be empty" if not isinstance(name, str) or not name.strip() \
            else None if restore else self.name_problem(name, node_id)
        if why:
            raise GraphEditError(why)
        self._drop_name(node.name)
        node.name = name
        node.auto_name = False
        self._names[name] = self._names.get(name, 0) + 1
        self.events.node_renamed.emit(node)
        self.events.changed.emit()

    def set_frozen(self, node_id: str, frozen: bool) -> None:
        """Freeze a block or unit instance (its parameters are not trained) or
        thaw it.

        Raises:
            GraphEditError: ``frozen`` is not a bool.
        """
        if type(frozen) is not bool:
            raise GraphEditError(f"frozen must be true or false, got {frozen!r}")
        node = self.node(node_id)
        node.frozen = frozen
        self.events.node_frozen.emit(node)
        self.events.changed.emit()  # the status bar's trainable / frozen counts

    def move(self, node_id: str, pos: Iterable[float]) -> None:
        node = self.node(node_id)
        node.pos = tuple(float(v) for v in pos)
        self.events.node_moved.emit(node)

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

    def connect(self, source: str, target: str, source_port: str | None = None,
                target_port: str | None = None, index: int | None = None) -> Edge:
        """Connect ``source``'s output to ``target``'s input.

        Args:
            index: position in :attr:`edges` (default: the end), which sets the
                operand order of a variadic port.

        Raises:
            GraphEditError: with the reason (cycle, output→output, second edge
                into a single-input port, unknown node or port).
        """
        reason = self.check_connect(source, target, source_port, target_port)
        if reason:
            raise GraphEditError(reason)
        sspec = self.nodes[source].spec
        tspec = self.nodes[target].spec
        edge = Edge(source, target, sspec.output_port(source_port).name,
                    tspec.input_port(target_port).name)
        self._attach(edge, index)
        return edge

    def add_edge_unchecked(self, edge: Edge) -> None:
        """Append an edge whose nodes and ports exist, without the cycle and
        single-input checks (for loading files: validation reports those)."""
        for nid in (edge.source, edge.target):
            if nid not in self.nodes:
                raise GraphEditError(f"there is no node with id {nid!r}")
        self._attach(edge, None)

    def _attach(self, edge: Edge, index: int | None) -> None:
        if index is None or index >= len(self.edges):
            self.edges.append(edge)
            self._in[edge.target].append(edge)
        else:
            self.edges.insert(index, edge)
            before = sum(1 for e in self.edges[:index] if e.target == edge.target)
            self._in[edge.target].insert(before, edge)
        self._out[edge.source].append(edge)
        self.structure_version += 1
        self.events.edge_added.emit(edge)
        self.events.changed.emit()

    def disconnect(self, edge: Edge) -> int:
        """Remove an edge.

        Returns:
            Its former index in :attr:`edges` (to restore it on undo).
        """
        try:
            index = next(i for i, e in enumerate(self.edges) if e is edge)
        except StopIteration:
            raise GraphEditError(f"{edge!r} is not in the graph") from None
        del self.edges[index]
        self._in[edge.target].remove(edge)
        self._out[edge.source].remove(edge)
        self.structure_version += 1
        self.events.edge_removed.emit(edge)
        self.events.changed.emit()
        return index

    def reconnect(self, edge: Edge, index: int) -> None:
        """Put back an edge removed by :meth:`disconnect` (undo)."""
        self._attach(edge, index)

    # ------------------------------------------------------------------ misc
    def copy(self, units: bool = True) -> "Graph":
        """A deep copy without subscribers (for snapshots, e.g. a training run).

        Args:
            units: copy the units table too (False for a unit's inner graph,
                whose table is its project's).
        """
        g = Graph()
        if units:
            for u in self.units.values():
                g.define_unit(u.copy())
        for n in self.nodes.values():
            g._insert_node(Node(n.id, n.type, n.name, copy.deepcopy(n.params), n.pos,
                                n.auto_name, n.repeat, n.frozen))
        for e in self.edges:
            g._attach(Edge(e.source, e.target, e.source_port, e.target_port), None)
        return g

    # ------------------------------------------------------------------ units
    # The unit edits live in graph/unit_edits.py (this file holds nodes and
    # edges); each is one undoable step whose inverse is named in its docstring.
    def define_unit(self, unit) -> None:
        """Add a unit definition (inverse: :meth:`remove_unit`)."""
        unit_edits.define_unit(self, unit)

    def replace_unit(self, unit):
        """Replace a unit's definition; returns the old one (inverse: this
        again with the old one).  All instances are re-checked."""
        return unit_edits.replace_unit(self, unit)

    def remove_unit(self, name: str):
        """Remove an unused unit definition; returns it (inverse: :meth:`define_unit`)."""
        return unit_edits.remove_unit(self, name)

    def set_repeat(self, node_id: str, repeat: int) -> int:
        """Set an instance's ``repeat``; returns the old value (its inverse)."""
        return unit_edits.set_repeat(self, node_id, repeat)

    def group(self, node_ids: Iterable[str], unit_name: str):
        """Replace blocks by one instance of a new unit made of them; returns a
        :class:`graph.unit_edits.Grouped` (its ``instance`` is the new node's
        id; inverse: :meth:`undo_group`)."""
        return unit_edits.group(self, node_ids, unit_name)

    def undo_group(self, done) -> None:
        unit_edits.undo_group(self, done)

    def ungroup(self, instance_id: str):
        """Put an instance's blocks back in its place; returns a
        :class:`graph.unit_edits.Ungrouped` (inverse: :meth:`undo_ungroup`)."""
        return unit_edits.ungroup(self, instance_id)

    def undo_ungroup(self, done) -> None:
        unit_edits.undo_ungroup(self, done)

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
