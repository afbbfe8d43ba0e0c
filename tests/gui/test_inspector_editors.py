"""The inspector's editors for multi-number parameters (kernel_size, stride,
padding, dilation; Reshape/Permute lists), used with mouse and keyboard."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocumentFragment

from graph import Graph
from graph.project import Project
from gui.document import Document
from gui.param_editors import IntBox


def type_in(qtbot, box, text: str) -> None:
    """Select what a box holds (Ctrl+A), type ``text`` and press Enter."""
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


@pytest.fixture
def conv_window(window):
    g = Graph()
    g.add_node("Input", {"shape": [3, 16, 16]}, name="image", id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 4}, name="conv", id="c", pos=(250, 0))
    g.add_node("Output", {}, name="out", id="y", pos=(500, 0))
    g.add_node("Conv1d", {}, name="c1", id="c1", pos=(0, 200))
    g.add_node("Conv3d", {}, name="c3", id="c3", pos=(250, 200))
    g.add_node("MaxPool2d", {}, name="pool", id="p", pos=(500, 200))
    g.add_node("Permute", {"dims": [0, 2, 1]}, name="perm", id="pm", pos=(0, 400))
    g.add_node("Input", {"shape": [5, 7]}, name="seq", id="s", pos=(-250, 400))
    g.add_node("MultiheadAttention", {}, name="attn", id="m", pos=(250, 400))
    g.connect("x", "c")
    g.connect("c", "y")
    g.add_node("Identity", {}, name="after", id="pi", pos=(250, 600))
    g.connect("s", "pm")
    g.connect("pm", "pi")
    window.set_document(Document(Project("Editors", g, {}, {}, None)))
    return window


def _label(window, source):
    return window.scene.edges[window.doc.graph.out_edges(source)[0]].label


def test_kernel_edited_to_3x5_changes_the_edge_shape_and_undoes(qtbot, conv_window):
    w = conv_window
    w.scene.select_nodes(["c"])
    ed = w.inspector.editors["kernel_size"]
    assert len(ed.spins) == 2 and all(isinstance(s, IntBox) for s in ed.spins)  # Conv2d: 2 dims
    assert [s.value() for s in ed.spins] == [3, 3] and ed.link.isChecked()
    assert _label(w, "c") == "N×4×14×14"
    # linked: one edit sets every dimension, stored as one int
    type_in(qtbot, ed.spins[0], "5")
    assert w.doc.graph.nodes["c"].params["kernel_size"] == 5
    assert [s.value() for s in ed.spins] == [5, 5] and _label(w, "c") == "N×4×12×12"
    # unlinked: 3×5, stored as a list
    qtbot.mouseClick(ed.link, Qt.MouseButton.LeftButton)
    assert not ed.link.isChecked()
    type_in(qtbot, ed.spins[0], "3")
    assert w.doc.graph.nodes["c"].params["kernel_size"] == [3, 5]
    assert _label(w, "c") == "N×4×14×12"
    assert "3×5" in w.scene.nodes["c"].params_text.split(" · ")  # the face: a kernel is its size
    w.actions["undo"].trigger()
    assert w.doc.graph.nodes["c"].params["kernel_size"] == 5 and _label(w, "c") == "N×4×12×12"
    assert [s.value() for s in ed.spins] == [5, 5] and ed.link.isChecked()
    w.actions["redo"].trigger()
    assert _label(w, "c") == "N×4×14×12" and [s.value() for s in ed.spins] == [3, 5]
    assert not ed.link.isChecked()


def test_the_number_of_boxes_comes_from_the_block_spec(qtbot, conv_window):
    w = conv_window
    w.scene.select_nodes(["c1"])
    ed = w.inspector.editors["kernel_size"]
    assert len(ed.spins) == 1 and ed.link is None
    w.scene.select_nodes(["c3"])
    assert len(w.inspector.editors["stride"].spins) == 3
    assert len(w.inspector.editors["dilation"].spins) == 3


def test_padding_offers_same_and_valid(qtbot, conv_window):
    w = conv_window
    w.scene.select_nodes(["c"])
    ed = w.inspector.editors["padding"]
    texts = [ed.mode.itemText(i) for i in range(ed.mode.count())]
    assert texts == ["size", "same", "valid"]
    ed.mode.setFocus()
    qtbot.keyClick(ed.mode, Qt.Key.Key_Down)  # a closed combo box steps with the arrow keys
    assert w.doc.graph.nodes["c"].params["padding"] == "same"
    assert _label(w, "c") == "N×4×16×16"
    assert not any(s.isEnabled() for s in ed.spins)
    qtbot.keyClick(ed.mode, Qt.Key.Key_Up)
    assert w.doc.graph.nodes["c"].params["padding"] == 0 and all(s.isEnabled() for s in ed.spins)
    type_in(qtbot, ed.spins[0], "1")
    assert w.doc.graph.nodes["c"].params["padding"] == 1 and _label(w, "c") == "N×4×16×16"
    w.actions["undo"].trigger()
    w.actions["undo"].trigger()
    assert w.doc.graph.nodes["c"].params["padding"] == "same"
    assert ed.mode.currentText() == "same"


def test_nullable_stride_offers_default(qtbot, conv_window):
    w = conv_window
    w.scene.select_nodes(["p"])
    ed = w.inspector.editors["stride"]
    assert ed.mode.currentText() == "default" and not ed.spins[0].isEnabled()
    ed.mode.setFocus()
    qtbot.keyClick(ed.mode, Qt.Key.Key_Up)
    assert ed.mode.currentText() == "size" and ed.spins[0].isEnabled()
    assert w.doc.graph.nodes["p"].params["stride"] == 1
    type_in(qtbot, ed.spins[0], "3")
    assert w.doc.graph.nodes["p"].params["stride"] == 3
    qtbot.keyClick(ed.mode, Qt.Key.Key_Down)
    assert w.doc.graph.nodes["p"].params["stride"] is None


def test_a_problem_about_a_parameter_is_shown_at_its_editor(qtbot, conv_window):
    w = conv_window
    w.scene.select_nodes(["c"])
    type_in(qtbot, w.inspector.editors["kernel_size"].spins[0], "17")
    # the window is larger than the input: the graph blames padding (its quick fix)
    reason = w.inspector.error_text("padding")
    assert reason and "larger than the padded input" in reason
    assert "#d22" in w.inspector.editors["padding"].widget.styleSheet()
    assert w.inspector.problem_label.isHidden()  # said once, at the editor it is about
    # a problem about no one parameter is shown above the form, quotes and all
    w.scene.select_nodes(["c1"])
    label = w.inspector.problem_label
    assert not label.isHidden() and "not connected" in label.text()
    assert label.textFormat() == Qt.TextFormat.RichText  # so &quot; shows as a quote
    assert 'Conv1d "c1"' in QTextDocumentFragment.fromHtml(label.text()).toPlainText()


def test_list_editor_grows_and_shrinks_with_the_buttons(qtbot, conv_window):
    w = conv_window
    w.scene.select_nodes(["pm"])
    ed = w.inspector.editors["dims"]
    assert [b.value() for b in ed.boxes] == [0, 2, 1]
    assert _label(w, "pm") == "N×7×5"
    qtbot.mouseClick(ed.add_button, Qt.MouseButton.LeftButton)
    assert w.doc.graph.nodes["pm"].params["dims"] == [0, 2, 1, 3] and len(ed.boxes) == 4
    assert w.scene.nodes["pm"].severity == "error"  # a 4-d order for a 3-d tensor
    qtbot.mouseClick(ed.remove_button, Qt.MouseButton.LeftButton)
    assert w.doc.graph.nodes["pm"].params["dims"] == [0, 2, 1] and _label(w, "pm") == "N×7×5"
    type_in(qtbot, ed.boxes[1], "1")
    type_in(qtbot, ed.boxes[2], "2")
    assert _label(w, "pm") == "N×5×7"
    w.actions["undo"].trigger()
    assert [b.value() for b in ed.boxes] == [0, 1, 1]


def test_a_required_number_shows_as_required_until_given(qtbot, conv_window):
    w = conv_window
    w.scene.select_nodes(["m"])
    spin = w.inspector.editors["num_heads"].widget
    assert spin.text() == "required" and "needs a value" in w.inspector.error_text("num_heads")
    type_in(qtbot, spin, "1")  # the smallest allowed value can be chosen
    assert w.doc.graph.nodes["m"].params["num_heads"] == 1
    assert w.inspector.error_text("num_heads") is None


# ---------------------------------------------------------------------- typed as typed
def test_a_whole_number_is_taken_as_typed_or_refused_with_the_reason(qtbot, window):
    window.scene.select_nodes(["l1"])
    box = window.inspector.editors["out_features"].widget
    node = window.doc.graph.nodes["l1"]
    type_in(qtbot, box, "-5")  # once committed as 5: the minus sign was dropped
    assert window.inspector.error_text("out_features") == "out_features must be >= 1, got -5"
    assert node.params["out_features"] == 32 and box.text() == "-5"  # refused, left as typed
    assert "#d22" in box.styleSheet()
    type_in(qtbot, box, "0")
    assert "must be >= 1, got 0" in window.inspector.error_text("out_features")
    type_in(qtbot, box, "3.5")
    assert window.inspector.error_text("out_features") == \
        "out_features must be a whole number, got '3.5'"
    # beyond what the spec takes: refused whole (it was cut to 999999999, a number nobody typed)
    type_in(qtbot, box, "99999999999")
    assert "out_features must be at most" in window.inspector.error_text("out_features")
    assert node.params["out_features"] == 32 and box.text() == "99999999999"
    type_in(qtbot, box, "2000")
    assert node.params["out_features"] == 2000 and box.text() == "2000"
    assert window.inspector.error_text("out_features") is None and box.styleSheet() == ""
    window.actions["undo"].trigger()
    assert node.params["out_features"] == 32 and box.text() == "32"


def test_a_decimal_and_a_whole_number_are_refused_the_same_way(qtbot, conv_window):
    w = conv_window
    w.scene.select_nodes(["m"])
    type_in(qtbot, w.inspector.editors["dropout"].widget, "1.5")
    type_in(qtbot, w.inspector.editors["num_heads"].widget, "-2")
    assert w.inspector.error_text("dropout").startswith("dropout must be >= 0 and")
    assert w.inspector.error_text("num_heads") == "num_heads must be >= 1, got -2"
    for name, typed in (("dropout", "1.5"), ("num_heads", "-2")):  # both kept, both marked
        box = w.inspector.editors[name].widget
        assert box.text() == typed and "#d22" in box.styleSheet()
    assert w.doc.graph.nodes["m"].params.get("num_heads") is None  # still "required"


def test_a_size_box_refuses_what_the_spec_refuses_and_keeps_the_text(qtbot, conv_window):
    w = conv_window
    w.scene.select_nodes(["c"])
    ed = w.inspector.editors["kernel_size"]
    type_in(qtbot, ed.spins[0], "-5")  # linked: both boxes say what was typed
    assert w.inspector.error_text("kernel_size") == "kernel_size must be >= 1, got -5"
    assert [s.text() for s in ed.spins] == ["-5", "-5"]
    assert w.doc.graph.get_param("c", "kernel_size") == 3  # the default, untouched
    ed.spins[0].setFocus()  # emptied: select all, Backspace, Enter
    qtbot.keyClick(ed.spins[0], Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(ed.spins[0], Qt.Key.Key_Backspace)
    qtbot.keyClick(ed.spins[0], Qt.Key.Key_Return)
    assert w.inspector.error_text("kernel_size") == "kernel_size must be a whole number, got ''"
    type_in(qtbot, ed.spins[0], "5")
    assert w.doc.graph.nodes["c"].params["kernel_size"] == 5
    assert w.inspector.error_text("kernel_size") is None
    w.scene.select_nodes(["pm"])
    dims = w.inspector.editors["dims"]
    type_in(qtbot, dims.boxes[0], "x")
    assert w.inspector.error_text("dims") == "dims must be a whole number, got 'x'"
    assert w.doc.graph.nodes["pm"].params["dims"] == [0, 2, 1]


def test_the_arrows_step_within_the_specs_range(qtbot, window):
    window.scene.select_nodes(["l1"])
    box = window.inspector.editors["out_features"].widget
    type_in(qtbot, box, "1")
    qtbot.keyClick(box, Qt.Key.Key_Down)  # 0 is not allowed: the arrow stops at 1
    assert window.doc.graph.nodes["l1"].params["out_features"] == 1 and box.text() == "1"
    qtbot.keyClick(box, Qt.Key.Key_Up)
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert window.doc.graph.nodes["l1"].params["out_features"] == 3 and box.text() == "3"
    type_in(qtbot, box, "-7")
    qtbot.keyClick(box, Qt.Key.Key_Up)  # from a refused value the arrow goes into the range
    assert window.doc.graph.nodes["l1"].params["out_features"] == 1
    assert window.inspector.error_text("out_features") is None
