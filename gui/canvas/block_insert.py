"""Putting a new block on the canvas, in one undo step: where it was
dropped, or on an edge (source → new block → target).

A palette block dropped on an edge, or picked from an edge's context menu,
goes in between the edge's two blocks; the blocks after it move along the
flow when there is no room (as a quick fix's insert).  A block whose ports
do not fit (it needs an input and an output port) is refused with the reason.
These functions act on a :class:`~gui.canvas.scene.CanvasScene` (its ``doc``,
``graph``, ``nodes``, ``edges``, ``vertical``, ``message`` and selection),
which offers them as methods of its own.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF

from graph import unit_library
from graph.graph import Edge, GraphEditError
from graph.placement import PLACE_GAP, make_room

from .. import commands
from . import layout
from .edge_item import label_width
from .style import NODE_HEIGHT, NODE_WIDTH


def add_block(scene, type_name: str, pos: QPointF) -> str | None:
    """Add a block centred at ``pos`` (undoable); returns its id."""
    cmd, why = commands.add_block(scene.doc, type_name,
                                  (pos.x() - NODE_WIDTH / 2, pos.y() - NODE_HEIGHT / 2))
    if cmd is None:
        scene.message.emit(why)
        return None
    try:
        scene.doc.push(cmd)
    except GraphEditError as exc:
        scene.message.emit(str(exc))
        return None
    scene.clearSelection()
    scene.nodes[cmd.node.id].setSelected(True)
    return cmd.node.id


def spec_for(scene, type_name: str):
    """The spec a block of ``type_name`` (a palette entry, ``library:NAME``
    included) would have here, or None when there is no such type."""
    if type_name.startswith(commands.LIBRARY_PREFIX):
        try:
            name, unit = unit_library.plan_library_unit(
                scene.doc.graph, type_name[len(commands.LIBRARY_PREFIX):])
        except GraphEditError:
            return None
        return unit.spec() if unit is not None else scene.doc.graph.spec_of_type(name)
    return scene.graph.spec_of_type(type_name)


def insert_refusal(scene, type_name: str, edge: Edge) -> str | None:
    """Why a block of ``type_name`` cannot go on ``edge`` (its ports do not
    fit: it needs an input and an output port), or None when it can."""
    spec = spec_for(scene, type_name)
    label = type_name.removeprefix(commands.LIBRARY_PREFIX)
    if spec is None:
        return f"unknown block type {label!r}"
    outs = spec.outputs if spec.role != "output" else ()
    if spec.role == "input" or not spec.inputs:
        return f"{label} has no input port to take the edge's tensor"
    if not outs:
        return f"{label} has no output port to pass the tensor on"
    if edge not in scene.edges:
        return "that edge is gone"
    return None


def insert_on_edge(scene, type_name: str, edge: Edge) -> str | None:
    """Insert a block of ``type_name`` on ``edge``: source → new block →
    target, in one undo step; the blocks after it move along the flow
    when there is no room (as a quick fix's insert).  A block whose ports
    do not fit is refused with the reason (a status message).

    Returns:
        The new block's id, or None (refused).
    """
    label = type_name.removeprefix(commands.LIBRARY_PREFIX)
    why = insert_refusal(scene, type_name, edge)
    if why is None:
        size = layout.type_size(scene.graph, type_name)
        boxes = {nid: (item.pos().x(), item.pos().y(), item.rect.width(), item.rect.height())
                 for nid, item in scene.nodes.items()}
        gap = 2 * PLACE_GAP
        if not scene.vertical:  # side by side: the shape labels need the room between
            gap = max(gap, label_width(scene.edges[edge].label) + 2 * PLACE_GAP)
        (spot,), moves = make_room(boxes, edge.source, edge.target, [size], gap)
        add, why = commands.add_block(scene.doc, type_name, spot)
    if why:
        scene.message.emit(f"Cannot insert {label} on this edge: {why}")
        return None
    nid = scene.graph.new_id((label[:1] or "n").lower())
    add.add_node.args["id"] = nid  # the edges below need it before the macro runs
    index = scene.graph.edges.index(edge)
    cmd = commands.macro(f"Insert {label}")
    cmd.add(commands.Disconnect(scene.graph, edge))
    if moves:
        cmd.add(commands.Move(scene.graph, {n: (scene.graph.nodes[n].pos, p)
                                            for n, p in moves.items()},
                              "Make room", mergeable=False))
    cmd.add(add)
    cmd.add(commands.Connect(scene.graph, edge.source, nid, edge.source_port, None))
    cmd.add(commands.Connect(scene.graph, nid, edge.target, None, edge.target_port,
                             index=index))
    try:
        scene.doc.push(cmd)
    except GraphEditError as exc:
        scene.message.emit(f"Cannot insert {label} on this edge: {exc}")
        return None
    scene.select_nodes([nid])
    return nid
