"""Opening a large network: what makes it quick must not change what a user
sees or does (issue 15, B6 open ≤ 2 s).

- ports are drawn by their blocks, not separate items, and a connection is
  still drawn by dragging from a port with the mouse (also from the half of
  the circle outside the block); a port shows the cross cursor;
- a large network's edges are routed round the blocks after the first
  paint (idle batches), not before it; an edge in sight at a readable zoom
  is routed before it is painted; all are routed soon after;
- the Code panel generates after the canvas is painted, and a hidden panel
  when it is shown.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from graph import Graph
from graph.project import Project
from gui import commands
from gui.canvas.edge_item import EdgeItem
from gui.canvas.scene import ROUTE_NOW_MAX
from gui.code_view import CodeView
from gui.document import Document

from conftest import drag, port_point


def chains(n: int, width: int = 8) -> Graph:
    """Input → ``width`` chains of Linear/ReLU, the first into an Output:
    about ``n`` nodes, no positions (opening lays it out)."""
    g = Graph()
    g.add_node("Input", {"shape": [16]}, id="x")
    prev = ["x"] * width
    k = 0
    while len(g) < n:
        b = k % width
        t = "Linear" if (k // width) % 2 == 0 else "ReLU"
        nid = g.add_node(t, {"out_features": 16} if t == "Linear" else {}).id
        g.connect(prev[b], nid)
        prev[b] = nid
        k += 1
    g.connect(prev[0], g.add_node("Output", id="y").id)
    return g


def open_large(window, n: int = 600) -> None:
    window.set_document(Document(Project("large", chains(n), {}, {}, None)))


def test_ports_are_drawn_by_their_blocks_not_items(window):
    scene = window.scene
    kinds = {type(item).__name__ for item in scene.items()}
    assert kinds <= {"NodeItem", "EdgeItem", "FixMarker"}, kinds
    assert all(item.parentItem() is None for item in scene.items())  # no child items
    # the model is unchanged: each block knows its ports and where they are
    assert set(scene.nodes["l1"].ports) == {("in", False), ("out", True)}


def test_a_connection_is_drawn_from_a_port_with_the_mouse(qtbot, window):
    g = window.doc.graph
    # l2's output → y: y takes one edge, so free it first
    window.scene.edges[g.in_edges("y")[0]].setSelected(True)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    drag(qtbot, window, port_point(window, "l2", "out", True), port_point(window, "y", "in", False))
    assert [e.source for e in g.in_edges("y")] == ["l2"]
    # the part of a port's circle outside its block takes a press too, and
    # an input port can be dragged to an output
    a = port_point(window, "l2", "in", False)
    b = port_point(window, "x", "out", True)
    outside = QPoint(a.x() - 3, a.y()) if not window.scene.vertical else QPoint(a.x(), a.y() - 3)
    drag(qtbot, window, outside, b)
    assert [e.source for e in g.in_edges("l2")] == ["x"]
    # a press on the block's body (no port there) moves the block, draws no edge
    item = window.scene.nodes["l2"]
    before, edges = item.pos(), len(g.edges)
    body = window.view.mapFromScene(item.pos() + QPointF(item.rect.width() / 2, 30))
    drag(qtbot, window, body, body + QPoint(40, 40))
    assert item.pos() != before and len(g.edges) == edges


def test_a_port_shows_the_cross_cursor(qtbot, window):
    vp = window.view.viewport()
    qtbot.mouseMove(vp, pos=port_point(window, "l1", "out", True))
    assert vp.cursor().shape() == Qt.CursorShape.CrossCursor
    item = window.scene.nodes["l1"]
    qtbot.mouseMove(vp, pos=window.view.mapFromScene(item.pos() + item.rect.center()))
    assert vp.cursor().shape() != Qt.CursorShape.CrossCursor


def test_a_large_network_is_painted_before_its_edges_are_routed(qtbot, window, monkeypatch):
    routed = []
    original = EdgeItem.update_path

    def counting(self):
        routed.append(self)
        original(self)
    monkeypatch.setattr(EdgeItem, "update_path", counting)
    open_large(window)
    edges = len(window.scene.edges)
    assert edges > ROUTE_NOW_MAX
    QApplication.processEvents()  # the first paint (and at most one idle batch)
    window.view.viewport().repaint()
    assert len(routed) < edges / 2, "edges were routed before the first paint"
    # every edge is routed soon after, with nothing left to do
    qtbot.waitUntil(lambda: window.scene.unrouted_count() == 0, timeout=20000)
    assert {id(e) for e in routed} >= {id(e) for e in window.scene.edges.values()}
    # routed round the blocks: no edge's line crosses a block that is not its end
    scene = window.scene
    for item in list(scene.edges.values())[:200]:
        ends = {item.edge.source, item.edge.target}
        line = item.line_shape()
        for nid, node in scene.nodes.items():
            if nid not in ends:
                assert not line.intersects(node.mapRectToScene(node.rect)), (item.edge, nid)


def test_edges_in_sight_are_routed_before_they_are_painted(qtbot, window):
    open_large(window)
    scene, view = window.scene, window.view
    QApplication.processEvents()
    view.resetTransform()  # a readable zoom, on a block in the middle of the network
    middle = list(scene.nodes.values())[len(scene.nodes) // 2]
    view.centerOn(middle)
    view.viewport().repaint()
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    in_sight = [e for e in scene.edges.values() if e.boundingRect().intersects(seen)]
    assert in_sight and all(e.routed for e in in_sight)
    assert scene.unrouted_count() > 0  # the rest waits for idle time


def test_code_is_generated_after_the_first_paint(qtbot, window, monkeypatch):
    made = []
    original = CodeView.regenerate

    def counting(self):
        made.append(1)
        original(self)
    monkeypatch.setattr(CodeView, "regenerate", counting)
    open_large(window, 300)
    QApplication.processEvents()  # the first paint
    window.view.viewport().repaint()
    assert not made
    qtbot.waitUntil(lambda: bool(made) and not window.code.pending(), timeout=20000)
    assert "nn.Linear(16, 16)" in window.code.toPlainText()


def test_a_hidden_code_panel_generates_when_shown(qtbot, window):
    g = window.doc.graph
    window.doc.push(commands.Connect(g, "x", "l2", None, None))  # no error left: code shows
    qtbot.waitUntil(lambda: "nn.Linear(8, 32" in window.code.toPlainText(), timeout=5000)
    window.docks["code"].hide()
    window.doc.push(commands.SetParam(g, "l1", "out_features", 48))
    qtbot.wait(400)  # past the debounce: a hidden panel does not generate
    assert "nn.Linear(8, 32" in window.code.toPlainText() and window.code.pending()
    window.docks["code"].show()
    qtbot.waitUntil(lambda: "nn.Linear(8, 48" in window.code.toPlainText(), timeout=5000)
    assert not window.code.pending()
