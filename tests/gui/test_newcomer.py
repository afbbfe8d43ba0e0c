"""The issue's "done when": a newcomer builds a CNN, an LSTM classifier and a
Transformer block with the mouse (blocks dragged from the palette, ports
connected by dragging, parameters typed into the inspector), sees shapes and
problems as they go, undoes, saves, reopens and exports the code.

Offscreen Qt cannot run a real drag-and-drop session (``QDrag.exec`` waits
for a window system), so a drop is the palette's own drag data (its
``mimeData`` for the clicked item) delivered to the canvas as the
enter/move/drop events the window system would send.
"""

from __future__ import annotations

import ast

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from conftest import drag, port_point
from graph.project import load_project
from gui import export_ops, file_ops
from gui.canvas.style import NODE_HEIGHT, NODE_WIDTH

CTRL = Qt.KeyboardModifier.ControlModifier
# rows leave room for blocks that grow (named ports add a row each)
COLUMNS, X_STEP, Y_STEP = 3, NODE_WIDTH + 90, NODE_HEIGHT + 90


@pytest.fixture
def newcomer(qtbot, window, tmp_path, monkeypatch):
    """An empty project in a roomy window; file dialogs answer with ``tmp_path`` files."""
    window.resize(1400, 940)
    qtbot.waitUntil(lambda: window.width() == 1400)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_N, CTRL)  # File → New
    assert len(window.doc.graph) == 0
    window.view.resetTransform()
    window.origin = window.view.mapToScene(QPoint(10, 10))  # the top left of the empty canvas
    answers = {"save": [], "open": [], "export": []}
    assert file_ops.QFileDialog is export_ops.QFileDialog  # one class: one patch for both

    def save_dialog(_parent, caption, *_rest, **_kw):
        return answers["save" if caption == "Save project as" else "export"].pop(0), ""
    monkeypatch.setattr(file_ops.QFileDialog, "getSaveFileName", save_dialog)
    monkeypatch.setattr(file_ops.QFileDialog, "getOpenFileName",
                        lambda *a: (answers["open"].pop(0), ""))
    window.answers = answers
    return window


def drop(qtbot, window, type_name: str, slot: int) -> str:
    """Drag ``type_name`` from the palette onto grid cell ``slot``; the new block's id."""
    tree = window.palette.tree
    item = window.palette.items[type_name]
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=tree.visualItemRect(item).center())
    data = tree.mimeData(tree.selectedItems())  # what the palette hands to a drag
    row, col = divmod(slot, COLUMNS)
    where = window.origin + QPointF(col * X_STEP + NODE_WIDTH / 2, row * Y_STEP + NODE_HEIGHT / 2)
    at = QPointF(window.view.mapFromScene(where))
    assert window.view.viewport().rect().contains(at.toPoint())
    vp = window.view.viewport()
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(at.toPoint(), *args)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(vp, QDragMoveEvent(at.toPoint(), *args))
    before = set(window.doc.graph.nodes)
    seen = {n: window.view.mapFromScene(i.pos()) for n, i in window.scene.nodes.items()}
    QApplication.sendEvent(vp, QDropEvent(at, *args))
    qtbot.wait(1)  # the scene's growth is signalled from the event loop
    [nid] = set(window.doc.graph.nodes) - before
    # the canvas does not jump: what was in sight stays where it was
    assert {n: window.view.mapFromScene(window.scene.nodes[n].pos()) for n in seen} == seen
    assert window.doc.graph.nodes[nid].type == type_name
    assert window.scene.selected_node_ids() == [nid]  # and the inspector shows it
    return nid


def wire(qtbot, window, src: str, dst: str, dst_port: str = "in") -> None:
    """Drag from ``src``'s output port to ``dst``'s input port."""
    n = len(window.doc.graph.edges)
    drag(qtbot, window, port_point(window, src, "out", True), port_point(window, dst, dst_port, False))
    assert len(window.doc.graph.edges) == n + 1, window.scene.last_refusal


def click_node(qtbot, window, nid: str) -> None:
    item = window.scene.nodes[nid]
    at = window.view.mapFromScene(item.pos() + QPointF(NODE_WIDTH / 2, 10))  # on its header
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert window.scene.selected_node_ids() == [nid]


def type_in(qtbot, box, text: str) -> None:
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def edit(qtbot, window, param: str, text: str, box: int | None = None) -> None:
    """Type into the inspector's editor of ``param`` (box ``box`` of a multi-box one)."""
    ed = window.inspector.editors[param]
    if box is None:
        type_in(qtbot, ed.widget, text)
    else:
        boxes = ed.spins if hasattr(ed, "spins") else ed.boxes
        type_in(qtbot, boxes[box], text)


def labels(window) -> dict[tuple[str, str], str]:
    return {(e.edge.source, e.edge.target): e.label for e in window.scene.edges.values()}


def errors(window) -> int:
    return len(window.doc.analyzer.errors())


def save_reopen_export(qtbot, window, tmp_path, name: str, expect_in_code: list[str]) -> None:
    """Ctrl+S (asks where), Ctrl+N, Ctrl+O the file back, File → Export → Model."""
    path = tmp_path / f"{name}.json"
    shapes = labels(window)
    window.answers["save"].append(str(path))
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_S, CTRL)
    assert path.exists() and not window.doc.is_modified()
    qtbot.keyClick(window.view, Qt.Key.Key_N, CTRL)
    assert len(window.doc.graph) == 0
    window.answers["open"].append(str(path))
    qtbot.keyClick(window.view, Qt.Key.Key_O, CTRL)
    assert window.doc.path == str(path) and labels(window) == shapes
    assert window.doc.analyzer.refresh().valid()
    code = tmp_path / f"{name}.py"
    window.answers["export"].append(str(code))
    window.actions["export_model"].trigger()
    source = code.read_text()
    ast.parse(source)
    for text in expect_in_code:
        assert text in source, text
    assert load_project(path).graph.nodes.keys() == window.doc.graph.nodes.keys()


def test_a_newcomer_builds_a_cnn_by_mouse(qtbot, newcomer, tmp_path):
    w = newcomer
    x = drop(qtbot, w, "Input", 0)
    conv = drop(qtbot, w, "Conv2d", 1)
    assert errors(w) >= 1 and "error" in w.problems_label.text()  # conv is not connected yet
    wire(qtbot, w, x, conv)
    assert labels(w)[(x, conv)] == "N×1×8×8"
    edit(qtbot, w, "out_channels", "8")
    pad = w.inspector.editors["padding"].mode
    pad.setFocus()
    qtbot.keyClick(pad, Qt.Key.Key_Down)  # padding: "same"
    relu = drop(qtbot, w, "ReLU", 2)
    wire(qtbot, w, conv, relu)
    assert labels(w)[(conv, relu)] == "N×8×8×8"
    pool = drop(qtbot, w, "MaxPool2d", 3)
    wire(qtbot, w, relu, pool)
    flat = drop(qtbot, w, "Flatten", 4)
    wire(qtbot, w, pool, flat)
    assert labels(w)[(pool, flat)] == "N×8×4×4"
    fc = drop(qtbot, w, "Linear", 5)
    wire(qtbot, w, flat, fc)
    edit(qtbot, w, "out_features", "10")
    out = drop(qtbot, w, "Output", 6)
    assert errors(w) >= 1
    wire(qtbot, w, fc, out)
    assert errors(w) == 0 and w.problems_label.text() == "0 errors, 0 warnings"
    assert labels(w) == {(x, conv): "N×1×8×8", (conv, relu): "N×8×8×8", (relu, pool): "N×8×8×8",
                         (pool, flat): "N×8×4×4", (flat, fc): "N×128", (fc, out): "N×10"}
    # 8·9+8 + 128·10+10, in units on the status bar (the exact count in its tooltip)
    assert "Parameters: 1.4 k" in w.totals_label.text()
    assert "1,370 parameters" in w.totals_label.toolTip()
    # a slip, undone: the kernel made too large, then Ctrl+Z
    click_node(qtbot, w, conv)
    edit(qtbot, w, "kernel_size", "11", box=0)
    assert w.doc.graph.nodes[conv].params["kernel_size"] == 11
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_Z, CTRL)
    assert "kernel_size" not in w.doc.graph.nodes[conv].params and errors(w) == 0
    save_reopen_export(qtbot, w, tmp_path, "cnn",
                       ['nn.Conv2d(1, 8, kernel_size=3, padding="same")', "nn.Linear(128, 10)"])


def test_a_newcomer_builds_an_lstm_classifier_by_mouse(qtbot, newcomer, tmp_path):
    w = newcomer
    x = drop(qtbot, w, "Input", 0)
    edit(qtbot, w, "shape", "20", box=0)
    edit(qtbot, w, "shape", "4", box=1)
    qtbot.mouseClick(w.inspector.editors["shape"].remove_button, Qt.MouseButton.LeftButton)
    assert w.doc.graph.nodes[x].params["shape"] == [20, 4]
    lstm = drop(qtbot, w, "LSTM", 1)
    wire(qtbot, w, x, lstm)
    assert labels(w)[(x, lstm)] == "N×20×4"
    edit(qtbot, w, "hidden_size", "16")
    seq = w.inspector.editors["return_sequences"].widget
    qtbot.mouseClick(seq, Qt.MouseButton.LeftButton, pos=QPoint(5, seq.height() // 2))
    assert w.doc.graph.nodes[lstm].params["return_sequences"] is False
    assert w.inspector.inferred_labels["input_size"].text() == "4"
    fc = drop(qtbot, w, "Linear", 2)
    wire(qtbot, w, lstm, fc)
    assert labels(w)[(lstm, fc)] == "N×16"  # the last step only
    edit(qtbot, w, "out_features", "3")
    out = drop(qtbot, w, "Output", 3)
    wire(qtbot, w, fc, out)
    assert errors(w) == 0 and labels(w)[(fc, out)] == "N×3"
    save_reopen_export(qtbot, w, tmp_path, "lstm", ["nn.LSTM(4, 16, batch_first=True)"])


def test_a_newcomer_builds_a_transformer_block_by_mouse(qtbot, newcomer, tmp_path):
    w = newcomer
    x = drop(qtbot, w, "Input", 0)
    edit(qtbot, w, "shape", "16", box=0)
    edit(qtbot, w, "shape", "32", box=1)
    qtbot.mouseClick(w.inspector.editors["shape"].remove_button, Qt.MouseButton.LeftButton)
    attn = drop(qtbot, w, "MultiheadAttention", 1)
    wire(qtbot, w, x, attn, "query")  # key and value default to the query: self-attention
    assert w.scene.nodes[attn].severity == "error"  # num_heads is required
    edit(qtbot, w, "num_heads", "4")
    add1 = drop(qtbot, w, "Add", 2)
    wire(qtbot, w, x, add1)
    wire(qtbot, w, attn, add1)  # the residual: two edges into one port
    norm1 = drop(qtbot, w, "LayerNorm", 3)
    wire(qtbot, w, add1, norm1)
    ff1 = drop(qtbot, w, "Linear", 4)
    wire(qtbot, w, norm1, ff1)
    edit(qtbot, w, "out_features", "64")
    act = drop(qtbot, w, "ReLU", 5)
    wire(qtbot, w, ff1, act)
    ff2 = drop(qtbot, w, "Linear", 6)
    wire(qtbot, w, act, ff2)
    edit(qtbot, w, "out_features", "33")  # a typo: the Add below will not match
    add2 = drop(qtbot, w, "Add", 7)
    wire(qtbot, w, norm1, add2)
    wire(qtbot, w, ff2, add2)
    assert w.scene.nodes[add2].severity == "error" and "do not broadcast" in w.scene.nodes[add2].toolTip()
    click_node(qtbot, w, ff2)
    edit(qtbot, w, "out_features", "32")  # fixed: the Add matches
    assert "do not broadcast" not in w.scene.nodes[add2].toolTip()
    assert labels(w)[(ff2, add2)] == "N×16×32"
    norm2 = drop(qtbot, w, "LayerNorm", 8)
    wire(qtbot, w, add2, norm2)
    pool = drop(qtbot, w, "Mean", 9)  # average over the sequence
    wire(qtbot, w, norm2, pool)
    head = drop(qtbot, w, "Linear", 10)
    wire(qtbot, w, pool, head)
    edit(qtbot, w, "out_features", "2")
    out = drop(qtbot, w, "Output", 11)
    wire(qtbot, w, head, out)
    assert errors(w) == 0
    shapes = labels(w)
    assert shapes[(x, attn)] == shapes[(attn, add1)] == shapes[(norm1, ff1)] == "N×16×32"
    assert shapes[(ff1, act)] == "N×16×64" and shapes[(ff2, add2)] == "N×16×32"
    assert shapes[(pool, head)] == "N×32" and shapes[(head, out)] == "N×2"
    assert [e.source for e in w.doc.graph.in_edges(add1)] == [x, attn]
    save_reopen_export(qtbot, w, tmp_path, "transformer",
                       ["nn.MultiheadAttention(32, 4, batch_first=True)", "nn.LayerNorm(32)"])
