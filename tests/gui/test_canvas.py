"""Canvas through the mouse and keyboard: connect, refuse, move, delete, undo."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt

from conftest import drag, node_point, port_point


def labels(window):
    return {(e.edge.source, e.edge.target): e.label for e in window.scene.edges.values()}


def test_edges_show_shapes_and_nodes_show_counts(window):
    assert labels(window) == {("x", "l1"): "N×1×8×8", ("l1", "y"): "N×1×8×32"}
    assert window.scene.nodes["l1"].n_params == 8 * 32 + 32
    assert "Parameters: 288" in window.totals_label.text()


def test_connect_by_dragging_between_ports(qtbot, window):
    g = window.doc.graph
    # free the output first: delete the edge l1 → y by selecting and pressing Delete
    window.scene.edges[g.in_edges("y")[0]].setSelected(True)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert not g.in_edges("y")
    drag(qtbot, window, port_point(window, "l2", "out", True), port_point(window, "y", "in", False))
    assert [e.source for e in g.in_edges("y")] == ["l2"]
    assert labels(window)[("l2", "y")] == "?"  # l2's input is not connected yet
    drag(qtbot, window, port_point(window, "l2", "in", False), port_point(window, "l1", "out", True))
    assert labels(window)[("l2", "y")] == "N×1×8×10"
    assert window.windowTitle().startswith("Small net*")
    window.actions["undo"].trigger()  # the last connect
    assert labels(window)[("l2", "y")] == "?" and not g.in_edges("l2")
    window.actions["undo"].trigger()
    window.actions["undo"].trigger()  # the deleted edge comes back
    assert [(e.source, e.target) for e in g.edges] == [("x", "l1"), ("l1", "y")]
    assert not window.windowTitle().startswith("Small net*")


def test_bad_connection_is_refused_with_the_reason(qtbot, window):
    g = window.doc.graph
    before = list(g.edges)
    drag(qtbot, window, port_point(window, "l2", "out", True), port_point(window, "y", "in", False))
    assert g.edges == before
    assert "already connected" in window.scene.last_refusal
    assert "already connected" in window.statusBar().currentMessage()
    drag(qtbot, window, port_point(window, "l1", "out", True), port_point(window, "l2", "out", True))
    assert "output to an output" in window.scene.last_refusal
    assert g.edges == before


def test_move_by_mouse_is_undoable(qtbot, window):
    node = window.doc.graph.nodes["l2"]
    start = node.pos
    p = node_point(window, "l2")
    drag(qtbot, window, p, p + QPoint(60, 30))
    assert node.pos != start
    window.actions["undo"].trigger()
    assert node.pos == start
    assert window.scene.nodes["l2"].pos().x() == start[0]


def test_delete_key_removes_node_and_undo_restores_edges(qtbot, window):
    g = window.doc.graph
    window.scene.select_nodes(["l1"])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert "l1" not in g.nodes and "l1" not in window.scene.nodes and not g.edges
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [(e.source, e.target) for e in g.edges] == [("x", "l1"), ("l1", "y")]
    assert labels(window)[("l1", "y")] == "N×1×8×32"
    qtbot.keyClick(window.view, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert "l1" not in g.nodes


def test_problem_nodes_are_marked_and_auto_layout_is_undoable(window):
    item = window.scene.nodes["l2"]
    assert item.severity == "error" and "not connected" in item.toolTip()
    before = {nid: n.pos for nid, n in window.doc.graph.nodes.items()}
    window.actions["layout"].trigger()
    after = {nid: n.pos for nid, n in window.doc.graph.nodes.items()}
    # one direction, top to bottom by default, no wrapping
    assert after != before and after["x"][1] < after["l1"][1] < after["y"][1]
    window.actions["undo"].trigger()
    assert {nid: n.pos for nid, n in window.doc.graph.nodes.items()} == before


def test_rubber_band_selects_and_zoom_and_fit(qtbot, window):
    vp = window.view.viewport()
    a, b = QPoint(2, 2), QPoint(vp.width() - 2, vp.height() - 2)
    drag(qtbot, window, a, b)
    assert len(window.scene.selected_node_ids()) >= 2
    scale = window.view.transform().m11()
    window.actions["zoom_in"].trigger()
    assert window.view.transform().m11() > scale
    window.actions["fit"].trigger()
    rect = window.view.mapToScene(vp.rect()).boundingRect()
    assert all(rect.contains(i.sceneBoundingRect()) for i in window.scene.nodes.values())


def _skip_graph():
    """x → a → b → c → add ← x: the skip edge spans three columns."""
    from graph import Graph
    from graph.project import Project

    g = Graph()
    g.add_node("Input", {"shape": [16]}, name="x", id="x")
    prev = "x"
    for nid in ("a", "b", "c"):
        g.add_node("Linear", {"out_features": 16}, name=nid, id=nid)
        g.connect(prev, nid)
        prev = nid
    g.add_node("Add", {}, name="add", id="add")
    g.add_node("Output", {}, name="y", id="y")
    g.connect("c", "add")
    g.connect("x", "add")
    g.connect("add", "y")
    return Project("Skip", g, {}, {}, None)


def _node_rects(window, but=()):
    return {nid: i.sceneBoundingRect().adjusted(8, 8, -8, -8)
            for nid, i in window.scene.nodes.items() if nid not in but}


def test_output_node_has_no_output_port(window):
    item = window.scene.nodes["y"]
    assert item.port("out", True) is None
    assert [(name, out) for name, out in item.ports] == [("in", False)]
    assert window.scene.nodes["l1"].port("out", True) is not None


def test_file_without_positions_is_laid_out_and_saved_positions_are_kept(qtbot, window, tmp_path):
    from graph.project import save_project

    project = _skip_graph()
    plain = tmp_path / "plain.json"
    save_project(project, plain)
    assert window.files.open_path(plain)
    g = window.doc.graph
    assert all(n.pos is not None for n in g.nodes.values())
    # in reading order: every edge runs to the right, or on to a lower band
    assert all(g.nodes[e.target].pos[0] > g.nodes[e.source].pos[0]
               or g.nodes[e.target].pos[1] > g.nodes[e.source].pos[1] for e in g.edges)
    assert not window.doc.is_modified()
    for nid, node in g.nodes.items():  # a snake: saved positions stay as they are
        g.move(nid, ((hash(nid) % 3) * 300.0, (hash(nid) % 5) * 120.0))
    placed = tmp_path / "placed.json"
    window.files.save_to(placed)
    saved = {nid: n.pos for nid, n in g.nodes.items()}
    assert window.files.open_path(placed)
    assert {nid: n.pos for nid, n in window.doc.graph.nodes.items()} == saved


def test_skip_edges_route_around_nodes_and_labels_stay_off_nodes(qtbot, window):
    from gui.document import Document

    window.set_document(Document(_skip_graph()))
    qtbot.wait(1)  # the deferred re-route after the layout
    scene = window.scene
    skip = next(e for e in scene.edges.values() if (e.edge.source, e.edge.target) == ("x", "add"))
    for nid, rect in _node_rects(window, but=("x", "add")).items():
        assert not skip.line_shape().intersects(rect), nid
    rects = _node_rects(window)
    for e in scene.edges.values():
        assert e.label.startswith("N×")
        assert not any(e.label_rect().intersects(r) for r in rects.values()), e.label
    # a backward edge (target moved left of its source) loops below both nodes
    window.doc.graph.move("y", (-400.0, 0.0))
    qtbot.wait(1)
    back = next(e for e in scene.edges.values() if e.edge.target == "y")
    below = max(scene.nodes[n].sceneBoundingRect().bottom() for n in ("add", "y"))
    assert back.path().boundingRect().bottom() > below
    assert not back.label_rect().intersects(rects["add"])


def _wheel(view, pos: QPoint, notches: int) -> None:
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    at = QPointF(pos)
    event = QWheelEvent(at, QPointF(view.viewport().mapToGlobal(pos)), QPoint(0, 0),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_wheel_zoom_keeps_the_point_under_the_cursor(qtbot, window):
    view = window.view
    view.fit_all()
    for notches in (2, 1, -1, 3):
        at = node_point(window, "l2") + QPoint(30, 10)  # off centre, on the second Linear
        before = view.mapToScene(at)
        scale = view.zoom_level()
        _wheel(view, at, notches)
        assert (view.zoom_level() > scale) == (notches > 0)
        after = view.mapToScene(at)
        assert abs(after.x() - before.x()) < 2 and abs(after.y() - before.y()) < 2, notches


def test_pan_with_the_middle_button_and_with_space_drag(qtbot, window):
    view, vp = window.view, window.view.viewport()
    view.resetTransform()
    view.scale(2.0, 2.0)  # larger than the view: there is room to pan
    view.centerOn(260, 40)
    start = view.mapToScene(vp.rect().center())
    a = QPoint(200, 200)
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=a)
    qtbot.mouseMove(vp, pos=a + QPoint(-40, -30))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=a + QPoint(-40, -30))
    moved = view.mapToScene(vp.rect().center()) - start
    # the canvas follows the hand: dragged left and up, the view shows what lay right and below
    assert abs(moved.x() - 20) < 2 and abs(moved.y() - 15) < 2
    before_nodes = {nid: n.pos for nid, n in window.doc.graph.nodes.items()}
    start = view.mapToScene(vp.rect().center())
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    empty = view.mapFromScene(QPointF(200, 150))  # no node or edge there: the press pans
    assert window.scene.itemAt(QPointF(200, 150), view.transform()) is None
    drag(qtbot, window, empty, empty + QPoint(-50, -30))
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    moved = view.mapToScene(vp.rect().center()) - start
    assert abs(moved.x() - 25) < 2 and abs(moved.y() - 15) < 2
    assert {nid: n.pos for nid, n in window.doc.graph.nodes.items()} == before_nodes
    assert view.dragMode() == view.DragMode.RubberBandDrag  # space released: back to selecting
