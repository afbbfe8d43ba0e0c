"""Blocks dragged with the mouse: their edges follow as they move, and the
whole drag becomes one undoable move when the button is released.

Qt moves the selected items itself during a drag; the graph learns of the
move only at the release (one ``Move`` command, so one undo step), and the
block items do not report each step (see
:class:`~gui.canvas.node_item.NodeItem`): after each step of the mouse the
edges of the blocks that moved are rerouted here.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF

from .. import commands


class BlockDrag:
    """The drag of one scene's selected blocks.

    Args:
        scene: the :class:`~gui.canvas.scene.CanvasScene`; its ``nodes``,
            ``selected_node_ids``, ``node_geometry_changed``, ``doc`` and
            ``graph`` are used.
    """

    def __init__(self, scene):
        self._scene = scene
        self._press_pos: dict[str, QPointF] = {}
        self._drag_pos: dict[str, QPointF] = {}  # where a drag's blocks were at its last step

    def pressed(self) -> None:
        """The mouse went down (Qt has selected what it hit): remember where
        the selected blocks stand."""
        scene = self._scene
        self._press_pos = {nid: scene.nodes[nid].pos() for nid in scene.selected_node_ids()}
        self._drag_pos = dict(self._press_pos)

    @property
    def active(self) -> bool:
        """Whether a press has blocks to drag."""
        return bool(self._press_pos)

    def follow(self) -> None:
        """The blocks being dragged moved (Qt moved them in the step above):
        their edges follow now, as the block is seen to move."""
        moved = []
        nodes = self._scene.nodes
        for nid, was in self._drag_pos.items():
            item = nodes.get(nid)
            if item is not None and item.pos() != was:
                self._drag_pos[nid] = item.pos()
                moved.append(item)
        if not moved:
            return
        self._scene.node_geometry_changed()
        routed: set[int] = set()
        for item in moved:
            for e in item.edges:
                if id(e) not in routed:  # an edge between two dragged blocks: once
                    routed.add(id(e))
                    e.update_path()

    def released(self) -> None:
        """The mouse went up: the blocks that moved move in the graph (one undo step)."""
        scene = self._scene
        moves = {}
        for nid, old in self._press_pos.items():
            item = scene.nodes.get(nid)
            if item is not None and item.pos() != old:
                moves[nid] = ((old.x(), old.y()), (item.pos().x(), item.pos().y()))
        self._press_pos = {}
        self._drag_pos = {}
        if moves:
            scene.doc.push(commands.Move(scene.graph, moves))
