"""Named ports on the canvas: a block with more than one port on a side
(MultiheadAttention's query/key/value, a GRU's in/h0 and out/h_n, an LSTM's
states, a unit with two outputs) names each of that side's ports beside it,
inside the block and clear of its text; a single ``in``/``out`` is not
named; the names are not drawn zoomed far out; an optional port left
unconnected is drawn hollow; the auto-layout sizes a block as its item."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from graph.project_load import project_from_dict
from gui.canvas.node_face import node_box
from gui.canvas.node_item import NodeItem
from gui.canvas.style import LINE_HEIGHT, PARAM_LINES, SIMPLE_LOD

from conftest import drag, port_point


def ports_doc() -> dict:
    return {
        "format": "netcanvas", "version": 2, "name": "ports",
        "units": {"Split": {"params": {}, "nodes": [
            {"id": "x", "type": "Input"},
            {"id": "a", "type": "ReLU", "name": "relu"},
            {"id": "b", "type": "Tanh", "name": "tanh"},
            {"id": "left", "type": "Output"}, {"id": "right_side", "type": "Output"}],
            "edges": [{"source": "x", "target": "a"}, {"source": "x", "target": "b"},
                      {"source": "a", "target": "left"},
                      {"source": "b", "target": "right_side"}]}},
        "nodes": [
            {"id": "x", "type": "Input", "name": "seq", "params": {"shape": [5, 4]},
             "pos": [0, 0]},
            {"id": "h", "type": "Input", "name": "h", "params": {"shape": [1, 6]},
             "pos": [0, 200]},
            {"id": "gru", "type": "GRU", "name": "gru", "params": {"hidden_size": 6},
             "pos": [260, 60]},
            {"id": "y", "type": "Output", "name": "out_seq", "pos": [540, 0]},
            {"id": "s", "type": "Output", "name": "state", "pos": [540, 200]},
            {"id": "lstm", "type": "LSTM", "name": "lstm", "params": {"hidden_size": 4},
             "pos": [260, 330]},
            {"id": "mha", "type": "MultiheadAttention", "name": "attention",
             "params": {"num_heads": 2}, "pos": [540, 400]},
            {"id": "u", "type": "Split", "name": "split", "pos": [800, 60]},
            {"id": "o1", "type": "Output", "name": "o1", "pos": [1050, 0]},
            {"id": "o2", "type": "Output", "name": "o2", "pos": [1050, 200]},
            {"id": "lstm_out", "type": "Output", "name": "lstm_out", "pos": [540, 700]},
        ],
        "edges": [
            {"source": "x", "target": "gru"},
            {"source": "h", "target": "gru", "target_port": "h0"},
            {"source": "gru", "target": "y"},
            {"source": "gru", "source_port": "h_n", "target": "s"},
            {"source": "x", "target": "lstm"},
            {"source": "lstm", "target": "lstm_out"},
            {"source": "x", "target": "mha", "target_port": "query"},
            {"source": "x", "target": "mha", "target_port": "key"},
            {"source": "x", "target": "mha", "target_port": "value"},
            {"source": "x", "target": "u"},
            {"source": "u", "source_port": "left", "target": "o1"},
            {"source": "u", "source_port": "right_side", "target": "o2"},
        ]}


@pytest.fixture
def ports_window(make_window):
    return make_window(project_from_dict(ports_doc()), (1200, 800), (400, 300))


def set_flow(w, vertical: bool) -> None:
    for item in w.scene.nodes.values():
        item.set_vertical(vertical)


def labels(item: NodeItem) -> dict[tuple[str, bool], str]:
    return {(p.name, p.is_output): p.label for p in item.port_labels()}


def text_bottom(item: NodeItem) -> float:
    """The lowest pixel of the block's text (header, type, settings, count)."""
    rows = len(item.type_lines) + max(PARAM_LINES, len(item.param_lines)) + 1
    return item.text_top() + item.header + 3 + rows * LINE_HEIGHT


@pytest.mark.parametrize("vertical", [False, True], ids=["left-to-right", "top-to-bottom"])
def test_multi_port_sides_name_their_ports_beside_them(ports_window, vertical):
    w = ports_window
    set_flow(w, vertical)
    gru, mha, lstm, unit = (w.scene.nodes[k] for k in ("gru", "mha", "lstm", "u"))
    assert labels(gru) == {("in", False): "in", ("h0", False): "h0",
                           ("out", True): "out", ("h_n", True): "h_n"}
    assert labels(mha) == {("query", False): "query", ("key", False): "key",
                           ("value", False): "value"}  # one output: not named
    assert labels(lstm) == {(n, o): n for n, o in [("in", False), ("h0", False), ("c0", False),
                                                   ("out", True), ("h_n", True),
                                                   ("c_n", True)]}
    assert labels(unit) == {("left", True): "left", ("right_side", True): "right_side"}
    for item in (gru, mha, lstm, unit):
        box = item.sceneBoundingRect().adjusted(8, 8, -8, -8)  # the block, no paint margin
        rects = []
        for port in item.port_labels():
            r = port.label_scene_rect()
            assert box.contains(r), (item.node_id, port.name)
            # beside its own port: the nearest port to the label is the one it names
            centre = r.center()
            nearest = min(item.ports.values(),
                          key=lambda p: (p.scenePos() - centre).manhattanLength())
            assert nearest is port, (item.node_id, port.name)
            # clear of the face's text
            local = port.label_rect
            assert local.top() >= text_bottom(item) or local.bottom() <= item.text_top(), \
                (item.node_id, port.name)
            rects.append(r)
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                assert not a.intersects(b), item.node_id


def test_single_ports_are_not_named(ports_window):
    for key in ("x", "y", "s", "o1"):
        assert ports_window.scene.nodes[key].port_labels() == []


def test_the_layout_sizes_a_labelled_block_as_its_item(ports_window):
    """The auto-layout (node_box) and the item agree on the taller block."""
    w = ports_window
    for key in ("gru", "lstm", "mha", "u", "x"):
        node = w.doc.project.graph.node(key)
        assert node_box(node) == (w.scene.nodes[key].rect.width(), w.scene.nodes[key].height)
    assert w.scene.nodes["mha"].height > w.scene.nodes["y"].height


def test_names_are_drawn_at_normal_zoom_and_not_zoomed_far_out(qtbot, ports_window,
                                                               monkeypatch):
    w = ports_window
    drawn: list[str] = []
    original = NodeItem._paint_port_labels

    def spy(self, painter):
        drawn.append(self.node_id)
        original(self, painter)

    monkeypatch.setattr(NodeItem, "_paint_port_labels", spy)
    for item in w.scene.nodes.values():
        item.update()  # drop the cached pictures
    w.view.viewport().grab()
    assert {"gru", "mha"} <= set(drawn)
    drawn.clear()
    w.view.resetTransform()
    w.view.scale(SIMPLE_LOD / 2, SIMPLE_LOD / 2)  # zoomed out as far as the edges' labels go
    assert w.view.zoom_level() < SIMPLE_LOD
    for item in w.scene.nodes.values():
        item.update()
    w.view.viewport().grab()
    # and a block painted small elsewhere (a picture of the whole scene) draws none either
    source = w.scene.itemsBoundingRect()
    img = QImage(int(source.width() * SIMPLE_LOD / 2), int(source.height() * SIMPLE_LOD / 2),
                 QImage.Format.Format_ARGB32)
    painter = QPainter(img)
    w.scene.render(painter, QRectF(img.rect()), source)
    painter.end()
    assert drawn == []


def picture(item: NodeItem, rect: QRectF) -> QImage:
    """``rect`` (item coordinates) of the item painted by itself at zoom 1."""
    img = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    img.fill(0)
    painter = QPainter(img)
    painter.translate(-rect.topLeft())
    item.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    return img


def test_an_unconnected_optional_port_is_hollow_until_connected(qtbot, ports_window):
    w = ports_window
    lstm = w.scene.nodes["lstm"]
    h0, c0 = lstm.port("h0", False), lstm.port("c0", False)
    assert h0.optional and not h0.connected()
    assert "optional" in h0.tooltip()
    where = h0.rect().adjusted(-1, -1, 1, 1)
    empty = picture(lstm, where)
    # a plain (connected) port at the same place for comparison
    filled_in = lstm.port("in", False)
    assert picture(lstm, filled_in.rect().adjusted(-1, -1, 1, 1)) != empty
    # a user connects h0 and c0: the ports fill in
    drag(qtbot, w, port_point(w, "h", "out", True), port_point(w, "lstm", "h0", False))
    drag(qtbot, w, port_point(w, "h", "out", True), port_point(w, "lstm", "c0", False))
    assert {(e.target, e.target_port) for e in w.doc.project.graph.edges
            if e.target == "lstm"} >= {("lstm", "h0"), ("lstm", "c0")}
    assert h0.connected() and c0.connected()
    assert picture(lstm, where) != empty
    assert picture(lstm, where) == picture(lstm, filled_in.rect().adjusted(-1, -1, 1, 1))
