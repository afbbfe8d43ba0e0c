"""Undo and redo of every kind of edit, with the keyboard, and the canvas's
one-click quick fixes (each undoable).  After every step the canvas must
mirror the graph exactly."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, Qt

from conftest import drag, node_point, port_point
from graph import Graph
from graph.dims import format_shape
from graph.problems import ERROR, Code, Problem
from graph.project import Project, project_to_dict
from gui.document import Document

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def snapshot(window) -> str:
    """The whole project as saved: nodes (in their order), names, parameters,
    positions, edges."""
    return json.dumps(project_to_dict(window.doc.project), sort_keys=True)


def assert_canvas_mirrors_graph(window) -> None:
    g, scene = window.doc.graph, window.scene
    assert set(scene.nodes) == set(g.nodes)
    for nid, item in scene.nodes.items():
        node = g.nodes[nid]
        assert (item.pos().x(), item.pos().y()) == tuple(node.pos)
        assert item.name == node.name
    assert set(scene.edges) == set(g.edges)
    an = window.doc.analyzer
    for edge, item in scene.edges.items():
        tt = an.edge_type(edge)
        assert item.label == (format_shape(tt.shape) if tt else "?")


def key(qtbot, window, k, mods=CTRL) -> None:
    window.view.setFocus()  # the user clicks the canvas, then presses the keys
    qtbot.keyClick(window.view, k, mods)


def check_undo_redo(qtbot, window, act) -> None:
    """``act`` changes the project; Ctrl+Z brings back what was, Ctrl+Shift+Z
    what ``act`` made, twice over; the canvas follows each step."""
    before = snapshot(window)
    act()
    after = snapshot(window)
    assert after != before
    assert_canvas_mirrors_graph(window)
    for _ in range(2):
        key(qtbot, window, Qt.Key.Key_Z)
        assert snapshot(window) == before
        assert_canvas_mirrors_graph(window)
        key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)
        assert snapshot(window) == after
        assert_canvas_mirrors_graph(window)


def type_in(qtbot, box, text: str) -> None:
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_redo_a_move_by_mouse(qtbot, window):
    def act():
        a = node_point(window, "l2")
        drag(qtbot, window, a, a + QPoint(60, 30))
    check_undo_redo(qtbot, window, act)
    assert window.doc.graph.nodes["l2"].pos == (320.0, 230.0)


def test_redo_a_parameter_edit(qtbot, window):
    window.scene.select_nodes(["l1"])
    check_undo_redo(qtbot, window,
                    lambda: type_in(qtbot, window.inspector.editors["out_features"].widget, "12"))
    assert window.scene.edges[window.doc.graph.in_edges("y")[0]].label == "N×1×8×12"
    assert window.inspector.editors["out_features"].widget.value() == 12


def test_redo_a_rename(qtbot, window):
    window.scene.select_nodes(["l1"])
    check_undo_redo(qtbot, window, lambda: type_in(qtbot, window.inspector.name_edit, "hidden"))
    assert window.scene.nodes["l1"].name == "hidden"
    assert window.inspector.name_edit.text() == "hidden"


def test_redo_a_paste(qtbot, window):
    window.scene.select_nodes(["x", "l1"])
    key(qtbot, window, Qt.Key.Key_C)
    check_undo_redo(qtbot, window, lambda: key(qtbot, window, Qt.Key.Key_V))
    assert len(window.doc.graph) == 6 and len(window.doc.graph.edges) == 3


def test_redo_a_cut(qtbot, window):
    window.scene.select_nodes(["l1"])
    check_undo_redo(qtbot, window, lambda: key(qtbot, window, Qt.Key.Key_X))
    assert "l1" not in window.doc.graph.nodes and len(window.doc.graph.edges) == 0
    assert window.doc.undo.undoText() == "Cut"


def test_redo_a_duplicate(qtbot, window):
    window.scene.select_nodes(["l1", "y"])
    check_undo_redo(qtbot, window, lambda: key(qtbot, window, Qt.Key.Key_D))
    assert len(window.doc.graph) == 6


def test_redo_an_auto_layout(qtbot, window):
    window.doc.graph.move("y", (-500.0, 300.0))
    window.doc.undo.setClean()
    check_undo_redo(qtbot, window, lambda: key(qtbot, window, Qt.Key.Key_L))
    g = window.doc.graph
    assert g.nodes["x"].pos[1] < g.nodes["l1"].pos[1] < g.nodes["y"].pos[1]  # top to bottom


def test_redo_a_delete_and_a_connect(qtbot, window):
    window.scene.select_nodes(["l2"])
    check_undo_redo(qtbot, window, lambda: key(qtbot, window, Qt.Key.Key_Delete,
                                                 Qt.KeyboardModifier.NoModifier))
    window.actions["undo"].trigger()  # l2 back, loose
    check_undo_redo(qtbot, window, lambda: drag(qtbot, window, port_point(window, "l1", "out", True),
                                                port_point(window, "l2", "in", False)))
    assert [(e.source, e.target) for e in window.doc.graph.in_edges("l2")] == [("l1", "l2")]


# ---------------------------------------------------------------------- quick fixes
def _open(window, g: Graph) -> None:
    window.set_document(Document(Project("Fix", g, {}, {}, None)))


def _click_marker(qtbot, window, marker) -> None:
    window.view.centerOn(marker)  # the user scrolls to the badge
    at = window.view.mapFromScene(marker.sceneBoundingRect().center())
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=at)


def _marker(window, text: str):
    return next(m for m in window.scene.markers if text in m.text)


def test_quick_fix_padding_same_by_click(qtbot, window):
    g = Graph()
    g.add_node("Input", {"shape": [3, 8, 8]}, name="image", id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 9}, name="conv", id="c", pos=(260, 0))
    g.add_node("Output", {}, name="out", id="y", pos=(520, 0))
    g.connect("x", "c")
    g.connect("c", "y")
    _open(window, g)
    assert window.scene.nodes["c"].severity == ERROR
    marker = _marker(window, "padding")
    assert marker.text == "⚡ set padding = 'same'"
    check_undo_redo(qtbot, window, lambda: _click_marker(qtbot, window, marker))
    assert g.nodes["c"].params["padding"] == "same"
    assert window.scene.nodes["c"].severity is None and not window.scene.markers
    assert window.scene.edges[g.in_edges("y")[0]].label == "N×4×8×8"


def test_quick_fix_projection_so_an_add_matches(qtbot, window):
    g = Graph()
    g.add_node("Input", {"shape": [3, 8, 8]}, name="image", id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}, name="conv",
               id="c", pos=(260, 0))
    g.add_node("Add", {}, name="add", id="a", pos=(520, 120))
    g.add_node("Output", {}, name="out", id="y", pos=(780, 120))
    g.connect("c", "a")
    g.connect("x", "a")  # the skip edge: 3 channels against 8
    g.connect("x", "c")
    g.connect("a", "y")
    _open(window, g)
    marker = _marker(window, "Conv2d")
    for r in [e.label_rect() for e in window.scene.edges.values()] + \
             [n.sceneBoundingRect() for n in window.scene.nodes.values()]:
        assert not marker.sceneBoundingRect().intersects(r)  # clear of ports and labels
    check_undo_redo(qtbot, window, lambda: _click_marker(qtbot, window, marker))
    proj = next(n for n in g.nodes.values() if n.id not in ("x", "c", "a", "y"))
    assert proj.type == "Conv2d" and proj.params == {"out_channels": 8, "kernel_size": 1}
    assert [e.source for e in g.in_edges("a")] == ["c", proj.id]  # the operand order is kept
    assert window.doc.analyzer.refresh().valid()
    assert window.scene.edges[g.in_edges("y")[0]].label == "N×8×8×8"


@pytest.mark.parametrize("fix, params", [
    ({"kind": "insert", "type": "Permute", "params": {"dims": [0, 2, 1]}}, {"dims": [0, 2, 1]}),
    ({"kind": "insert", "type": "Reshape", "params": {"shape": [4, 2]}}, {"shape": [4, 2]}),
])
def test_insert_fixes_are_applied_with_the_parameters_they_carry(qtbot, window, fix, params):
    g = Graph()
    g.add_node("Input", {"shape": [8]}, name="x", id="x", pos=(0, 0))
    g.add_node("Identity", {}, name="id", id="i", pos=(300, 0))
    g.connect("x", "i")
    _open(window, g)
    problem = Problem(ERROR, Code.RANK, "i", 'Identity "id": test', "in", fix)
    window.scene.apply_fix(problem)
    [new] = [n for n in g.nodes.values() if n.id not in ("x", "i")]
    assert new.type == fix["type"] and new.params == params
    assert [e.source for e in g.in_edges("i")] == [new.id]
    key(qtbot, window, Qt.Key.Key_Z)
    assert len(g) == 2 and [e.source for e in g.in_edges("i")] == ["x"]


def test_a_fix_on_a_node_sits_above_it_clear_of_its_border(qtbot, window):
    g = Graph()
    g.add_node("Input", {"shape": [6, 8, 8]}, name="x", id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 4, "groups": 4}, name="conv", id="c", pos=(260, 0))
    g.add_node("Output", {}, name="y", id="y", pos=(520, 0))
    g.connect("x", "c")
    g.connect("c", "y")
    _open(window, g)
    marker = _marker(window, "groups")
    node = window.scene.nodes["c"].sceneBoundingRect()
    badge = marker.sceneBoundingRect()
    assert badge.bottom() <= node.top() and not badge.intersects(node)
    assert abs(badge.center().x() - node.center().x()) < 1
    _click_marker(qtbot, window, marker)
    assert g.nodes["c"].params["groups"] == 2 and window.scene.nodes["c"].severity is None
