"""The network as data: nodes, ports, ordered edges, and the edits on them.

A :class:`Graph` holds :class:`Node` objects by id and :class:`Edge` objects
in one ordered list (the order of edges into a variadic port is the order of
its operands); the storage, the indexes kept over it and the queries
(``in_edges``, ``topological_order``, ``check_connect``...) are
:class:`graph.structure.GraphStructure`'s, which this class extends with the
edits.  Every edit goes through a method here, which refuses an invalid edit
with a :class:`GraphEditError` whose message is the reason, keeps the indexes
in step, and then notifies subscribers through :attr:`Graph.events`.

:attr:`Graph.units` holds the project's unit definitions
(:mod:`graph.units`); a node whose type is a unit's name is an instance and
finds its spec there.  The unit edits (define, replace, remove, group,
ungroup) are in :mod:`graph.unit_edits`; :class:`Node` and :class:`Edge` in
:mod:`graph.elements` (so that module can build graphs without importing this
one).
"""

from __future__ import annotations

import copy
from typing import Any, Iterable

from . import blocks, unit_edits
from .elements import Edge, Node
from .events import GraphEvents
from .problems import GraphEditError
from .structure import GraphStructure


class Graph(GraphStructure):
    """A network of blocks.  See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.events = GraphEvents()
        #: unit name → its definition and the handler watching its inner graph
        #: (graph.unit_edits), so that an edit inside re-checks the instances
        self._unit_subs: dict[str, Any] = {}

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
