"""Units in the editor, by mouse and keyboard: Group into Unit (Ctrl+G) and
Ungroup (Ctrl+Shift+G), opening a unit by double-click with its breadcrumb
and Back (Esc), editing inside it, the inspector's repeat, copy/paste of an
instance between documents."""

from __future__ import annotations

import copy
import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from graph import Graph
from graph.project import Project, loads_project
from gui.document import Document

from conftest import node_point
from test_inspector_editors import type_in
from test_panels import _click_item

BLOCK = {
    "params": {"channels": 16},
    "nodes": [
        {"id": "x", "type": "Input", "name": "x", "params": {}, "pos": [0, 0]},
        {"id": "c1", "type": "Conv2d", "name": "conv1",
         "params": {"out_channels": "$channels", "kernel_size": 3, "padding": 1},
         "pos": [250, 0]},
        {"id": "r", "type": "ReLU", "name": "relu", "params": {}, "pos": [500, 0]},
        {"id": "y", "type": "Output", "name": "y", "params": {}, "pos": [750, 0]},
    ],
    "edges": [{"source": "x", "target": "c1"}, {"source": "c1", "target": "r"},
              {"source": "r", "target": "y"}],
}


def two_stage(block=None) -> Project:
    """Input 16×8×8 → BasicBlock(16) → BasicBlock(32) → Output."""
    doc = {"format": "netcanvas", "version": 2, "name": "Net",
           "units": {"BasicBlock": copy.deepcopy(block or BLOCK)},
           "nodes": [
               {"id": "img", "type": "Input", "name": "image", "params": {"shape": [16, 8, 8]},
                "pos": [0, 0]},
               {"id": "l1", "type": "BasicBlock", "name": "layer1", "params": {"channels": 16},
                "pos": [260, 0]},
               {"id": "l2", "type": "BasicBlock", "name": "layer2", "params": {"channels": 32},
                "pos": [520, 0]},
               {"id": "out", "type": "Output", "name": "out", "params": {}, "pos": [780, 0]}],
           "edges": [{"source": "img", "target": "l1"}, {"source": "l1", "target": "l2"},
                     {"source": "l2", "target": "out"}],
           "training": {}}
    return loads_project(json.dumps(doc))


def flat_project() -> Project:
    """Input → conv → bn → add(+input) → relu → Output: a residual block, flat."""
    g = Graph()
    g.add_node("Input", {"shape": [16, 8, 8]}, name="image", id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, name="conv1",
               id="c1", pos=(260, 0))
    g.add_node("BatchNorm2d", {}, name="bn1", id="b1", pos=(520, 0))
    g.add_node("Add", {}, name="add", id="a", pos=(780, 0))
    g.add_node("ReLU", {}, name="relu", id="r", pos=(1040, 0))
    g.add_node("Output", {}, name="out", id="y", pos=(1300, 0))
    for s, t in [("x", "c1"), ("c1", "b1"), ("b1", "a"), ("x", "a"), ("a", "r"), ("r", "y")]:
        g.connect(s, t)
    return Project("Flat", g, {}, {}, None)


def label(window, source: str) -> str:
    graph = window.doc.current_graph
    return window.scene.edges[graph.out_edges(source)[0]].label


def names_dialog(monkeypatch, answers):
    """QInputDialog.getText answers ``answers`` in turn; the warnings shown are kept."""
    answers = list(answers)
    warnings = []
    monkeypatch.setattr(QInputDialog, "getText",
                        staticmethod(lambda *a, **k: (answers.pop(0), True) if answers
                                     else ("", False)))
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda _p, _t, text, *a: warnings.append(text)))
    return warnings


def key(qtbot, window, k, mods=Qt.KeyboardModifier.NoModifier):
    window.view.setFocus()
    qtbot.keyClick(window.view, k, mods)


CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def flat(window):
    window.set_document(Document(flat_project()))
    return window


@pytest.fixture
def net(window):
    window.set_document(Document(two_stage()))
    return window


# ------------------------------------------------------------------ group / ungroup
def test_ctrl_g_groups_the_selection_into_one_instance_and_undoes_in_one_step(
        qtbot, flat, monkeypatch):
    w = flat
    g = w.doc.graph
    before = json.dumps(json.loads(json.dumps([(n.id, n.type, n.name) for n in g.nodes.values()])))
    edges_before = [e.key() for e in g.edges]
    # a taken catalogue name and a non-identifier are refused with the reason, then a good one
    warnings = names_dialog(monkeypatch, ["Conv2d", "my block", "BasicBlock"])
    w.scene.select_nodes(["c1", "b1", "a", "r"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    assert len(warnings) == 2
    assert "is a catalogue block; a unit must not shadow it" in warnings[0]
    assert "must be a Python identifier" in warnings[1]
    assert "BasicBlock" in g.units
    inst = [n for n in g.nodes.values() if n.type == "BasicBlock"]
    assert len(inst) == 1 and set(g.nodes) == {"x", inst[0].id, "y"}
    iid = inst[0].id
    # the crossing edges are the ports: x feeds both conv1 and add through one port
    assert sorted((e.source, e.target) for e in g.edges) == sorted([("x", iid), (iid, "y")])
    # the canvas shows the instance and its edges, with shapes, and selects it
    assert iid in w.scene.nodes and w.scene.selected_node_ids() == [iid]
    assert len(w.scene.edges) == 2 and label(w, iid) == "N×16×8×8"
    assert "BasicBlock · unit" in w.scene.nodes[iid].type_text
    assert w.scene.nodes[iid].n_params == 16 * 16 * 9 + 16 + 32
    assert w.doc.undo.count() == 1
    # one undo puts every block and edge back; redo the same instance
    w.actions["undo"].trigger()
    assert json.dumps([(n.id, n.type, n.name) for n in g.nodes.values()]) == before
    assert [e.key() for e in g.edges] == edges_before and "BasicBlock" not in g.units
    assert set(w.scene.nodes) == {"x", "c1", "b1", "a", "r", "y"} and len(w.scene.edges) == 6
    w.actions["redo"].trigger()
    assert set(g.nodes) == {"x", iid, "y"} and label(w, iid) == "N×16×8×8"


def test_a_taken_unit_name_is_refused_and_cancel_groups_nothing(qtbot, flat, monkeypatch):
    w = flat
    warnings = names_dialog(monkeypatch, ["Block"])
    w.scene.select_nodes(["c1"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    warnings = names_dialog(monkeypatch, ["Block"])  # then cancelled
    w.scene.select_nodes(["r"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    assert warnings == ["Cannot use that name: a unit named 'Block' already exists; "
                        "choose another name"]
    assert "r" in w.doc.graph.nodes and w.doc.undo.count() == 1


def test_inputs_and_outputs_cannot_be_grouped(qtbot, flat, monkeypatch):
    w = flat
    warnings = names_dialog(monkeypatch, ["Block"])
    w.scene.select_nodes(["x", "c1"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    assert warnings == ['Input "image" is a model input or output; it cannot go into a unit '
                        "(leave it out of the selection)"]
    assert not w.doc.graph.units and w.doc.undo.count() == 0


def test_ctrl_shift_g_ungroups_and_undo_redo_keep_the_same_blocks(qtbot, flat, monkeypatch):
    w = flat
    g = w.doc.graph
    names_dialog(monkeypatch, ["BasicBlock"])
    w.scene.select_nodes(["c1", "b1", "a", "r"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    iid = w.scene.selected_node_ids()[0]
    key(qtbot, w, Qt.Key.Key_G, CTRL | SHIFT)
    assert set(g.nodes) == {"x", "c1", "b1", "a", "r", "y"}
    assert sorted(w.scene.selected_node_ids()) == ["a", "b1", "c1", "r"]
    assert sorted((e.source, e.target) for e in g.edges) == sorted(
        [("x", "c1"), ("c1", "b1"), ("b1", "a"), ("x", "a"), ("a", "r"), ("r", "y")])
    assert label(w, "r") == "N×16×8×8" and len(w.scene.edges) == 6
    conv = g.nodes["c1"]
    w.actions["undo"].trigger()
    assert set(g.nodes) == {"x", iid, "y"} and iid in w.scene.nodes
    w.actions["redo"].trigger()
    assert g.nodes["c1"] is conv  # the same blocks come back, not new ones
    # undo both steps: the flat network as it was
    w.actions["undo"].trigger()
    w.actions["undo"].trigger()
    assert set(g.nodes) == {"x", "c1", "b1", "a", "r", "y"} and not g.units
    # redo both: later commands still find their objects
    w.actions["redo"].trigger()
    w.actions["redo"].trigger()
    assert set(g.nodes) == {"x", "c1", "b1", "a", "r", "y"}


def test_ungroup_of_a_repeated_instance_says_why(qtbot, net):
    w = net
    w.doc.graph.set_repeat("l1", 2)
    w.scene.select_nodes(["l1"])
    key(qtbot, w, Qt.Key.Key_G, CTRL | SHIFT)
    assert "repeats 2 times; set repeat to 1 before ungrouping" in w.statusBar().currentMessage()
    assert "l1" in w.doc.graph.nodes


# ------------------------------------------------------------------ the instance face
def test_an_instance_shows_its_unit_params_repeat_and_total_count(net):
    w = net
    item = w.scene.nodes["l1"]
    assert item.name_text == "layer1" and item.type_text == "BasicBlock · unit"
    assert item.params_text == "channels 16"
    assert item.n_params == 16 * 16 * 9 + 16
    assert w.scene.nodes["l2"].params_text == "channels 32"
    assert label(w, "l1") == "N×16×8×8" and label(w, "l2") == "N×32×8×8"


def test_the_inspector_sets_repeat_undoably_and_the_canvas_shows_xn(qtbot, net):
    w = net
    w.scene.select_nodes(["l1"])
    box = w.inspector.repeat_edit
    assert box is not None and box.value() == 1
    type_in(qtbot, box, "3")
    assert w.doc.graph.nodes["l1"].repeat == 3
    item = w.scene.nodes["l1"]
    assert item.type_text == "BasicBlock ×3 · unit"
    assert item.n_params == 3 * (16 * 16 * 9 + 16)
    w.actions["undo"].trigger()
    assert w.doc.graph.nodes["l1"].repeat == 1 and item.type_text == "BasicBlock · unit"
    assert box.value() == 1
    # the unit parameter through its editor
    type_in(qtbot, w.inspector.editors["channels"].widget, "8")
    assert w.doc.graph.nodes["l1"].params["channels"] == 8
    assert label(w, "l1") == "N×8×8×8" and w.scene.nodes["l1"].params_text == "channels 8"


def test_repeat_of_a_unit_with_two_inputs_is_refused_in_the_inspector(qtbot, window):
    two_in = {"params": {}, "nodes": [
        {"id": "a", "type": "Input"}, {"id": "b", "type": "Input"},
        {"id": "s", "type": "Add"}, {"id": "y", "type": "Output"}],
        "edges": [{"source": "a", "target": "s"}, {"source": "b", "target": "s"},
                  {"source": "s", "target": "y"}]}
    doc = {"format": "netcanvas", "version": 2, "name": "Two", "units": {"Sum2": two_in},
           "nodes": [{"id": "x", "type": "Input", "params": {"shape": [4]}, "pos": [0, 0]},
                     {"id": "u", "type": "Sum2", "pos": [260, 0]},
                     {"id": "y", "type": "Output", "pos": [520, 0]}],
           "edges": [{"source": "x", "target": "u", "target_port": "a"},
                     {"source": "x", "target": "u", "target_port": "b"},
                     {"source": "u", "target": "y"}]}
    window.set_document(Document(loads_project(json.dumps(doc))))
    window.scene.select_nodes(["u"])
    type_in(qtbot, window.inspector.repeat_edit, "2")
    assert window.inspector.repeat_error_text() == (
        "unit Sum2 has 2 input(s) and 1 output(s); only a unit with one of each can repeat")
    assert window.doc.graph.nodes["u"].repeat == 1 and window.doc.undo.count() == 0


# ------------------------------------------------------------------ open, edit, back
def test_double_click_opens_the_unit_edit_updates_every_instance_esc_back_undo(qtbot, net):
    w = net
    top_scene = w.scene
    qtbot.mouseDClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=node_point(w, "l2"))
    qtbot.waitUntil(lambda: bool(w.doc.levels))
    assert w.scene is not top_scene and w.doc.current_graph is w.doc.graph.units[
        "BasicBlock"].graph
    assert w.breadcrumb.isVisible() and w.breadcrumb.text() == "Net › BasicBlock"
    assert "shapes of layer2" in w.breadcrumb.label.text()
    assert set(w.scene.nodes) == {"x", "c1", "r", "y"}
    # shapes are the opened instance's (layer2: 32 channels)
    assert label(w, "c1") == "N×32×8×8"
    w.scene.select_nodes(["c1"])
    assert w.inspector.node_id == "c1"
    assert w.inspector.error_text("out_channels") == (
        "$channels: the unit's parameter channels, set on each instance (type a value to fix "
        "it here)")
    type_in(qtbot, w.inspector.editors["kernel_size"].spins[0], "5")
    unit = w.doc.graph.units["BasicBlock"]
    assert unit.graph.nodes["c1"].params["kernel_size"] == 5
    assert label(w, "c1") == "N×32×4×4"  # layer1 before it now gives 6×6
    # Esc: back to the network; both instances re-analysed
    key(qtbot, w, Qt.Key.Key_Escape)
    assert not w.doc.levels and not w.breadcrumb.isVisible()
    assert w.doc.current_graph is w.doc.graph and "l1" in w.scene.nodes
    assert label(w, "l1") == "N×16×6×6" and label(w, "l2") == "N×32×4×4"
    assert w.scene.nodes["l1"].n_params == 16 * 16 * 25 + 16
    # the edit inside is one ordinary undo step
    w.actions["undo"].trigger()
    assert unit.graph.nodes["c1"].params["kernel_size"] == 3
    assert label(w, "l1") == "N×16×8×8" and label(w, "l2") == "N×32×8×8"


def test_alt_left_and_the_breadcrumb_link_go_back_and_open_unit_from_the_menu(qtbot, net):
    w = net
    w.scene.select_nodes(["l1"])
    w.actions["open_unit"].trigger()
    assert w.breadcrumb.text() == "Net › BasicBlock" and label(w, "c1") == "N×16×8×8"
    key(qtbot, w, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert not w.doc.levels
    w.scene.select_nodes(["l1"])
    w.actions["open_unit"].trigger()
    w.breadcrumb.label.linkActivated.emit("0")
    assert not w.doc.levels and not w.actions["unit_back"].isEnabled()


def test_undo_of_the_grouping_while_its_unit_is_open_goes_back(qtbot, flat, monkeypatch):
    w = flat
    names_dialog(monkeypatch, ["Block"])
    w.scene.select_nodes(["c1", "b1"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    iid = w.scene.selected_node_ids()[0]
    assert w.units.open_instance(iid)
    # the grouped selection's ports were placed left and right of its blocks
    ports = w.doc.current_graph.nodes
    assert ports["x"].pos[0] < ports["c1"].pos[0] < ports["y"].pos[0]
    w.actions["undo"].trigger()
    assert not w.doc.levels and set(w.scene.nodes) == {"x", "c1", "b1", "a", "r", "y"}


def test_an_edit_inside_a_unit_is_undone_from_the_network(qtbot, net):
    w = net
    w.units.open_instance("l1")
    w.scene.select_nodes(["r"])
    w.actions["delete"].trigger()
    assert "r" not in w.doc.graph.units["BasicBlock"].graph.nodes
    key(qtbot, w, Qt.Key.Key_Escape)
    assert label(w, "l1") == "?"  # the unit's Output receives nothing now
    w.actions["undo"].trigger()
    assert "r" in w.doc.graph.units["BasicBlock"].graph.nodes and label(w, "l1") == "N×16×8×8"


# ------------------------------------------------------------------ copy / paste
def test_duplicate_of_an_instance_keeps_its_unit_and_repeat(qtbot, net):
    w = net
    w.doc.graph.set_repeat("l1", 2)
    w.scene.select_nodes(["l1"])
    key(qtbot, w, Qt.Key.Key_D, CTRL)
    new = [n for n in w.doc.graph.nodes.values() if n.id not in ("img", "l1", "l2", "out")]
    assert len(new) == 1 and new[0].type == "BasicBlock" and new[0].repeat == 2
    assert list(w.doc.graph.units) == ["BasicBlock"]  # the same definition: shared


def _copy_l1(qtbot, w):
    w.scene.select_nodes(["l1"])
    key(qtbot, w, Qt.Key.Key_C, CTRL)


def test_paste_of_an_instance_into_another_document_brings_its_unit(qtbot, net):
    w = net
    _copy_l1(qtbot, w)
    w.set_document(Document(Project.new("Other")))
    key(qtbot, w, Qt.Key.Key_V, CTRL)
    g = w.doc.graph
    assert list(g.units) == ["BasicBlock"]
    assert [n.type for n in g.nodes.values()] == ["BasicBlock"]
    assert g.units["BasicBlock"].params == {"channels": 16}
    assert set(g.units["BasicBlock"].graph.nodes) == {"x", "c1", "r", "y"}
    # one undo step takes the block and its unit away
    w.actions["undo"].trigger()
    assert not g.nodes and not g.units
    w.actions["redo"].trigger()
    assert list(g.units) == ["BasicBlock"] and len(g.nodes) == 1


def test_paste_onto_a_different_unit_of_the_same_name_renames_it(qtbot, net):
    w = net
    _copy_l1(qtbot, w)
    other = copy.deepcopy(BLOCK)
    other["nodes"][1]["params"]["kernel_size"] = 1
    w.set_document(Document(two_stage(other)))
    key(qtbot, w, Qt.Key.Key_V, CTRL)
    g = w.doc.graph
    assert list(g.units) == ["BasicBlock", "BasicBlock_2"]
    assert g.units["BasicBlock"].graph.nodes["c1"].params["kernel_size"] == 1  # untouched
    assert g.units["BasicBlock_2"].graph.nodes["c1"].params["kernel_size"] == 3
    pasted = [n for n in g.nodes.values() if n.id not in ("img", "l1", "l2", "out")]
    assert [n.type for n in pasted] == ["BasicBlock_2"]
    assert pasted[0].name == "basic_block_2" or pasted[0].name.startswith("basic_block")


def test_pasting_a_unit_into_itself_is_refused(qtbot, net):
    w = net
    _copy_l1(qtbot, w)
    w.units.open_instance("l1")
    key(qtbot, w, Qt.Key.Key_V, CTRL)
    assert "a unit cannot contain itself" in w.statusBar().currentMessage()
    assert set(w.doc.current_graph.nodes) == {"x", "c1", "r", "y"}


# ------------------------------------------------------------------ pictures
def test_render_an_instance_and_an_opened_unit(qtbot, net, tmp_path):
    w = net
    w.doc.graph.set_repeat("l1", 2)
    w.doc.refresh()
    w.resize(1200, 700)
    w.view.fit_all()
    QApplication.processEvents()
    top = w.grab()
    assert top.save(str(tmp_path / "units_top.png")) and not top.isNull()
    w.units.open_instance("l2")
    QApplication.processEvents()
    assert w.grab().save(str(tmp_path / "units_open.png"))
    w.palette.tree.scrollToItem(w.palette.items["library:GPTBlock"])
    assert w.palette.grab().save(str(tmp_path / "units_palette.png"))
    assert w.breadcrumb.isVisible()


# ------------------------------------------------------------------ palette
def _palette_item(w, type_name):
    return w.palette.items[type_name]


def test_the_palette_lists_the_projects_units_and_adds_an_instance(qtbot, flat, monkeypatch):
    w = flat
    assert "Block" not in w.palette.items
    names_dialog(monkeypatch, ["Block"])
    w.scene.select_nodes(["c1", "b1"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    item = _palette_item(w, "Block")
    assert item.parent().text(0) == "Units"
    w.palette.search.setText("bloc")
    assert "Block" in w.palette.visible_types()
    w.palette.search.setText("")
    _click_item(qtbot, w.palette.tree, item, double=True)
    blocks = [n for n in w.doc.graph.nodes.values() if n.type == "Block"]
    assert len(blocks) == 2 and w.scene.selected_node_ids() == [blocks[1].id]
    # undoing the grouping removes the unit from the palette
    w.actions["undo"].trigger()
    w.actions["undo"].trigger()
    assert "Block" not in w.palette.items


def test_a_library_unit_is_added_with_its_definition_in_one_step(qtbot, flat):
    w = flat
    item = w.palette.items["library:BasicBlock"]
    assert item.parent().text(0) == "Units" and "(built-in)" in item.toolTip(0)
    _click_item(qtbot, w.palette.tree, item, double=True)
    g = w.doc.graph
    assert "BasicBlock" in g.units
    added = [n for n in g.nodes.values() if n.type == "BasicBlock"]
    assert len(added) == 1 and "BasicBlock" in w.palette.items
    w.actions["undo"].trigger()
    assert "BasicBlock" not in g.units and not [n for n in g.nodes.values()
                                                 if n.type == "BasicBlock"]


def test_a_unit_cannot_be_added_inside_itself_from_the_palette(qtbot, net):
    w = net
    w.units.open_instance("l1")
    w.palette.activated.emit("BasicBlock")
    assert "a unit cannot contain itself" in w.statusBar().currentMessage()
    assert set(w.doc.current_graph.nodes) == {"x", "c1", "r", "y"}


def test_grouping_inside_a_unit_opens_nested_and_refuses_bound_parameters(
        qtbot, net, monkeypatch):
    w = net
    warnings = names_dialog(monkeypatch, ["Inner"])
    w.units.open_instance("l1")
    w.scene.select_nodes(["c1", "r"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    assert warnings == ['Conv2d "conv1" sets out_channels to the unit parameter $channels; '
                        "blocks that use this unit's parameters cannot be grouped into a unit "
                        "of their own"]
    names_dialog(monkeypatch, ["Act"])
    w.scene.select_nodes(["r"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    inner = w.scene.selected_node_ids()[0]
    assert w.doc.current_graph.nodes[inner].type == "Act"
    qtbot.mouseDClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=node_point(w, inner))
    qtbot.waitUntil(lambda: len(w.doc.levels) == 2)
    assert w.breadcrumb.text() == "Net › BasicBlock › Act"
    assert w.scene.edges[w.doc.current_graph.out_edges("r")[0]].label == "N×16×8×8"
    w.breadcrumb.label.linkActivated.emit("1")
    assert w.breadcrumb.text() == "Net › BasicBlock"
    key(qtbot, w, Qt.Key.Key_Escape)
    assert label(w, "l1") == "N×16×8×8" and label(w, "l2") == "N×32×8×8"


def test_clicking_a_problem_inside_an_instance_opens_its_unit_at_the_block(qtbot, net):
    w = net
    w.doc.graph.set_repeat("l2", 2)
    w.doc.graph.set_param("l2", "channels", 0)
    w.doc.refresh()
    rows = [w.problems.topLevelItem(k) for k in range(w.problems.topLevelItemCount())]
    inner = [r for r in rows if r.data(0, Qt.ItemDataRole.UserRole) == "l2.0.c1"]
    assert inner, [r.data(0, Qt.ItemDataRole.UserRole) for r in rows]
    _click_item(qtbot, w.problems, inner[0])
    assert w.breadcrumb.text() == "Net › BasicBlock"
    assert w.scene.selected_node_ids() == ["c1"] and w.inspector.node_id == "c1"
    assert w.scene.nodes["c1"].severity == "error"


def test_unit_actions_without_a_fitting_selection_say_what_to_select(qtbot, flat):
    w = flat
    w.scene.clearSelection()
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    assert w.statusBar().currentMessage() == "Select the blocks to group into a unit first"
    w.scene.select_nodes(["c1"])
    key(qtbot, w, Qt.Key.Key_G, CTRL | SHIFT)
    assert w.statusBar().currentMessage() == "Select one unit block to ungroup"
    w.actions["open_unit"].trigger()
    assert w.statusBar().currentMessage() == "Select one unit block to open"
    # a plain block's double-click opens nothing; Esc outside a unit does nothing
    qtbot.mouseDClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=node_point(w, "c1"))
    qtbot.wait(20)
    key(qtbot, w, Qt.Key.Key_Escape)
    assert not w.doc.levels and w.doc.undo.count() == 0 and not w.breadcrumb.isVisible()


def test_redo_of_a_grouping_brings_back_the_unit_its_later_edits_were_made_in(
        qtbot, flat, monkeypatch):
    w = flat
    names_dialog(monkeypatch, ["Stem"])
    w.scene.select_nodes(["c1", "b1"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    iid = w.scene.selected_node_ids()[0]
    w.units.open_instance(iid)
    w.scene.select_nodes(["c1"])
    type_in(qtbot, w.inspector.editors["kernel_size"].spins[0], "1")
    key(qtbot, w, Qt.Key.Key_Escape)
    for _ in range(2):
        w.actions["undo"].trigger()
    assert not w.doc.graph.units and w.doc.graph.nodes["c1"].params["kernel_size"] == 3
    for _ in range(2):
        w.actions["redo"].trigger()
    assert w.doc.graph.units["Stem"].graph.nodes["c1"].params["kernel_size"] == 1
    assert set(w.doc.graph.nodes) == {"x", iid, "a", "r", "y"}
    # the unit's shapes are those of a 1×1 convolution with padding 1: 10×10
    assert label(w, iid) == "N×16×10×10"
