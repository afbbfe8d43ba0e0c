"""Palette, inspector, problems and code panels, used as a person would."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QCheckBox

from graph import Graph
from graph.problems import ERROR, Code, Problem
from gui import commands
from gui.canvas.style import NODE_WIDTH
from gui.canvas.view import MIME_BLOCK
from gui.param_editors import IntBox


def _click_item(qtbot, tree, item, double=False):
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    fn = qtbot.mouseDClick if double else qtbot.mouseClick
    if double:
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    fn(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_palette_search_and_double_click_adds_block(qtbot, window):
    pal = window.palette
    qtbot.keyClicks(pal.search, "ident")
    assert pal.visible_types() == ["Identity"]
    assert "y = x" in pal.items["Identity"].toolTip(0)
    n = len(window.doc.graph)
    _click_item(qtbot, pal.tree, pal.items["Identity"], double=True)
    assert len(window.doc.graph) == n + 1
    new = window.scene.selected_node_ids()
    assert [window.doc.graph.nodes[i].type for i in new] == ["Identity"]
    window.actions["undo"].trigger()
    assert len(window.doc.graph) == n and new[0] not in window.scene.nodes
    window.actions["redo"].trigger()
    assert new[0] in window.scene.nodes


def test_drop_from_palette_adds_block_where_dropped(qtbot, window):
    data = window.palette.tree.mimeData([window.palette.items["Linear"]])
    assert bytes(data.data(MIME_BLOCK)) == b"Linear"
    vp = window.view.viewport()
    at = QPointF(100, 250)
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(at.toPoint(), *args)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(vp, QDropEvent(at, *args))
    nid = window.scene.selected_node_ids()[0]
    node = window.doc.graph.nodes[nid]
    assert node.type == "Linear"
    center = window.view.mapToScene(at.toPoint())
    assert abs(node.pos[0] + NODE_WIDTH / 2 - center.x()) < 2


def test_inspector_edit_changes_shape_label_and_undo(qtbot, window):
    window.scene.select_nodes(["l1"])
    spin = window.inspector.editors["out_features"].widget
    assert isinstance(spin, IntBox) and spin.value() == 32 and spin.minimum() == 1
    assert window.inspector.inferred_labels["in_features"].text() == "8"
    spin.clear()
    qtbot.keyClicks(spin, "7")
    qtbot.keyClick(spin, Qt.Key.Key_Enter)
    edge = window.doc.graph.in_edges("y")[0]
    assert window.scene.edges[edge].label == "N×1×8×7"
    assert "@" not in window.code.toPlainText()
    window.actions["undo"].trigger()
    assert window.scene.edges[edge].label == "N×1×8×32" and spin.value() == 32
    box = window.inspector.editors["bias"].widget
    assert isinstance(box, QCheckBox)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(5, box.height() // 2))
    assert window.doc.graph.nodes["l1"].params["bias"] is False
    assert window.scene.nodes["l1"].n_params == 8 * 32


def _type_into(qtbot, box, text):
    box.selectAll()
    qtbot.keyClick(box, Qt.Key.Key_Backspace)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_inspector_marks_invalid_text_with_the_reason(qtbot, window):
    window.scene.select_nodes(["x"])
    editor = window.inspector.editors["shape"]
    assert [b.text() for b in editor.boxes] == ["1", "8", "8"]  # one box per entry
    _type_into(qtbot, editor.boxes[1], "0")
    assert "every size must be positive" in window.inspector.error_text("shape")
    assert window.doc.graph.nodes["x"].params["shape"] == [1, 8, 8]
    assert "#d22" in editor.widget.styleSheet()  # marked as typed
    _type_into(qtbot, editor.boxes[1], "")
    assert "an entry is empty" in window.inspector.error_text("shape")
    _type_into(qtbot, editor.boxes[1], "4")
    _type_into(qtbot, editor.boxes[2], "4")
    assert window.inspector.error_text("shape") is None and editor.widget.styleSheet() == ""
    assert window.scene.edges[window.doc.graph.in_edges("l1")[0]].label == "N×1×4×4"


def test_rename_in_inspector_is_undoable(qtbot, window):
    window.scene.select_nodes(["l1"])
    name = window.inspector.name_edit
    name.selectAll()
    qtbot.keyClicks(name, "hidden")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert window.doc.graph.nodes["l1"].name == "hidden"
    assert window.scene.nodes["l1"].name == "hidden"
    window.actions["undo"].trigger()
    assert window.scene.nodes["l1"].name == "fc1"


def test_clicking_a_problem_selects_and_centres_its_node(qtbot, window):
    panel = window.problems
    rows = [panel.topLevelItem(i) for i in range(panel.topLevelItemCount())]
    row = next(r for r in rows if r.text(0) == "fc2")
    assert "not connected" in row.text(1)
    assert "1 error" in window.problems_label.text()
    _click_item(qtbot, panel, row)
    assert window.scene.selected_node_ids() == ["l2"]
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    assert window.scene.nodes["l2"].sceneBoundingRect().adjusted(-60, -60, 60, 60).contains(centre)


def test_code_view_shows_code_or_errors(qtbot, window):
    qtbot.waitUntil(lambda: "error" in window.code.toPlainText())
    assert "not connected" in window.code.toPlainText()
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    qtbot.waitUntil(lambda: "class " in window.code.toPlainText())
    assert "nn.Linear(8, 32)" in window.code.toPlainText()


def test_quick_fix_marker_inserts_block_undoably(qtbot, window):
    g = window.doc.graph
    problem = Problem(ERROR, Code.RANK, "y", 'Output "out": test', "in",
                      {"kind": "insert", "type": "Identity"})
    window.scene.apply_fix(problem)
    assert [g.nodes[e.source].type for e in g.in_edges("y")] == ["Identity"]
    assert window.scene.edges[g.in_edges("y")[0]].label == "N×1×8×32"
    window.actions["undo"].trigger()
    assert [e.source for e in g.in_edges("y")] == ["l1"] and len(g) == 4
    fix = commands.quick_fix(g, Problem(ERROR, Code.PARAM, "l1", "m", None,
                                        {"kind": "set_param", "param": "out_features", "value": 5}))
    window.doc.undo.push(fix)
    assert g.nodes["l1"].params["out_features"] == 5


def test_palette_items_have_family_icons_and_filter_while_typing(qtbot, window):
    pal = window.palette
    linear, conv = pal.items["Linear"], pal.items["Conv2d"]
    assert not linear.icon(0).isNull()
    img_a = linear.icon(0).pixmap(16, 16).toImage()
    img_b = conv.icon(0).pixmap(16, 16).toImage()
    assert img_a.pixelColor(8, 3) != img_b.pixelColor(8, 3)  # family colours differ
    tip = pal.items["Conv2d"].toolTip(0)
    assert "<code>" in tip and "out =" in tip
    seen = []
    for ch in "conv2":
        qtbot.keyClicks(pal.search, ch)
        seen.append(len(pal.visible_types()))
    assert seen[0] > seen[-1] >= 2 and "Linear" not in pal.visible_types()
    assert all("conv2" in t.lower() for t in pal.visible_types())
    pal.search.clear()
    assert len(pal.visible_types()) == len(pal.items)


def _rank_problem_window(window):
    from graph import Graph
    from graph.project import Project
    from gui.document import Document

    g = Graph()
    g.add_node("Input", {"shape": [64]}, name="x", id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3}, name="conv", id="c", pos=(300, 0))
    g.add_node("Output", {}, name="y", id="y", pos=(600, 0))
    g.connect("x", "c")
    g.connect("c", "y")
    window.set_document(Document(Project("Fix", g, {}, {}, None)))
    window.view.resetTransform()
    window.view.centerOn(300, 40)


def test_clicking_the_quick_fix_marker_applies_it_and_ctrl_z_undoes(qtbot, window):
    _rank_problem_window(window)
    g = window.doc.graph
    [marker] = window.scene.markers
    assert "Reshape" in marker.text
    at = window.view.mapFromScene(marker.scenePos())
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert [g.nodes[e.source].type for e in g.in_edges("c")] == ["Reshape"]
    assert len(g) == 4 and window.doc.is_modified()
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [e.source for e in g.in_edges("c")] == ["x"] and len(g) == 3
    assert len(window.scene.markers) == 1


def _menu(window, *path):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == path[0])
    for name in path[1:]:
        menu = next(a.menu() for a in menu.actions() if a.menu() and a.text() == name)
    return menu


def test_a_closed_panel_comes_back_from_view_panels(qtbot, window):
    menu = _menu(window, "&View", "&Panels")
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Blocks", "Inspector", "Problems", "Code", "Training", "&Reset Layout"]
    dock = window.docks["inspector"]
    assert dock.isVisible()
    close = dock.findChild(QAbstractButton, "qt_dockwidget_closebutton")
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)  # the dock's own ✕
    assert not dock.isVisible()
    toggle = next(a for a in menu.actions() if a.text() == "Inspector")
    assert not toggle.isChecked()
    toggle.trigger()
    assert dock.isVisible() and toggle.isChecked()
    # closed and floated panels: Reset Layout puts all back
    window.docks["code"].close()
    window.docks["palette"].setFloating(True)
    next(a for a in menu.actions() if a.text() == "&Reset Layout").trigger()
    assert all(d.isVisible() and not d.isFloating() for d in window.docks.values())
    area = window.dockWidgetArea
    assert area(window.docks["palette"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert area(window.docks["inspector"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert area(window.docks["code"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert not window.training_dock.isVisible()


def test_default_layout_gives_the_inspector_the_full_height(qtbot, window):
    window.resize(1500, 900)
    qtbot.waitUntil(lambda: window.width() == 1500)
    qtbot.wait(20)
    inspector, code = window.docks["inspector"], window.docks["code"]
    assert inspector.height() > 0.75 * window.centralWidget().height()
    # Problems and Code both in sight, side by side under the canvas
    assert code.isVisible() and window.docks["problems"].isVisible()
    assert code.geometry().top() > window.centralWidget().geometry().bottom()
    assert not window.tabifiedDockWidgets(code)
    # the palette is wide enough for the longest block names
    pal = window.palette
    item = pal.items["DepthwiseSeparableConv2d"]
    fm = pal.tree.fontMetrics()
    rect = pal.tree.visualItemRect(item)
    text_left = rect.left() + pal.tree.iconSize().width() + 4
    assert text_left + fm.horizontalAdvance(item.text(0)) <= pal.tree.viewport().width()
    assert "DepthwiseSeparableConv2d" in item.toolTip(0)  # narrowed by hand, the tip still names it


def test_code_panel_highlights_keywords(qtbot, window):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    qtbot.waitUntil(lambda: "class " in window.code.toPlainText())
    doc = window.code.document()
    block = doc.begin()
    while block.isValid() and not block.text().startswith("class "):
        block = block.next()
    formats = block.layout().formats()
    keyword = next(f for f in formats if f.start == 0)
    assert keyword.length == len("class") and keyword.format.fontWeight() >= 600
    plain = window.code.palette().text().color()
    assert keyword.format.foreground().color() != plain
    block = doc.begin()
    while block.isValid() and "nn.Linear(8, 32)" not in block.text():
        block = block.next()
    number_at = block.text().index("8, 32")
    number = next(f for f in block.layout().formats() if f.start == number_at)
    assert number.format.foreground().color() not in (plain, keyword.format.foreground().color())


def test_a_model_far_too_large_for_its_dataset_is_warned_of_and_the_warning_follows_settings(
        qtbot, window, tmp_path):
    """The warning needs the dataset's size: the window gives it to the analysis."""
    from graph.project import Project, save_project
    from gui.training.settings_data import SetTraining

    g = Graph()
    g.add_node("Input", {"shape": [4]}, name="features", id="x")
    g.add_node("Linear", {"out_features": 400_000}, name="huge", id="big")
    g.add_node("Output", {}, id="y")
    g.connect("x", "big")
    g.connect("big", "y")
    path = tmp_path / "huge.json"
    save_project(Project("Huge", g, {"dataset": {"name": "iris"}}), path)
    assert window.files.open_path(path)

    def large_model_rows():
        panel = window.problems
        return [panel.topLevelItem(i).text(1) for i in range(panel.topLevelItemCount())
                if "training samples" in panel.topLevelItem(i).text(1)]

    rows = large_model_rows()
    assert len(rows) == 1 and "120 training samples" in rows[0], rows
    window.doc.undo.push(SetTraining(window.doc, {"dataset": {"name": "spirals", "n": 100_000}}))
    assert large_model_rows() == []  # 80,000 samples: 2M parameters are not absurd
    window.doc.undo.undo()
    assert len(large_model_rows()) == 1
