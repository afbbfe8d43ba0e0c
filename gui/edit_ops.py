"""Editing actions of the main window: delete, cut, copy, paste, duplicate,
select all.  Each is one undoable command (a macro for several nodes), on the
canvas's current level (the project's network or an opened unit).

:class:`EditController` acts on the selection of the scene its canvas view
shows and on the document it is bound to."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from graph.problems import GraphEditError

from . import commands
from .canvas.layout import type_size
from .canvas.view import CanvasView
from .feedback import Feedback
from .clipboard import MIME, fragment_text, parse_fragment, put_fragment
from .unit_commands import DefineUnit
from .unit_paste import PasteRefused, uses_unit

PASTE_OFFSET = (40.0, 40.0)


class EditController:
    """Delete, Cut, Copy, Paste, Duplicate and Select All.

    Args:
        view: the canvas (its scene holds the selection).
        feedback: where refusals are said.
    """

    def __init__(self, view: CanvasView, feedback: Feedback):
        self.view = view
        self.feedback = feedback
        self.doc = None

    def bind(self, doc) -> None:
        """Edit ``doc`` (nothing to listen to: every action reads it when taken)."""
        self.doc = doc

    @property
    def scene(self):
        """The canvas scene shown now (the document's current level)."""
        return self.view.scene()

    def edit_delete(self) -> None:
        ids = self.scene.selected_node_ids()
        gone = set(ids)
        edges = [e for e in self.scene.selected_edges()
                 if e.source not in gone and e.target not in gone]
        if not ids and not edges:
            return
        cmd = commands.macro("Delete")
        for e in edges:
            cmd.add(commands.Disconnect(self.doc.current_graph, e))
        if ids:
            cmd.add(commands.RemoveNodes(self.doc.current_graph, ids))
        self.doc.push(cmd)

    def edit_copy(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        put_fragment(fragment_text(self.doc.current_graph, ids))
        return True

    def edit_cut(self) -> None:
        if self.edit_copy():
            self.edit_delete()
            self.doc.undo.command(self.doc.undo.index() - 1).setText("Cut")

    def edit_paste(self) -> list[str]:
        data = QApplication.clipboard().mimeData()
        if data is None:
            return []
        text = bytes(data.data(MIME)).decode("utf-8") if data.hasFormat(MIME) else data.text()
        fragment = parse_fragment(text) if text else None
        if not fragment or not fragment.get("nodes"):
            self.feedback.status("The clipboard holds no NetCanvas blocks", 4000)
            return []
        return self._paste(fragment, "Paste")

    def edit_duplicate(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        fragment = parse_fragment(fragment_text(self.doc.current_graph, ids))
        return self._paste(fragment, "Duplicate") if fragment else []

    def _paste(self, fragment: dict, text: str) -> list[str]:
        graph = self.doc.current_graph
        try:
            cmd, new_ids = commands.paste(graph, fragment, PASTE_OFFSET, text,
                                          units_graph=self.doc.graph, size_of=type_size)
        except PasteRefused as exc:
            self.feedback.status(f"Cannot paste: {exc}", 8000)
            return []
        if self.doc.levels:  # inside an opened unit: never the unit inside itself
            opened = self.doc.levels[-1][0]
            planned = [c.unit for c in cmd.children if isinstance(c, DefineUnit)]
            inner = [c.args["type"] for c in cmd.children if isinstance(c, commands.AddNode)]
            bad = next((t for t in inner if uses_unit(self.doc.graph, planned, t, opened)), None)
            if bad is not None:
                self.feedback.status(
                    f"Cannot paste: {bad} is or contains unit {opened}; a unit cannot "
                    "contain itself", 8000)
                return []
        try:
            self.doc.push(cmd)
        except GraphEditError as exc:
            self.feedback.status(f"Cannot paste: {exc}", 8000)
            return []
        self.scene.select_nodes(new_ids)
        return new_ids

    def edit_select_all(self) -> None:
        for item in self.scene.nodes.values():
            item.setSelected(True)
