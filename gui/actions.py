"""Menus and toolbar as data: each action names its menu, text, shortcut and
the main-window method it calls.  The window builds QActions from this table."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QKeySequence

K = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    key: str
    menu: str
    text: str
    handler: str
    shortcut: object = None
    toolbar: bool = False
    tip: str = ""


SEP = None

ACTIONS: tuple = (
    ActionSpec("new", "&File", "&New", "file_new", K.New, True, "Start an empty network"),
    ActionSpec("open", "&File", "&Open…", "file_open", K.Open, True, "Open a project file"),
    ActionSpec("recent", "&File", "Open &Recent", "", None),
    ActionSpec("save", "&File", "&Save", "file_save", K.Save, True, "Save the project"),
    ActionSpec("save_as", "&File", "Save &As…", "file_save_as", K.SaveAs),
    ("&File", SEP),
    ActionSpec("quit", "&File", "&Quit", "close", K.Quit),
    ActionSpec("undo", "&Edit", "&Undo", "", K.Undo, True),
    ActionSpec("redo", "&Edit", "&Redo", "", K.Redo, True),
    ("&Edit", SEP),
    ActionSpec("cut", "&Edit", "Cu&t", "edit_cut", K.Cut),
    ActionSpec("copy", "&Edit", "&Copy", "edit_copy", K.Copy),
    ActionSpec("paste", "&Edit", "&Paste", "edit_paste", K.Paste),
    ActionSpec("duplicate", "&Edit", "&Duplicate", "edit_duplicate", "Ctrl+D"),
    ActionSpec("delete", "&Edit", "De&lete", "edit_delete", K.Delete, False,
               "Delete the selected blocks and edges"),
    ActionSpec("select_all", "&Edit", "Select &All", "edit_select_all", K.SelectAll),
    ActionSpec("zoom_in", "&View", "Zoom &In", "view_zoom_in", K.ZoomIn, True),
    ActionSpec("zoom_out", "&View", "Zoom &Out", "view_zoom_out", K.ZoomOut, True),
    ActionSpec("fit", "&View", "&Fit All", "view_fit", "Ctrl+0", True, "Show the whole network"),
    ("&View", SEP),
    ActionSpec("layout", "&View", "&Auto-layout", "view_layout", "Ctrl+L", True,
               "Arrange blocks left to right by layers"),
)
