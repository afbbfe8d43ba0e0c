"""Editing actions of the main window: delete, cut, copy, paste, duplicate,
select all.  Each is one undoable command (a macro for several nodes)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from . import commands
from .clipboard import MIME, fragment_text, parse_fragment, put_fragment

PASTE_OFFSET = (40.0, 40.0)


class EditOps:
    """Mixin for :class:`gui.main_window.MainWindow`."""

    def edit_delete(self) -> None:
        ids = self.scene.selected_node_ids()
        gone = set(ids)
        edges = [e for e in self.scene.selected_edges()
                 if e.source not in gone and e.target not in gone]
        if not ids and not edges:
            return
        cmd = commands.macro("Delete")
        for e in edges:
            cmd.add(commands.Disconnect(self.doc.graph, e))
        if ids:
            cmd.add(commands.RemoveNodes(self.doc.graph, ids))
        self.doc.undo.push(cmd)

    def edit_copy(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        put_fragment(fragment_text(self.doc.graph, ids))
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
            self.statusBar().showMessage("The clipboard holds no NetCanvas blocks", 4000)
            return []
        return self._paste(fragment, "Paste")

    def edit_duplicate(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        fragment = parse_fragment(fragment_text(self.doc.graph, ids))
        return self._paste(fragment, "Duplicate") if fragment else []

    def _paste(self, fragment: dict, text: str) -> list[str]:
        cmd, new_ids = commands.paste(self.doc.graph, fragment, PASTE_OFFSET, text)
        self.doc.undo.push(cmd)
        self.scene.select_nodes(new_ids)
        return new_ids

    def edit_select_all(self) -> None:
        for item in self.scene.nodes.values():
            item.setSelected(True)
