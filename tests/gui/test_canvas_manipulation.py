"""Direct manipulation through mouse and keyboard: Insert Block Here on an
edge, dropping a palette block onto an edge, double-click on a block, and
the palette's search by synonym and description."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from conftest import node_point
from test_canvas_navigation import _action, _context_menu


def _edge(window, source: str, target: str):
    return next(e for e in window.doc.graph.edges if e.source == source and e.target == target)


def _edge_point(window, edge, t: float = 0.5):
    path = window.scene.edges[edge].path()
    return window.view.mapFromScene(path.pointAtPercent(t))


def _open_insert_box(qtbot, window, monkeypatch, edge):
    menu = _context_menu(qtbot, window, monkeypatch, _edge_point(window, edge, 0.3))
    _action(menu, "Insert Block Here…").trigger()
    box = window.view.menus.insert_box
    assert box.isVisible()
    qtbot.waitUntil(box.edit.hasFocus, timeout=1000)
    return box


def test_edge_menu_inserts_a_searched_block_on_the_edge_in_one_undo_step(qtbot, window,
                                                                        monkeypatch):
    g = window.doc.graph
    edge = _edge(window, "l1", "y")
    steps = window.doc.undo.count()
    box = _open_insert_box(qtbot, window, monkeypatch, edge)
    assert box.list.count() > 40  # every block listed before typing
    qtbot.keyClicks(box.edit, "relu")
    qtbot.keyClick(box.edit, Qt.Key.Key_Return)
    assert not box.isVisible()
    [new] = [n for n in g.nodes.values() if n.type == "ReLU"]
    assert {(e.source, e.target) for e in g.edges} == {("x", "l1"), ("l1", new.id), (new.id, "y")}
    assert window.scene.selected_node_ids() == [new.id]
    # placed on the edge's line, overlapping no block
    item = window.scene.nodes[new.id]
    for other in window.scene.nodes.values():
        if other is not item:
            assert not other.sceneBoundingRect().adjusted(8, 8, -8, -8).intersects(
                item.sceneBoundingRect().adjusted(8, 8, -8, -8))
    # the shape labels of both edges keep clear of the blocks (room was made)
    qtbot.wait(10)  # the edges reroute once the whole move is applied

    def covered():
        return [e for e, ei in window.scene.edges.items() if any(
            n.mapRectToScene(n.rect).intersects(ei.label_rect())
            for n in window.scene.nodes.values())]
    assert covered() == []
    assert window.doc.undo.count() == steps + 1
    window.doc.undo.undo()
    assert new.id not in g.nodes
    assert {(e.source, e.target) for e in g.edges} == {("x", "l1"), ("l1", "y")}
    window.doc.undo.redo()
    assert {(e.source, e.target) for e in g.edges} == {("x", "l1"), ("l1", new.id), (new.id, "y")}


def test_insert_box_finds_blocks_by_synonym(qtbot, window, monkeypatch):
    edge = _edge(window, "l1", "y")
    box = _open_insert_box(qtbot, window, monkeypatch, edge)
    qtbot.keyClicks(box.edit, "dense")
    assert box.list.item(0).text().split()[0] == "Linear"
    qtbot.keyClick(box.edit, Qt.Key.Key_Return)
    g = window.doc.graph
    assert len([n for n in g.nodes.values() if n.type == "Linear"]) == 3


def test_insert_refuses_a_block_whose_ports_do_not_fit_with_the_reason(qtbot, window,
                                                                       monkeypatch):
    g = window.doc.graph
    edge = _edge(window, "l1", "y")
    before = (set(g.nodes), list(g.edges), window.doc.undo.count())
    for typed, why in (("Input", "Input has no input port"),
                       ("Output", "Output has no output port")):
        box = _open_insert_box(qtbot, window, monkeypatch, edge)
        box.edit.clear()
        qtbot.keyClicks(box.edit, typed)
        qtbot.keyClick(box.edit, Qt.Key.Key_Return)
        message = window.statusBar().currentMessage()
        assert message.startswith(f"Cannot insert {typed} on this edge: {why}"), message
        assert (set(g.nodes), list(g.edges), window.doc.undo.count()) == before


def _drag_events(window, type_name: str, at):
    from PySide6.QtCore import QMimeData

    from gui.canvas.view import MIME_BLOCK

    data = QMimeData()
    data.setData(MIME_BLOCK, type_name.encode())
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    vp = window.view.viewport()
    enter = QDragEnterEvent(at, *args)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(vp, QDragMoveEvent(at, *args))
    return vp, data, args


def test_dropping_a_palette_block_on_an_edge_inserts_it_and_the_edge_lights_up(qtbot, window):
    g = window.doc.graph
    edge = _edge(window, "l1", "y")
    at = _edge_point(window, edge)
    vp, data, args = _drag_events(window, "Dropout", at)
    mark = window.scene._drop_mark
    assert mark is not None and mark.isVisible() and mark.edge == edge  # highlighted
    # moved off the edge: the highlight goes
    away = window.view.mapFromScene(QPointF(700, 300))
    QApplication.sendEvent(vp, QDragMoveEvent(away, *args))
    assert window.scene._drop_mark is None
    QApplication.sendEvent(vp, QDragMoveEvent(at, *args))
    assert window.scene._drop_mark is not None
    QApplication.sendEvent(vp, QDropEvent(QPointF(at), *args))
    assert window.scene._drop_mark is None
    [new] = [n for n in g.nodes.values() if n.type == "Dropout"]
    assert {(e.source, e.target) for e in g.edges} == {("x", "l1"), ("l1", new.id), (new.id, "y")}
    window.doc.undo.undo()  # one step
    assert new.id not in g.nodes and ("l1", "y") in {(e.source, e.target) for e in g.edges}


def test_a_block_that_does_not_fit_dropped_on_an_edge_is_only_added(qtbot, window):
    g = window.doc.graph
    edge = _edge(window, "l1", "y")
    at = _edge_point(window, edge)
    vp, data, args = _drag_events(window, "Input", at)
    assert window.scene._drop_mark is None  # no highlight: it would not go in
    QApplication.sendEvent(vp, QDropEvent(QPointF(at), *args))
    [new] = [n for n in g.nodes.values() if n.type == "Input" and n.id != "x"]
    assert ("l1", "y") in {(e.source, e.target) for e in g.edges}
    assert not [e for e in g.edges if new.id in (e.source, e.target)]
    QApplication.sendEvent(vp, QDragLeaveEvent())


def test_drag_leaving_the_canvas_clears_the_highlight(qtbot, window):
    edge = _edge(window, "l1", "y")
    vp, _data, _args = _drag_events(window, "ReLU", _edge_point(window, edge))
    assert window.scene._drop_mark is not None
    QApplication.sendEvent(vp, QDragLeaveEvent())
    assert window.scene._drop_mark is None


def test_double_click_on_a_block_focuses_its_first_parameter(qtbot, window):
    window.docks["inspector"].hide()
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                      pos=node_point(window, "l1"))
    qtbot.waitUntil(window.docks["inspector"].isVisible, timeout=2000)  # shown again
    assert window.inspector.node_id == "l1"
    editor = window.inspector.editors["out_features"]
    focused = QApplication.focusWidget()
    assert focused is editor.widget or editor.widget.isAncestorOf(focused)
    # typing goes straight into the value
    qtbot.keyClicks(focused, "48")
    qtbot.keyClick(focused, Qt.Key.Key_Return)
    assert window.doc.graph.nodes["l1"].params["out_features"] == 48


def test_palette_search_matches_synonyms_and_descriptions(qtbot, window):
    palette = window.palette
    cases = {
        "dense": {"Linear"},
        "fc": {"Linear"},
        "recurrent": {"RNN", "LSTM", "GRU"},
        "skip": {"Add", "library:BasicBlock", "library:Bottleneck", "library:InvertedResidual"},
        "residual": {"Add", "library:BasicBlock", "library:TransformerBlock"},
        "attention": {"MultiheadAttention", "TransformerEncoderLayer", "library:GPTBlock"},
        "upsampling": {"ConvTranspose2d"},  # a word of its description
    }
    for typed, wanted in cases.items():
        palette.search.clear()
        qtbot.keyClicks(palette.search, typed)
        shown = set(palette.visible_types())
        assert wanted <= shown, (typed, wanted - shown)
        assert "ReLU" not in shown and "Flatten" not in shown, typed
    palette.search.clear()
    qtbot.keyClicks(palette.search, "fc")
    assert "Linear" in palette.visible_types() and "BatchNorm2d" not in palette.visible_types()
    palette.search.clear()
    qtbot.keyClicks(palette.search, "zzzz")
    assert palette.visible_types() == []


def test_a_library_unit_is_inserted_with_its_definition_in_the_same_undo_step(qtbot, window,
                                                                             monkeypatch):
    from graph import Graph
    from graph.project import Project
    from gui.document import Document

    g = Graph()
    g.add_node("Input", {"shape": [16, 8, 8]}, id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 16, "padding": "same"}, id="c", pos=(260, 0))
    g.add_node("Output", {}, id="y", pos=(520, 0))
    g.connect("x", "c")
    g.connect("c", "y")
    window.set_document(Document(Project("units", g, {}, {}, None)))
    g = window.doc.graph
    edge = _edge(window, "c", "y")
    box = _open_insert_box(qtbot, window, monkeypatch, edge)
    qtbot.keyClicks(box.edit, "residual")
    names = [box.list.item(i).text().split()[0] for i in range(box.list.count())]
    assert names[0] == "Add" and "BasicBlock" in names
    box.list.setCurrentRow(names.index("BasicBlock"))
    qtbot.keyClick(box.edit, Qt.Key.Key_Return)
    assert "BasicBlock" in g.units
    [new] = [n for n in g.nodes.values() if n.type == "BasicBlock"]
    assert {(e.source, e.target) for e in g.edges} == {("x", "c"), ("c", new.id), (new.id, "y")}
    window.doc.undo.undo()
    assert "BasicBlock" not in g.units and new.id not in g.nodes
    assert {(e.source, e.target) for e in g.edges} == {("x", "c"), ("c", "y")}
