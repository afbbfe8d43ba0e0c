"""A block's name in the editor is its name in the code: renames the code
could not follow are refused in the inspector with the reason; names stay the
same through the Code panel, save and reopen, undo, copy/paste; a name from a
hand-written file the code cannot use is shown at the name field with a fix."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from graph.problems import Code
from gui import commands
from graph.project import project_from_dict, project_to_dict


def type_name(qtbot, window, node_id: str, text: str) -> None:
    """Select the block, then type ``text`` into the inspector's name field and press Enter."""
    window.scene.select_nodes([node_id])
    box = window.inspector.name_edit
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def _two_convs(window) -> tuple[str, str]:
    """A new document with Input [3, 8, 8] → Conv2d → Conv2d → Output, the
    blocks added as the palette adds them."""
    window.files.file_new()
    ids = [window.add_block_at_center(t) for t in ("Input", "Conv2d", "Conv2d", "Output")]
    g = window.doc.graph
    window.doc.undo.push(commands.SetParam(g, ids[0], "shape", [3, 8, 8]))
    for a, b in zip(ids, ids[1:]):
        # the palette connects a block to the selected one (the one added before it)
        if not any(e.target == b for e in g.edges):
            g.connect(a, b)
    assert [(e.source, e.target) for e in g.edges] == list(zip(ids, ids[1:]))
    return ids[1], ids[2]


def test_rename_stem_then_code_save_reopen_and_training_agree(qtbot, window, tmp_path):
    first, second = _two_convs(window)
    g = window.doc.graph
    assert (g.nodes[first].name, g.nodes[second].name) == ("conv2d_1", "conv2d_2")
    type_name(qtbot, window, first, "stem")
    assert window.scene.nodes[first].name == "stem"
    qtbot.waitUntil(lambda: "self.stem = nn.Conv2d" in window.code.toPlainText())
    code = window.code.toPlainText()
    assert "self.conv2d_2 = nn.Conv2d" in code and "conv2d_1" not in code

    # what the training process gets: the project as a dict, loaded there
    child = project_from_dict(json.loads(json.dumps(project_to_dict(window.doc.project)))).graph
    assert {n.name for n in child.nodes.values() if n.type == "Conv2d"} == {"stem", "conv2d_2"}

    path = tmp_path / "convs.json"
    assert window.files.save_to(path)
    window.files.file_new()
    assert window.files.open_path(path)
    names = {n.id: n.name for n in window.doc.graph.nodes.values()}
    assert (names[first], names[second]) == ("stem", "conv2d_2")
    assert window.scene.nodes[second].name == "conv2d_2"
    qtbot.waitUntil(lambda: "self.conv2d_2 = nn.Conv2d" in window.code.toPlainText())

    window.doc.undo.clear()
    type_name(qtbot, window, second, "head")
    window.actions["undo"].trigger()
    assert window.doc.graph.nodes[second].name == "conv2d_2"
    window.actions["redo"].trigger()
    assert window.doc.graph.nodes[second].name == "head"


REFUSED = [
    ("out", "'out' is already the name of another block; each block has its own name"),
    ("class", "'class' is a Python keyword; choose another name (e.g. 'class_')"),
    ("forward", "'forward' is an attribute of every nn.Module, which a layer of that name "
                "would hide; choose another name (e.g. 'forward_')"),
    ("training", "'training' is an attribute of every nn.Module, which a layer of that name "
                 "would hide; choose another name (e.g. 'training_')"),
    ("nn", "'nn' is a name the generated code itself uses; choose another name (e.g. 'nn_')"),
    ("1abc", "'1abc' is not a Python identifier (it starts with a digit); use letters, digits "
             "and _, starting with a letter (e.g. 'layer_1abc')"),
    ("my pool", "'my pool' is not a Python identifier (it has a space); use letters, digits "
                "and _, starting with a letter (e.g. 'my_pool')"),
]


@pytest.mark.parametrize("typed, reason", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_name_shows_its_reason_in_red_and_changes_nothing(qtbot, window, typed, reason):
    before = window.doc.undo.count()
    type_name(qtbot, window, "l1", typed)
    assert window.doc.graph.nodes["l1"].name == "fc1"
    assert window.scene.nodes["l1"].name == "fc1"
    assert window.doc.undo.count() == before
    assert window.inspector.name_error_text() == reason
    assert "#d22" in window.inspector.name_error.styleSheet()  # red, like refused values
    assert "#d22" in window.inspector.name_edit.styleSheet()
    assert window.inspector.name_edit.text() == typed  # kept as typed, to correct it
    type_name(qtbot, window, "l1", "hidden")  # a good name clears the mark
    assert window.doc.graph.nodes["l1"].name == "hidden"
    assert window.inspector.name_error_text() is None
    assert window.inspector.name_edit.styleSheet() == ""


def test_pasted_blocks_keep_free_names_and_only_clashing_ones_get_new_ones(qtbot, window):
    window.doc.undo.push(commands.Rename(window.doc.graph, "l2", "head"))
    window.scene.select_nodes(["l1", "l2"])
    assert window.edit.edit_copy()
    window.doc.undo.setClean()  # (no "save changes?" box)
    window.files.file_new()
    g = window.doc.graph
    assert g.nodes[window.add_block_at_center("Linear")].name == "linear_1"
    pasted = window.edit.edit_paste()
    assert sorted(g.nodes[n].name for n in pasted) == ["fc1", "head"]  # free here: kept
    again = window.edit.edit_paste()
    names = sorted(g.nodes[n].name for n in again)
    # both taken now: derived names, and not the taken "linear_1"
    assert names == ["linear_2", "linear_3"]
    assert len({n.name for n in g.nodes.values()}) == len(g)
    window.scene.select_nodes(again[:1])
    dup = window.edit.edit_duplicate()
    assert g.nodes[dup[0]].name == "linear_4"
    window.actions["undo"].trigger()
    window.actions["redo"].trigger()
    assert g.nodes[dup[0]].name == "linear_4"


def test_a_hand_written_name_the_code_cannot_use_is_shown_at_the_name_with_a_fix(
        qtbot, window, tmp_path):
    path = tmp_path / "hand.json"
    path.write_text(json.dumps({"format": "netcanvas", "version": 1, "name": "hand", "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [4]}},
        {"id": "fc", "type": "Linear", "name": "class", "params": {"out_features": 2}},
        {"id": "y", "type": "Output"}],
        "edges": [{"source": "x", "target": "fc"}, {"source": "fc", "target": "y"}]}))
    assert window.files.open_path(path)
    window.scene.select_nodes(["fc"])
    message = ('Linear "class": \'class\' is a Python keyword, so the code, exported files and '
               "checkpoints call this block 'class_'; rename it")
    assert window.inspector.name_error_text() == message
    qtbot.waitUntil(lambda: "self.class_ = nn.Linear" in window.code.toPlainText())
    problem = next(p for p in window.doc.analyzer.problems() if p.code == Code.BAD_NAME)
    window.scene.apply_fix(problem)
    assert window.doc.graph.nodes["fc"].name == "class_"
    assert window.inspector.name_error_text() is None
    window.actions["undo"].trigger()  # back to the file's name, though the editor refuses it
    assert window.doc.graph.nodes["fc"].name == "class"
    assert window.inspector.name_error_text() == message
