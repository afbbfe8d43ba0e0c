"""Unit actions of the main window: Group into Unit (Ctrl+G), Ungroup
(Ctrl+Shift+G), Open Unit (double-click an instance) and Back (Esc, Alt+Left),
with the breadcrumb above the canvas (``Project › BasicBlock``).

Opening a unit makes its definition the document's current level
(:meth:`gui.document.Document.enter_unit`); :class:`UnitController` hears
the document's ``level_changed`` and has the canvas rebuilt on that level's
graph, so every edit there is an ordinary undoable
edit of the definition, and the project's analysis (which follows the
definition's edits) updates every instance.
"""

from __future__ import annotations

import html
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QLineEdit, QMessageBox,
                               QToolButton, QWidget)

from graph.problems import GraphEditError
from graph.units import unit_name_problem

from .binding import DocumentBinding
from .inspector import is_binding
from .unit_commands import GroupUnit, UngroupUnit

#: room left between an opened unit's blocks and its Input/Output ports
#: placed automatically (a grouped selection's ports have no position)
PORT_GAP = 260.0


def unit_name_refusal(graph, name: str) -> str | None:
    """Why ``name`` cannot name a new unit of ``graph``'s project, or None."""
    why = unit_name_problem(name)
    if why is None and name in graph.units:
        why = f"a unit named {name!r} already exists; choose another name"
    return why


def suggest_unit_name(graph) -> str:
    k = 1
    while f"Unit{k}" in graph.units:
        k += 1
    return f"Unit{k}"


class Breadcrumb(QWidget):
    """``Project › BasicBlock`` above the canvas, each level a link, and Back.

    Args:
        on_level: called with a depth (0: the project) when a link is clicked.
        on_back: called when Back is clicked.
    """

    def __init__(self, on_level, on_back, parent=None):
        super().__init__(parent)
        self.back = QToolButton(text="‹ Back")
        self.back.setToolTip("Back to the network this unit is used in (Esc, Alt+Left)")
        self.back.clicked.connect(lambda: on_back())
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.linkActivated.connect(lambda link: on_level(int(link)))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 3, 6, 3)
        lay.addWidget(self.back)
        lay.addWidget(self.label, 1)
        self._plain = ""
        self.hide()

    def show_levels(self, project_name: str, names: list[str], note: str = "") -> None:
        """Show the path (and a note after it); hidden at the project's level."""
        crumbs = [project_name or "Project"] + names
        self._plain = " › ".join(crumbs)
        parts = [f'<a href="{k}">{html.escape(c)}</a>' for k, c in enumerate(crumbs[:-1])]
        parts.append(f"<b>{html.escape(crumbs[-1])}</b>")
        tail = f'&nbsp;&nbsp;<span style="color: #888;">{html.escape(note)}</span>' if note else ""
        self.label.setText(" › ".join(parts) + tail)
        self.setVisible(bool(names))

    def text(self) -> str:
        """The path as plain text (``Project › BasicBlock``)."""
        return self._plain


class UnitController:
    """Group, Ungroup, Open Unit, Back and the breadcrumb above the canvas.

    Args:
        parent: the window dialogs belong to.
        view: the canvas (its scene holds the selection; its zoom and centre
            are kept for each level left for a unit, and put back on Back).
        feedback: where refusals are said.
        rebuild_canvas: shows the document's current level in a new scene.
        back_action: Edit → Back to Parent, enabled inside a unit.
    """

    def __init__(self, parent: QWidget, view, feedback, rebuild_canvas: Callable[[], None],
                 back_action: QAction):
        self.parent = parent
        self.view = view
        self.feedback = feedback
        self.rebuild_canvas = rebuild_canvas
        self.back_action = back_action
        self.breadcrumb = Breadcrumb(self.go_to_level, self.unit_back)
        self._saved_views: list = []  # zoom and centre of each level left for a unit
        self.doc = None
        self.binding = DocumentBinding(level_changed=self._level_changed,
                                       name_changed=self.update_breadcrumb)

    def bind(self, doc) -> None:
        """Follow the levels of ``doc`` (see :mod:`gui.binding`)."""
        self.doc = self.binding.bind(doc)
        self._saved_views = []
        self.update_breadcrumb()

    @property
    def scene(self):
        """The canvas scene shown now (the document's current level)."""
        return self.view.scene()

    # ------------------------------------------------------------ group / ungroup
    def ask_unit_name(self, graph) -> str | None:
        """Ask a name for a new unit until it is usable (None: cancelled)."""
        text = suggest_unit_name(graph)
        while True:
            text, ok = QInputDialog.getText(self.parent, "Group into Unit",
                                            "Name of the new unit (its class in the code):",
                                            QLineEdit.EchoMode.Normal, text)
            if not ok:
                return None
            name = text.strip()
            why = unit_name_refusal(graph, name)
            if why is None:
                return name
            QMessageBox.warning(self.parent, "Group into Unit", f"Cannot use that name: {why}")

    def edit_group(self) -> str | None:
        """Edit → Group into Unit: the selection becomes one instance; returns its id."""
        ids = self.scene.selected_node_ids()
        graph = self.doc.current_graph
        if not ids:
            self.feedback.status("Select the blocks to group into a unit first", 5000)
            return None
        bad = next((graph.nodes[i] for i in ids if graph.nodes[i].spec is not None
                    and graph.nodes[i].spec.role != "layer"), None)
        if bad is not None:
            QMessageBox.warning(self.parent, "Group into Unit", f"{bad.label()} is a model input "
                                "or output; it cannot go into a unit (leave it out of the "
                                "selection)")
            return None
        bound = next(((graph.nodes[i], k, v) for i in ids for k, v in graph.nodes[i].params.items()
                      if is_binding(v)), None)
        if bound is not None:
            # the new unit would not have that parameter to bind it to
            node, param, value = bound
            QMessageBox.warning(self.parent, "Group into Unit", f"{node.label()} sets {param} to "
                                f"the unit parameter {value}; blocks that use this unit's "
                                "parameters cannot be grouped into a unit of their own")
            return None
        name = self.ask_unit_name(graph)
        if name is None:
            return None
        try:
            cmd = GroupUnit(graph, ids, name).apply()
            self.doc.push(cmd)
        except GraphEditError as exc:
            QMessageBox.warning(self.parent, "Group into Unit", str(exc))
            return None
        self.scene.select_nodes([cmd.instance_id])
        self.feedback.status(f"Grouped {len(ids)} blocks into unit {name}", 5000)
        return cmd.instance_id

    def edit_ungroup(self) -> list[str]:
        """Edit → Ungroup: the selected instance's blocks back in its place."""
        ids = self.scene.selected_node_ids()
        graph = self.doc.current_graph
        insts = [i for i in ids if graph.nodes[i].type in graph.units]
        if len(insts) != 1:
            self.feedback.status("Select one unit block to ungroup", 5000)
            return []
        try:
            cmd = UngroupUnit(graph, insts[0]).apply()
            self.doc.push(cmd)
        except GraphEditError as exc:
            self.feedback.status(f"Cannot ungroup: {exc}", 8000)
            return []
        self.scene.select_nodes(cmd.node_ids)
        return cmd.node_ids

    # ------------------------------------------------------------ levels
    def edit_open_unit(self) -> bool:
        """Edit → Open Unit: open the selected instance's definition."""
        ids = self.scene.selected_node_ids()
        if len(ids) != 1 or not self.open_instance(ids[0]):
            self.feedback.status("Select one unit block to open", 5000)
            return False
        return True

    def open_instance(self, node_id: str) -> bool:
        """Open the unit of an instance at the current level (False: not an instance)."""
        graph = self.doc.current_graph
        node = graph.nodes.get(node_id)
        if node is None or node.type not in graph.units:
            return False
        self.open_unit(node.type, node_id)
        return True

    def open_unit(self, name: str, instance_id: str | None = None) -> None:
        """Show a unit's definition in the canvas (its shapes from ``instance_id``)."""
        self._saved_views.append((self.view.transform(),
                                  self.view.mapToScene(self.view.viewport().rect().center())))
        self.doc.enter_unit(name, instance_id)

    def open_dotted(self, node_id: str) -> str:
        """For a dotted id of a block inside an instance (``l1.c1``, ``l1.0.c1``
        in a repeated one, ``l1.b.c1`` nested): open the units down to it and
        return its id there; any other id is returned as it is."""
        while node_id not in self.scene.nodes and "." in node_id:
            head, _, rest = node_id.partition(".")
            if not self.open_instance(head):
                break
            parts = rest.split(".")
            while len(parts) > 1 and parts[0].isdigit() and parts[0] not in self.scene.nodes:
                parts.pop(0)  # the copy of a repeated instance: one definition for all
            node_id = ".".join(parts)
        return node_id

    def unit_back(self) -> None:
        """Back (Esc, Alt+Left): to the network the opened unit is used in."""
        if self.doc.levels:
            self.doc.leave_to(len(self.doc.levels) - 1)

    def go_to_level(self, depth: int) -> None:
        self.doc.leave_to(depth)

    def _level_changed(self) -> None:
        """Rebuild the canvas on the document's current level."""
        depth = len(self.doc.levels)
        saved = None
        while len(self._saved_views) > depth:
            saved = self._saved_views.pop()
        place_ports(self.doc.current_graph)
        self.rebuild_canvas()
        self.update_breadcrumb()
        if saved is not None:
            self.view.setTransform(saved[0])
            self.view.center_on(saved[1])
        else:
            self.view.show_network()

    def update_breadcrumb(self, *_args) -> None:
        names = [name for name, _u, _i in self.doc.levels]
        note = ""
        if self.doc.levels:
            parent = self.doc.levels[-2][1].graph if len(self.doc.levels) > 1 else self.doc.graph
            inst = parent.nodes.get(self.doc.levels[-1][2] or "")
            note = (f"shapes of {inst.name}" + (" (first copy)" if inst.repeat > 1 else "")
                    if inst is not None else "")
        self.breadcrumb.show_levels(self.doc.name, names, note)
        self.back_action.setEnabled(bool(names))


def place_ports(graph) -> None:
    """Give an opened unit's Input/Output nodes without a position one: left
    of the blocks they feed, right of the blocks feeding them."""
    placed = [n.pos for n in graph.nodes.values() if n.pos is not None]
    if not placed:
        return
    left = min(p[0] for p in placed) - PORT_GAP
    right = max(p[0] for p in placed) + PORT_GAP
    for k, node in enumerate(list(graph.nodes.values())):
        if node.pos is not None or node.spec is None or node.spec.role == "layer":
            continue
        if node.spec.role == "input":
            near = [graph.nodes[e.target].pos for e in graph.out_edges(node.id)]
            x = left
        else:
            near = [graph.nodes[e.source].pos for e in graph.in_edges(node.id)]
            x = right
        ys = [p[1] for p in near if p is not None]
        y = sum(ys) / len(ys) if ys else placed[0][1] + 60 * k
        graph.move(node.id, (x, y))
