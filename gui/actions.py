"""Menus and toolbar as data: each action names its menu, text, shortcut and
what it calls: ``"files.file_open"`` is the ``file_open`` method of the
window's ``files`` controller, a plain name a method of the window itself.
The window builds QActions from this table."""

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
    ActionSpec("new", "&File", "&New", "files.file_new", K.New, True, "Start an empty network"),
    ActionSpec("new_template", "&File", "New from &Template…", "files.file_new_from_template",
               "Ctrl+Shift+N", False, "Start from a ready-made network"),
    ActionSpec("open", "&File", "&Open…", "files.file_open", K.Open, True, "Open a project file"),
    ActionSpec("recent", "&File", "Open &Recent", "", None),
    ActionSpec("save", "&File", "&Save", "files.file_save", K.Save, True, "Save the project"),
    ActionSpec("save_as", "&File", "Save &As…", "files.file_save_as", K.SaveAs),
    ("&File", SEP),
    ActionSpec("import_model", "&File", "&Import PyTorch Model…", "files.file_import_model",
               "Ctrl+I", False, "Bring a PyTorch model (a Python file) onto the canvas; importing "
               "runs the file's code, so import only files you trust"),
    # a menu named "Parent/Child" is a submenu of Parent
    ActionSpec("export_model", "&File/&Export", "Model (.py)…", "exports.export_model",
               tip="The network as a standalone PyTorch file"),
    ActionSpec("export_script", "&File/&Export", "Model and &Training Script…",
               "exports.export_script",
               tip="The model file and a complete training script next to it"),
    ActionSpec("export_weights", "&File/&Export", "&Weights from a Checkpoint…",
               "exports.export_weights",
               tip="Trained weights (state_dict) taken from a training checkpoint"),
    ActionSpec("export_onnx", "&File/&Export", "&ONNX…", "exports.export_onnx",
               tip="The model in ONNX format (needs the onnx extra)"),
    ActionSpec("export_picture", "&File/&Export", "&Picture of the Graph…",
               "exports.export_picture",
               tip="The canvas as PNG or SVG"),
    ActionSpec("export_summary", "&File/&Export", "Model &Summary…", "exports.export_summary",
               tip="A table of layers, output shapes, parameters and FLOPs"),
    ("&File", SEP),
    ActionSpec("quit", "&File", "&Quit", "close", "Ctrl+Q"),
    ActionSpec("undo", "&Edit", "&Undo", "", K.Undo, True),
    ActionSpec("redo", "&Edit", "&Redo", "", K.Redo, True),
    ("&Edit", SEP),
    ActionSpec("cut", "&Edit", "Cu&t", "edit.edit_cut", K.Cut),
    ActionSpec("copy", "&Edit", "&Copy", "edit.edit_copy", K.Copy),
    ActionSpec("paste", "&Edit", "&Paste", "edit.edit_paste", K.Paste),
    ActionSpec("duplicate", "&Edit", "&Duplicate", "edit.edit_duplicate", "Ctrl+D"),
    ActionSpec("delete", "&Edit", "De&lete", "edit.edit_delete", K.Delete, False,
               "Delete the selected blocks and edges"),
    ActionSpec("select_all", "&Edit", "Select &All", "edit.edit_select_all", K.SelectAll),
    ("&Edit", SEP),
    ActionSpec("group", "&Edit", "&Group into Unit…", "units.edit_group", "Ctrl+G", False,
               "Make the selected blocks one reusable unit (one class in the code)"),
    ActionSpec("ungroup", "&Edit", "U&ngroup", "units.edit_ungroup", "Ctrl+Shift+G", False,
               "Put the selected unit block's blocks back in its place"),
    ActionSpec("open_unit", "&Edit", "&Open Unit", "units.edit_open_unit", None, False,
               "Edit the selected unit block's definition (or double-click it)"),
    ActionSpec("unit_back", "&Edit", "&Back to Parent", "units.unit_back", "Esc", False,
               "Leave the opened unit (Esc, Alt+Left)"),
    ActionSpec("find", "&Edit", "&Find Block…", "edit_find", K.Find, False,
               "Find a block by name or type and jump to it"),
    ActionSpec("zoom_in", "&View", "Zoom &In", "view_zoom_in", K.ZoomIn, True),
    ActionSpec("zoom_out", "&View", "Zoom &Out", "view_zoom_out", K.ZoomOut, True),
    ActionSpec("fit", "&View", "&Fit All", "view_fit", "Ctrl+0", True, "Show the whole network"),
    ActionSpec("zoom_selection", "&View", "Zoom to &Selection", "view_zoom_selection", "Ctrl+2",
               False, "Fit the selected blocks in the view"),
    # checkable (the window makes it so): shown while the network is larger than the view
    ActionSpec("minimap", "&View", "&Minimap", "view_toggle_minimap", "Ctrl+Shift+M", False,
               "An overview in the canvas corner while the network is larger than the view"),
    ("&View", SEP),
    ActionSpec("layout", "&View", "&Auto-layout", "view_layout", "Ctrl+L", True,
               "Arrange the blocks in layers along the flow, the main path straight"),
    # checkable (the window makes it so), remembered per user
    ActionSpec("layout_lr", "&View", "Flow &Left to Right", "view_toggle_direction", None, False,
               "Lay networks out left to right instead of top to bottom"),
    ActionSpec("auto_connect", "&View", "&Connect Added Blocks", "view_toggle_auto_connect",
               None, False, "A block added from the palette goes next to the selected block "
               "and is connected to it when their ports fit"),
    ("&View", SEP),
    # the window puts each panel's show/hide toggle above this entry
    ActionSpec("reset_layout", "&View/&Panels", "&Reset Layout", "reset_layout",
               tip="Put every panel back where it starts"),
    ActionSpec("train_show", "&Train", "Training &View", "train.show_training", "Ctrl+T", False,
               "Show the training settings, live curves and runs"),
    ActionSpec("train_start", "&Train", "&Start", "train.train_start", "F5", True,
               "Train the network with the training settings"),
    ActionSpec("train_pause", "&Train", "&Pause / Resume", "train.train_pause", "F6", True,
               "Hold training before the next batch, or continue"),
    ActionSpec("train_stop", "&Train", "S&top", "train.train_stop", "Shift+F5", True,
               "Stop training; metrics and the last checkpoint are kept"),
    ActionSpec("train_load_pretrained", "&Train", "Load Pretrained &Weights…",
               "train.load_pretrained", tip="Start the next run from a checkpoint's weights: "
               "the blocks whose names and shapes match load them (fine-tuning)"),
)
