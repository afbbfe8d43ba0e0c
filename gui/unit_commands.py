"""Undoable unit edits: group blocks into a unit, ungroup an instance, set an
instance's ``repeat``, define a unit (paste).  Each calls only the graph API
(:mod:`graph.unit_edits`).

A refused edit raises :class:`graph.problems.GraphEditError` from
:meth:`apply`, called before the command is pushed (an exception inside a
``redo`` that Qt calls is not seen by the caller; :meth:`gui.document.Document.push`
takes every command's first step itself for the same reason); the push's own
``redo`` then has nothing left to do.

Redo after undo puts back the very same objects (the unit definition, the
instance node, the ungrouped nodes and edges), never new ones: commands
further up the stack (an edit inside the unit, a repeat of the instance)
hold those objects and ids.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from graph.graph import Graph


class _Applied(QUndoCommand):
    """A command whose first step is taken by :meth:`apply` before the push."""

    _skip = False

    def apply(self) -> "_Applied":
        """Take the edit now (raises GraphEditError if refused); returns self."""
        self.redo()
        self._skip = True
        return self

    def _skipped(self) -> bool:
        if self._skip:
            self._skip = False
            return True
        return False


def _node_edges(g: Graph, node_id: str) -> list:
    return [(i, e) for i, e in enumerate(g.edges) if node_id in (e.source, e.target)]


class GroupUnit(_Applied):
    """Replace blocks by one instance of a new unit made of them."""

    def __init__(self, graph: Graph, node_ids, unit_name: str):
        super().__init__(f"Group into {unit_name}")
        self.graph = graph
        self.ids = list(node_ids)
        self.unit_name = unit_name
        self.done = None
        self.instance = None  # (index, node, edges) of the instance, kept by undo

    def redo(self) -> None:
        g = self.graph
        if self._skipped():
            return
        if self.done is None:
            self.done = g.group(self.ids, self.unit_name)
            return
        g.define_unit(self.done.unit)
        for _index, node, _edges in self.done.removed:
            g.remove_node(node.id)
        index, node, edges = self.instance
        g.restore_node(node, edges, index)

    def undo(self) -> None:
        g = self.graph
        inst = self.done.instance
        self.instance = (g.index_of(inst), g.nodes[inst], _node_edges(g, inst))
        g.undo_group(self.done)

    @property
    def instance_id(self) -> str:
        return self.done.instance


class UngroupUnit(_Applied):
    """Put an instance's blocks back in its place (the unit stays defined)."""

    def __init__(self, graph: Graph, instance_id: str):
        super().__init__("Ungroup")
        self.graph = graph
        self.instance_id = instance_id
        self.done = None
        self.added: list = []  # (index, node) of the blocks put back, kept by undo

    def redo(self) -> None:
        g = self.graph
        if self._skipped():
            return
        if self.done is None:
            self.done = g.ungroup(self.instance_id)
            return
        g.remove_node(self.instance_id)
        for index, node in self.added:
            g.restore_node(node, (), index)
        for e in self.done.added_edges:
            g.add_edge_unchecked(e)

    def undo(self) -> None:
        g = self.graph
        self.added = [(g.index_of(nid), g.nodes[nid]) for nid in self.done.added_nodes]
        g.undo_ungroup(self.done)

    @property
    def node_ids(self) -> list[str]:
        return list(self.done.added_nodes) if self.done else []


class SetRepeat(_Applied):
    """Set how many copies of its unit an instance chains."""

    def __init__(self, graph: Graph, node_id: str, repeat: int):
        super().__init__(f"Repeat ×{repeat}")
        self.graph = graph
        self.node_id, self.repeat = node_id, repeat
        # (read at the first redo: in a paste the node is added just before)
        self.old: int | None = None

    def redo(self) -> None:
        if self._skipped():
            return
        old = self.graph.set_repeat(self.node_id, self.repeat)
        if self.old is None:
            self.old = old

    def undo(self) -> None:
        self.graph.set_repeat(self.node_id, self.old)


class DefineUnit(QUndoCommand):
    """Add a unit definition (a pasted instance brings its unit along)."""

    def __init__(self, graph: Graph, unit):
        super().__init__(f"Define {unit.name}")
        self.graph = graph
        self.unit = unit

    def redo(self) -> None:
        self.graph.define_unit(self.unit)

    def undo(self) -> None:
        self.graph.remove_unit(self.unit.name)
