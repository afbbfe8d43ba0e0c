"""The canvas's context menus (right-click, or the Menu key).

On a block: Rename…, Duplicate, Disconnect, Delete, the unit actions the
window has (Group into Unit, Open Unit), Show in Code.  On an edge: Insert
Block Here… (the same search box; the block goes between the edge's ends,
when its ports fit) and Delete Edge.  On the empty canvas: Add Block Here…
(a search box listing the block types, filtered as you type by type, family,
synonym or description, like the palette's search), Paste, Fit All.

Every edit is the same undoable command the menus and keys use: the
window's own actions where it has one (Duplicate, Delete, Paste), else a
command from :mod:`gui.commands` (Rename, Disconnect, adding a block).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRegularExpression, Qt, QTimer
from PySide6.QtGui import QAction, QTextCursor, QTextDocument
from PySide6.QtWidgets import QInputDialog, QMenu

from graph import block_search, blocks
from graph.graph import GraphEditError

from .. import commands
from .edge_item import EdgeItem
from .find_bar import SearchBox
from .node_item import NodeItem

#: the window's actions a block's menu shows, in order (those it has)
BLOCK_WINDOW_ACTIONS = ("duplicate", "group", "open_unit")


class BlockSearchBox(SearchBox):
    """The search box of Add Block Here and Insert Block Here: block types
    and units by type, family, synonym or description (the palette's
    search, :mod:`graph.block_search`)."""

    def matches(self, text: str) -> list[tuple[str, str, str]]:
        ranked = []
        for key, name, kind in self._entries:
            r = block_search.rank(text, name, key, kind)
            if r is not None:
                ranked.append((r, name.lower(), (key, name, kind)))
        ranked.sort()
        return [entry for _r, _n, entry in ranked]


def registry_choices() -> list[tuple[str, str, str]]:
    """``(type, type, family)`` of every registered block."""
    return [(spec.type, spec.type, family) for family, specs in blocks.by_family().items()
            for spec in specs]


class CanvasMenus:
    """Builds the menus of one :class:`~gui.canvas.view.CanvasView`.

    Attributes:
        window_actions: the window's actions by key (``delete``, ``duplicate``,
            ``paste``, ``fit``...); the menus show those present.
        block_choices: gives the ``(type, label, family)`` entries of Add
            Block Here (the window passes its palette's, units included).
        menu: the last menu shown (kept so that a test can trigger its actions).
    """

    def __init__(self, view):
        self.view = view
        self.window_actions: dict[str, QAction] = {}
        self.block_choices = registry_choices
        self.menu: QMenu | None = None
        self.add_box = BlockSearchBox(view, "Add a block: type, family or what it does…",
                                      list_all=True)
        self.add_box.setObjectName("add_block_box")
        self.add_box.chosen.connect(self._add_chosen)
        self._add_at = QPointF()
        self.insert_box = BlockSearchBox(view, "Insert a block on this edge…", list_all=True)
        self.insert_box.setObjectName("insert_block_box")
        self.insert_box.chosen.connect(self._insert_chosen)
        self._insert_on = None

    # ------------------------------------------------------------ building
    def menu_at(self, pos: QPoint) -> QMenu | None:
        """The menu for what is under ``pos`` (viewport pixels)."""
        scene = self.view.scene()
        if scene is None:
            return None
        # a port (drawn by its block, partly outside it) stands for its block
        port = scene.port_at(self.view.mapToScene(pos)) if hasattr(scene, "port_at") else None
        hit = port.parentItem() if port is not None else None
        for item in self.view.items(pos) if hit is None else ():
            if isinstance(item, (NodeItem, EdgeItem)):
                hit = item
                break
        menu = QMenu(self.view)
        if isinstance(hit, NodeItem):
            if not hit.isSelected():
                scene.select_nodes([hit.node_id])
            self._block_menu(menu, scene, hit.node_id)
        elif isinstance(hit, EdgeItem):
            scene.clearSelection()
            hit.setSelected(True)
            edge = hit.edge
            menu.addAction("Insert Block Here…", lambda: self.open_insert_box(pos, edge))
            menu.addAction("Delete Edge",
                           lambda: scene.doc.push(commands.Disconnect(scene.graph, edge)))
        else:
            at = self.view.mapToScene(pos)
            menu.addAction("Add Block Here…", lambda: self.open_add_box(pos, at))
            self._window_action(menu, "paste")
            menu.addSeparator()
            self._window_action(menu, "fit")
        self.menu = menu
        return menu

    def _window_action(self, menu: QMenu, key: str) -> None:
        action = self.window_actions.get(key)
        if action is not None:
            menu.addAction(action)

    def _block_menu(self, menu: QMenu, scene, node_id: str) -> None:
        menu.addAction("Rename…", lambda: self.rename(node_id))
        for key in BLOCK_WINDOW_ACTIONS:
            self._window_action(menu, key)
        ids = scene.selected_node_ids()
        edges = [e for e in scene.graph.edges if e.source in ids or e.target in ids]
        disconnect = menu.addAction("Disconnect", lambda: self.disconnect(edges))
        disconnect.setEnabled(bool(edges))
        disconnect.setStatusTip("Remove every edge of the selected blocks")
        self._window_action(menu, "delete")
        self._frozen_action(menu, scene, node_id, ids)
        menu.addSeparator()
        menu.addAction("Show in Code", lambda: self.view.show_in_code.emit(node_id))

    def _frozen_action(self, menu: QMenu, scene, node_id: str, ids: list[str]) -> None:
        """A check item that freezes the selected blocks with weights (or thaws them:
        the clicked block's state decides), in one undo step."""
        g = scene.graph
        trained = [nid for nid in dict.fromkeys([node_id, *ids]) if nid in g.nodes
                   and g.nodes[nid].spec is not None
                   and (g.nodes[nid].spec.weights or getattr(g.nodes[nid].spec, "unit", None))]
        if not trained:
            return
        frozen = g.nodes[node_id].frozen
        act = menu.addAction("Frozen (not trained)",
                             lambda: scene.doc.push(commands.SetFrozen(g, trained, not frozen)))
        act.setCheckable(True)
        act.setChecked(frozen)
        act.setStatusTip("Keep the weights of the selected blocks as they are (fine-tuning)")

    # ------------------------------------------------------------ actions
    def rename(self, node_id: str) -> None:
        """Ask for a new name; a name the code cannot use is refused with the reason."""
        scene = self.view.scene()
        node = scene.graph.nodes.get(node_id)
        if node is None:
            return
        text, ok = QInputDialog.getText(self.view, "Rename Block", f"New name of {node.type} "
                                        f"{node.name!r}:", text=node.name)
        text = text.strip()
        if not ok or text == node.name:
            return
        why = "a name must not be empty" if not text else scene.graph.name_problem(text, node_id)
        if why is None:
            try:
                scene.doc.push(commands.Rename(scene.graph, node_id, text))
                return
            except GraphEditError as exc:
                why = str(exc)
        scene.message.emit(f"Cannot rename to {text!r}: {why}")

    def disconnect(self, edges) -> None:
        """Remove these edges in one undo step."""
        scene = self.view.scene()
        live = [e for e in edges if e in scene.edges]
        if not live:
            return
        cmd = commands.macro("Disconnect")
        for e in live:
            cmd.add(commands.Disconnect(scene.graph, e))
        scene.doc.push(cmd)

    def open_add_box(self, pos: QPoint, at: QPointF) -> None:
        """Show the block search at ``pos`` (viewport px); the chosen block is
        added centred at ``at`` (scene)."""
        self._add_at = QPointF(at)
        self._open_box(self.add_box, pos)

    def open_insert_box(self, pos: QPoint, edge) -> None:
        """Show the block search at ``pos`` (viewport px); the chosen block is
        inserted on ``edge`` (or refused with the reason: its ports must fit)."""
        self._insert_on = edge
        self._open_box(self.insert_box, pos)

    def _insert_chosen(self, type_name: str) -> None:
        if self._insert_on is not None:
            self.view.scene().insert_on_edge(type_name, self._insert_on)

    def _open_box(self, box, pos: QPoint) -> None:
        box.open(self.block_choices())
        vp = self.view.viewport().geometry()
        x = min(vp.left() + pos.x(), vp.right() - box.width())
        y = min(vp.top() + pos.y(), vp.bottom() - box.height())
        box.move(max(vp.left(), x), max(vp.top(), y))
        # once the menu that asked for it has closed and given focus back to the view
        QTimer.singleShot(0, box.edit, lambda: box.edit.setFocus(Qt.FocusReason.PopupFocusReason))

    def _add_chosen(self, type_name: str) -> None:
        self.view.scene().add_block(type_name, self._add_at)


def reveal_in_code(code_view, doc, node_id: str) -> bool:
    """Select the code of a block in the Code panel (its layer's line in
    ``__init__``, else the first line of ``forward`` naming it).

    Returns:
        False when the code does not mention it (the network has errors, or
        the block makes no code of its own).
    """
    if code_view.pending():  # an edit is waiting to be shown: show it first
        code_view.timer.stop()
        code_view.regenerate()
    node = doc.graph.nodes.get(node_id)
    if node is None:
        return False
    text = code_view.toPlainText()
    needles = []
    if not doc.analyzer.model_errors():
        from codegen import CodegenError, generate  # lazy, like the Code panel

        try:
            attr = generate(doc.graph, doc.name, doc.project.training).attrs.get(node_id)
        except CodegenError:
            attr = None
        if attr:
            needles.append(f"self.{attr} = ")
    # the name as a whole word (``x`` not in ``max``), from forward on
    needles.append(QRegularExpression(rf"\b{QRegularExpression.escape(node.name)}\b"))
    forward = max(text.find("def forward"), 0)
    flags = QTextDocument.FindFlag.FindCaseSensitively
    for needle in needles:
        start = 0 if isinstance(needle, str) else forward
        found = code_view.document().find(needle, start, flags)
        if not found.isNull():
            found.movePosition(QTextCursor.MoveOperation.StartOfBlock)
            found.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
            code_view.setTextCursor(found)
            code_view.centerCursor()
            return True
    return False

