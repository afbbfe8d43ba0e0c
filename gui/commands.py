"""Undoable edits: thin ``QUndoCommand``s that call only the graph API.

Views never change the graph directly; they push one of these with
:meth:`gui.document.Document.push` (which keeps a refused edit off the undo
stack).  The graph's events then update the views.  Edits
of several nodes are macros (a parent command whose children run in order and
are undone in reverse).
"""

from __future__ import annotations

import copy
from typing import Iterable

from PySide6.QtGui import QUndoCommand

from graph.fixes import CHAIN_STEP, DEFAULT_SIZE, place_insert, plan_fix
from graph.graph import Edge, Graph, GraphEditError, Node
from graph.placement import PLACE_GAP, free_offset

from .unit_commands import DefineUnit, SetRepeat
from .unit_paste import name_prefix, plan_units, uses_unit

MOVE_ID = 1001


class AddNode(QUndoCommand):
    """Add one block (the node object is kept so redo restores the same id)."""

    def __init__(self, graph: Graph, type: str, params: dict | None = None,
                 pos: Iterable[float] | None = None, name: str | None = None,
                 id: str | None = None, parent: QUndoCommand | None = None):
        super().__init__(f"Add {type}", parent)
        self.graph = graph
        self.args = dict(type=type, params=params, pos=pos, name=name, id=id)
        self.node: Node | None = None

    def redo(self) -> None:
        if self.node is None:
            self.node = self.graph.add_node(**self.args)
        else:
            self.graph.restore_node(self.node)

    def undo(self) -> None:
        self.graph.remove_node(self.node.id)


class RemoveNodes(QUndoCommand):
    """Remove nodes with their edges; undo restores them and the edge order."""

    def __init__(self, graph: Graph, ids: Iterable[str], parent: QUndoCommand | None = None):
        self.ids = list(ids)
        super().__init__(f"Delete {len(self.ids)} block(s)", parent)
        self.graph = graph
        self.removed: list = []

    def redo(self) -> None:
        g = self.graph
        self.removed = [(g.index_of(nid), *g.remove_node(nid)) for nid in self.ids]

    def undo(self) -> None:
        for index, node, edges in reversed(self.removed):
            self.graph.restore_node(node, edges, index)


class Connect(QUndoCommand):
    """Connect an output port to an input port (a refused one raises GraphEditError)."""

    def __init__(self, graph: Graph, source: str, target: str, source_port: str | None = None,
                 target_port: str | None = None, index: int | None = None,
                 parent: QUndoCommand | None = None):
        super().__init__("Connect", parent)
        self.graph = graph
        self.args = (source, target, source_port, target_port)
        self.index = index
        self.edge: Edge | None = None

    def redo(self) -> None:
        if self.edge is None:
            self.edge = self.graph.connect(*self.args, index=self.index)
        else:
            self.graph.reconnect(self.edge, self.index)

    def undo(self) -> None:
        self.index = self.graph.disconnect(self.edge)


class Disconnect(QUndoCommand):
    """Remove one edge; undo puts it back at its former position."""

    def __init__(self, graph: Graph, edge: Edge, parent: QUndoCommand | None = None):
        super().__init__("Disconnect", parent)
        self.graph = graph
        self.edge = edge
        self.index = 0

    def redo(self) -> None:
        self.index = self.graph.disconnect(self.edge)

    def undo(self) -> None:
        self.graph.reconnect(self.edge, self.index)


_MISSING = object()


class SetParam(QUndoCommand):
    """Set one parameter (``None`` resets it to the default)."""

    def __init__(self, graph: Graph, node_id: str, name: str, value,
                 parent: QUndoCommand | None = None):
        super().__init__(f"Set {name}", parent)
        self.graph = graph
        self.node_id, self.name, self.value = node_id, name, copy.deepcopy(value)
        params = graph.node(node_id).params
        # (deepcopy of the sentinel itself would make a new object, not _MISSING)
        self.old = copy.deepcopy(params[name]) if name in params else _MISSING

    def redo(self) -> None:
        self.graph.set_param(self.node_id, self.name, self.value)

    def undo(self) -> None:
        self.graph.set_param(self.node_id, self.name, None if self.old is _MISSING else self.old)


class SetFrozen(QUndoCommand):
    """Freeze blocks (their parameters are not trained) or thaw them."""

    def __init__(self, graph: Graph, node_ids: list[str], frozen: bool,
                 parent: QUndoCommand | None = None):
        super().__init__("Freeze" if frozen else "Unfreeze", parent)
        self.graph = graph
        self.frozen = frozen
        self.ids = list(node_ids)
        self.old: dict[str, bool] = {}  # read at the first redo (a paste adds the node first)

    def redo(self) -> None:
        if not self.old:
            self.old = {nid: self.graph.node(nid).frozen for nid in self.ids}
        for nid in self.ids:
            self.graph.set_frozen(nid, self.frozen)

    def undo(self) -> None:
        for nid, was in self.old.items():
            self.graph.set_frozen(nid, was)


class Rename(QUndoCommand):
    def __init__(self, graph: Graph, node_id: str, name: str, parent: QUndoCommand | None = None):
        super().__init__(f"Rename to {name}", parent)
        self.graph = graph
        self.node_id, self.name = node_id, name
        self.old = graph.node(node_id).name

    def redo(self) -> None:
        self.graph.rename(self.node_id, self.name)

    def undo(self) -> None:
        self.graph.rename(self.node_id, self.old, restore=True)


class Move(QUndoCommand):
    """Move nodes (a drag, or auto-layout); consecutive drags of the same
    nodes merge into one undo step only when ``mergeable``."""

    def __init__(self, graph: Graph, moves: dict[str, tuple[tuple | None, tuple]],
                 text: str = "Move", mergeable: bool = True,
                 parent: QUndoCommand | None = None):
        super().__init__(text, parent)
        self.graph = graph
        self.moves = dict(moves)
        self.mergeable = mergeable

    def id(self) -> int:
        return MOVE_ID if self.mergeable else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, Move) or not other.mergeable or set(other.moves) != set(self.moves):
            return False
        for nid, (_old, new) in other.moves.items():
            self.moves[nid] = (self.moves[nid][0], new)
        return True

    def redo(self) -> None:
        for nid, (_old, new) in self.moves.items():
            self.graph.move(nid, new)

    def undo(self) -> None:
        for nid, (old, _new) in self.moves.items():
            if old is not None:
                self.graph.move(nid, old)


class Macro(QUndoCommand):
    """Several commands as one undo step: run in order, undone in reverse.

    Children are kept in a Python list rather than given a Qt parent: with
    PySide6 a child ``QUndoCommand`` subclass created with ``parent=`` loses
    its Python wrapper when the local reference goes, and Qt then calls a
    dead ``redo`` (a segfault seen with 6.12).
    """

    def __init__(self, text: str):
        super().__init__(text)
        self.children: list[QUndoCommand] = []

    def add(self, cmd: QUndoCommand) -> QUndoCommand:
        self.children.append(cmd)
        return cmd

    def redo(self) -> None:
        done = []
        try:
            for c in self.children:
                c.redo()
                done.append(c)
        except GraphEditError:
            # all or nothing: a refused step takes back the steps before it,
            # so a refused macro leaves the graph as it found it
            for c in reversed(done):
                c.undo()
            raise

    def undo(self) -> None:
        for c in reversed(self.children):
            c.undo()


def macro(text: str) -> Macro:
    """An empty :class:`Macro` (add children with ``add``)."""
    return Macro(text)


#: the palette's type names for the built-in unit library (``library:BasicBlock``)
LIBRARY_PREFIX = "library:"


class AddBlock(Macro):
    """Add one block, with the unit definition it needs first when it is a
    built-in library unit (one undo step)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.add_node: AddNode | None = None

    @property
    def node(self) -> Node | None:
        return self.add_node.node


def add_block(doc, type_name: str, pos: tuple[float, float]) -> tuple[AddBlock | None, str]:
    """The command adding a block of ``type_name`` (a catalogue block, one of
    the project's units, or ``library:NAME``) to the document's current level.

    Returns:
        The command (not yet pushed), or None and the reason it is refused
        (an unknown type; a unit inside itself).
    """
    from graph import unit_library

    graph, top = doc.current_graph, doc.graph
    planned = []
    if type_name.startswith(LIBRARY_PREFIX):
        try:
            type_name, unit = unit_library.plan_library_unit(top, type_name[len(LIBRARY_PREFIX):])
        except GraphEditError as exc:
            return None, str(exc)
        planned = [unit] if unit is not None else []
    elif graph.spec_of_type(type_name) is None:
        return None, f"unknown block type {type_name!r}"
    if doc.levels and uses_unit(top, planned, type_name, doc.levels[-1][0]):
        return None, (f"{type_name} is or contains unit {doc.levels[-1][0]}; a unit cannot "
                      "contain itself")
    cmd = AddBlock(f"Add {type_name}")
    for unit in planned:
        cmd.add(DefineUnit(top, unit))
    cmd.add_node = cmd.add(AddNode(graph, type_name, pos=pos))
    return cmd, ""


def paste(graph: Graph, fragment: dict, offset: tuple[float, float] = (40, 40),
          text: str = "Paste", units_graph: Graph | None = None, size_of=None,
          ) -> tuple[QUndoCommand, list[str]]:
    """A macro adding a fragment's nodes (with new ids) and its inner edges.

    A pasted block keeps its name where no block has it yet (so code and
    checkpoints keep calling it that); a name that is taken, or one the code
    cannot use, is replaced by a derived one (``conv2d_3``).  A pasted unit
    instance brings its unit's definition (:mod:`gui.unit_paste`: shared
    when the same, renamed on a clash, never merged).

    Args:
        fragment: ``{"nodes": [...], "edges": [...], "units": {...}}`` in the
            project format.
        units_graph: the project's graph, which holds the units (default:
            ``graph``; differs when pasting into an opened unit).
        size_of: ``size_of(graph, type name)`` gives a block's size on the
            canvas (default :data:`graph.fixes.DEFAULT_SIZE`): the paste
            lands where it covers no block.

    Returns:
        The command (not yet pushed) and the new node ids.

    Raises:
        gui.unit_paste.PasteRefused: the fragment's units do not load.
    """
    top = units_graph if units_graph is not None else graph
    planned, renames = plan_units(top, fragment)
    nodes = [{**nd, "type": renames.get(nd["type"], nd["type"])}
             for nd in fragment.get("nodes", [])]
    cmd = macro(text)
    for unit in planned:
        cmd.add(DefineUnit(top, unit))
    new_ids: dict[str, str] = {}
    taken = set(graph.nodes)
    names = _paste_names(graph, nodes, planned)
    offset = paste_offset(graph, nodes, offset, size_of)
    for nd, name in zip(nodes, names):
        spec_prefix = (nd.get("type", "n")[:1] or "n").lower()
        nid = graph.new_id(spec_prefix)
        while nid in taken:
            nid = graph.new_id(spec_prefix)
        taken.add(nid)
        new_ids[nd["id"]] = nid
        pos = nd.get("pos")
        if pos is not None:
            pos = (pos[0] + offset[0], pos[1] + offset[1])
        cmd.add(AddNode(graph, nd["type"], nd.get("params") or {}, pos, name, nid))
        if nd.get("repeat", 1) != 1:
            cmd.add(SetRepeat(graph, nid, nd["repeat"]))
        if nd.get("frozen"):  # a pasted copy of a pretrained block stays frozen
            cmd.add(SetFrozen(graph, [nid], True))
    for ed in fragment.get("edges", []):
        if ed["source"] in new_ids and ed["target"] in new_ids:
            cmd.add(Connect(graph, new_ids[ed["source"]], new_ids[ed["target"]],
                            ed.get("source_port"), ed.get("target_port")))
    return cmd, list(new_ids.values())


def paste_offset(graph: Graph, nodes: list[dict], offset: tuple[float, float],
                 size_of=None) -> tuple[float, float]:
    """``offset`` when the pasted blocks moved by it overlap no block of
    ``graph``, else the nearest offset (in steps of half a block) at which
    none does: a paste never lands on other blocks (or on what was copied).
    ``size_of(graph, type name)``: a block's size (see :func:`paste`)."""
    def size(t: str) -> tuple[float, float]:
        return size_of(graph, t) if size_of is not None else DEFAULT_SIZE
    moving = [(*nd["pos"], *size(nd["type"])) for nd in nodes if nd.get("pos")]
    boxes = [(*n.pos, *size(n.type)) for n in graph.nodes.values() if n.pos is not None]
    step = ((DEFAULT_SIZE[0] + PLACE_GAP) / 2, (DEFAULT_SIZE[1] + PLACE_GAP) / 2)
    return free_offset(boxes, moving, offset, step)


def _paste_names(graph: Graph, nodes: list[dict], planned=()) -> list[str]:
    """The names pasted nodes get: their own where free and usable, else
    derived ones that neither the graph nor another pasted node has."""
    kept: set[str] = set()
    names: list[str | None] = []
    for nd in nodes:
        name = nd.get("name")
        if name is not None and name not in kept and graph.name_problem(name) is None:
            kept.add(name)
            names.append(name)
        else:
            names.append(None)
    return [name if name is not None else
            graph.free_name(name_prefix(graph, nd["type"], list(planned)), avoid=kept)
            for nd, name in zip(nodes, names)]


def quick_fix(graph: Graph, problem, pos_hint: tuple[float, float] | None = None,
              size_of=None) -> QUndoCommand | None:
    """The command that applies a problem's ``fix`` (as :func:`graph.fixes.plan_fix`
    plans it), or None if it has none that applies to the current graph.
    ``size_of(type name)``: a block's size on the canvas, so an insert lands
    on no block (:func:`graph.fixes.place_insert`)."""
    plan = plan_fix(graph, problem)
    if plan is None:
        return None
    if plan.kind == "set_param":
        return SetParam(graph, plan.node, plan.param, plan.value)
    if plan.kind == "rename":
        return Rename(graph, plan.node, plan.value)
    edge = plan.edge
    blocks = ((plan.type, plan.params), *plan.then)
    cmd = macro("Insert " + " + ".join(t for t, _ in blocks))
    cmd.add(Disconnect(graph, edge))
    # the new blocks overlap nothing: the blocks after them move along the
    # flow when there is no room (in this same undo step)
    spots, moves = place_insert(graph, plan, size_of)
    if moves:
        cmd.add(Move(graph, {nid: (graph.nodes[nid].pos, p) for nid, p in moves.items()},
                     "Make room", mergeable=False))
    prev, port, taken = edge.source, edge.source_port, set()
    for k, (pos, (type_, params)) in enumerate(zip(spots, blocks)):
        nid = graph.new_id((type_[:1] or "n").lower())
        while nid in taken:  # the ids are taken only when the macro runs
            nid = graph.new_id((type_[:1] or "n").lower())
        taken.add(nid)
        if pos is None and pos_hint is not None:
            pos = (pos_hint[0] + CHAIN_STEP * k, pos_hint[1])
        cmd.add(AddNode(graph, type_, dict(params), pos, None, nid))
        cmd.add(Connect(graph, prev, nid, port, None))
        prev, port = nid, None
    cmd.add(Connect(graph, prev, edge.target, None, edge.target_port, index=plan.edge_index))
    return cmd
