"""Canvas navigation and direct manipulation, through keyboard and mouse:
find (Ctrl+F), zoom to selection, arrow-key nudge, level of detail, the
minimap and the context menus."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from conftest import node_point


def test_ctrl_f_finds_a_block_by_name_and_jumps_to_it(qtbot, window):
    window.view.centerOn(5000, 5000)  # far away from every block
    window.scene.clearSelection()
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    bar = window.view.find_bar
    assert bar.isVisible() and bar.edit.hasFocus()
    qtbot.keyClicks(bar.edit, "fc2")
    assert bar.list.count() == 1 and "Linear" in bar.list.item(0).text()
    qtbot.keyClick(bar.edit, Qt.Key.Key_Return)
    assert not bar.isVisible()
    assert window.scene.selected_node_ids() == ["l2"]
    assert window.inspector is not None
    vp_center = window.view.viewport().rect().center()
    assert (node_point(window, "l2") - vp_center).manhattanLength() <= 2


def test_find_by_type_lists_every_match_and_arrows_choose(qtbot, window):
    window.view.open_find()
    bar = window.view.find_bar
    qtbot.keyClicks(bar.edit, "linear")
    names = [bar.list.item(i).text().split()[0] for i in range(bar.list.count())]
    assert names == ["fc1", "fc2"]
    qtbot.keyClick(bar.edit, Qt.Key.Key_Down)
    qtbot.keyClick(bar.edit, Qt.Key.Key_Enter)
    assert window.scene.selected_node_ids() == ["l2"]


def test_find_says_when_nothing_matches_and_esc_closes(qtbot, window):
    window.scene.select_nodes(["x"])
    window.view.open_find()
    bar = window.view.find_bar
    qtbot.keyClicks(bar.edit, "conv")
    assert bar.list.count() == 1 and "no block matches" in bar.list.item(0).text()
    qtbot.keyClick(bar.edit, Qt.Key.Key_Return)  # nothing to jump to: stays open
    assert bar.isVisible() and window.scene.selected_node_ids() == ["x"]
    qtbot.keyClick(bar.edit, Qt.Key.Key_Escape)
    assert not bar.isVisible()
    assert window.scene.selected_node_ids() == ["x"]


def test_zoom_to_selection_fits_the_selected_blocks(qtbot, window):
    window.view.centerOn(5000, 5000)
    window.view.scale(0.2, 0.2)
    window.scene.select_nodes(["l1", "l2"])
    window.actions["zoom_selection"].trigger()
    vp = window.view.viewport().rect()
    for nid in ("l1", "l2"):
        item = window.scene.nodes[nid]
        box = window.view.mapFromScene(item.sceneBoundingRect()).boundingRect()
        assert vp.contains(box), nid
    assert window.view.zoom_level() > 0.5
    assert window.actions["zoom_selection"].shortcut().toString() == "Ctrl+2"


def test_zoom_to_selection_without_selection_says_so(window):
    window.scene.clearSelection()
    before = window.view.transform()
    window.actions["zoom_selection"].trigger()
    assert window.view.transform() == before
    assert "Select blocks" in window.statusBar().currentMessage()


def test_arrow_keys_nudge_the_selection_one_undo_step_per_press(qtbot, window):
    g = window.doc.graph
    window.scene.select_nodes(["l1", "l2"])
    vp = window.view.viewport()
    before = window.doc.undo.count()
    qtbot.keyClick(vp, Qt.Key.Key_Right)
    qtbot.keyClick(vp, Qt.Key.Key_Right)
    qtbot.keyClick(vp, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert tuple(g.nodes["l1"].pos) == (280, 1)
    assert tuple(g.nodes["l2"].pos) == (280, 201)
    assert tuple(window.scene.nodes["l1"].pos().toTuple()) == (280, 1)
    assert tuple(g.nodes["x"].pos) == (0, 0)  # not selected: stays
    assert window.doc.undo.count() == before + 3
    window.doc.undo.undo()
    assert tuple(g.nodes["l1"].pos) == (280, 0)
    window.doc.undo.undo()
    assert tuple(g.nodes["l1"].pos) == (270, 0)


def test_arrow_keys_without_selection_edit_nothing(qtbot, window):
    window.scene.clearSelection()
    before = window.doc.undo.count()
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Left)
    assert window.doc.undo.count() == before
    QApplication.processEvents()


def test_zoomed_far_out_blocks_are_coloured_boxes_and_labels_are_hidden(qtbot, window):
    from gui.canvas.style import label_colors

    item = window.scene.nodes["l1"]
    label = window.scene.edges[next(e for e in window.scene.edges if e.source == "x")].label_rect()
    pill = label_colors(False)[0]

    def pixel(image, scene_point):
        return image.pixelColor(window.view.mapFromScene(scene_point)).rgb()

    below_name = item.center() + QPoint(0, 12)
    full = window.view.viewport().grab().toImage()
    assert pixel(full, below_name) != item.color.rgb()  # full detail: the white body with text
    assert pixel(full, label.center() + QPoint(0, 5)) == pill.rgb()
    # Zoom Out by keyboard, as a user would, to just under the detail threshold
    while window.view.zoom_level() >= 0.4:
        qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.view.zoom_level() > 0.3
    window.view.centerOn(item.center())
    far = window.view.viewport().grab().toImage()
    assert pixel(far, below_name) == item.color.rgb()  # a box of its family colour
    assert pixel(far, label.center() + QPoint(0, 5)) != pill.rgb()  # no shape label


def test_far_out_picture_follows_edits_and_selection(qtbot, window):
    from gui.canvas.style import SELECTED_COLOR

    window.view.resetTransform()
    window.view.scale(0.3, 0.3)
    window.view.centerOn(window.scene.nodes["l2"].center())
    item = window.scene.nodes["l2"]
    window.scene.clearSelection()
    window.view.viewport().grab()  # the far-out picture is built unselected
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=node_point(window, "l2"))
    assert window.scene.selected_node_ids() == ["l2"]
    image = window.view.viewport().grab().toImage()
    edge = window.view.mapFromScene(item.pos() + QPoint(75, 0)) + QPoint(0, -2)  # on the border
    assert image.pixelColor(edge).rgb() == SELECTED_COLOR.rgb()
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Right)  # a nudge redraws it moved
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Right)
    moved = window.view.viewport().grab().toImage()
    inside = window.view.mapFromScene(item.pos() + QPoint(3, 60))
    old_left = window.view.mapFromScene(item.pos() + QPoint(-17, 60))
    assert moved.pixelColor(inside).rgb() == item.color.rgb()
    assert moved.pixelColor(old_left).rgb() != item.color.rgb()


@pytest.mark.slow
def test_5000_node_canvas_at_fit_all_closes_and_the_process_exits_0(tmp_path):
    bench = Path(__file__).resolve().parents[2] / "bench" / "canvas_scale.py"
    env = dict(os.environ, NETCANVAS_DATA_DIR=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    run = subprocess.run([sys.executable, str(bench), "--big", "--no-bars"], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "full repaint at fit-all" in run.stdout and "close" in run.stdout


def _view_centre(window):
    return window.view.mapToScene(window.view.viewport().rect().center())


def test_minimap_appears_when_zoomed_in_and_click_and_drag_move_the_view(qtbot, window):
    mini = window.view.minimap
    window.view.fit_all()
    qtbot.wait(1)
    assert not mini.isVisible()  # everything in sight: nothing to navigate
    for _ in range(4):
        qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert mini.isVisible()
    vp = window.view.viewport().geometry()
    assert mini.geometry().right() <= vp.right() and mini.geometry().bottom() <= vp.bottom()
    target = window.scene.nodes["l2"].center()
    at = mini._transform().map(target).toPoint()
    qtbot.mouseClick(mini, Qt.MouseButton.LeftButton, pos=at)
    # a click lands within a minimap pixel (its size follows the view's)
    pixel = 1 / mini._transform().m11()
    assert (_view_centre(window) - target).manhattanLength() < max(3, 2 * pixel)
    # the outline follows the view
    assert mini.visible_outline().contains(QPointF(at))
    start = mini._transform().map(window.scene.nodes["x"].center()).toPoint()
    qtbot.mousePress(mini, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(mini, pos=start + QPoint(5, 0))
    end = mini._transform().map(window.scene.nodes["y"].center()).toPoint()
    qtbot.mouseMove(mini, pos=end)
    qtbot.mouseRelease(mini, Qt.MouseButton.LeftButton, pos=end)
    assert (_view_centre(window) - window.scene.nodes["y"].center()).manhattanLength() < max(3, 2 * pixel)


def test_minimap_is_toggled_from_the_view_menu(qtbot, window):
    for _ in range(4):
        window.view.zoom(1.25)
    assert window.view.minimap.isVisible()
    action = window.actions["minimap"]
    assert action.isCheckable() and action.isChecked()
    assert action in window.menus["&View"].actions()
    action.trigger()
    assert not action.isChecked() and not window.view.minimap.isVisible()
    window.view.zoom(1.25)
    assert not window.view.minimap.isVisible()
    action.trigger()
    assert window.view.minimap.isVisible()


def test_minimap_follows_edits(qtbot, window):
    for _ in range(4):
        window.view.zoom(1.25)
    mini = window.view.minimap
    before = mini._world()
    window.scene.add_block("ReLU", QPointF(2000, 900))
    qtbot.waitUntil(lambda: mini._world().right() > 2000, timeout=2000)
    assert mini._world().contains(before)


# ---------------------------------------------------------------- context menus
def _context_menu(qtbot, window, monkeypatch, pos: QPoint):
    """Right-click at ``pos`` (viewport px); return the menu that opened (it
    is closed again at once: its actions are triggered by the test)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QContextMenuEvent

    shown = []

    def take_popup():
        menu = QApplication.activePopupWidget()
        shown.append(menu)
        if menu is not None:
            menu.close()  # ends the menu's exec
    QTimer.singleShot(0, take_popup)
    vp = window.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.RightButton, pos=pos)
    qtbot.mouseRelease(vp, Qt.MouseButton.RightButton, pos=pos)
    QApplication.sendEvent(vp, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                 vp.mapToGlobal(pos)))
    assert len(shown) == 1 and shown[0] is window.view.menus.menu
    # the offscreen platform leaves no window active after a popup (a desktop
    # gives activation back to the window the menu belonged to)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=1000)
    return shown[0]


def _action(menu, text: str):
    for a in menu.actions():
        if a.text().replace("&", "") == text:
            return a
    raise AssertionError(f"{text!r} not in {[a.text() for a in menu.actions()]}")


def test_block_menu_renames_through_undo_and_refuses_bad_names(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    g = window.doc.graph
    menu = _context_menu(qtbot, window, monkeypatch, node_point(window, "l1"))
    assert window.scene.selected_node_ids() == ["l1"]  # right-click selects the block
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("encoder", True))
    _action(menu, "Rename…").trigger()
    assert g.nodes["l1"].name == "encoder"
    window.doc.undo.undo()
    assert g.nodes["l1"].name == "fc1"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("class", True))
    _action(menu, "Rename…").trigger()
    assert g.nodes["l1"].name == "fc1"
    assert "Cannot rename to 'class'" in window.statusBar().currentMessage()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("fc2", True))
    _action(menu, "Rename…").trigger()
    assert g.nodes["l1"].name == "fc1" and "fc2" in window.statusBar().currentMessage()


def test_block_menu_duplicate_disconnect_delete_are_undoable(qtbot, window, monkeypatch):
    g = window.doc.graph
    menu = _context_menu(qtbot, window, monkeypatch, node_point(window, "l1"))
    n = len(g.nodes)
    _action(menu, "Duplicate").trigger()
    assert len(g.nodes) == n + 1
    window.doc.undo.undo()
    assert len(g.nodes) == n
    window.scene.clearSelection()
    menu = _context_menu(qtbot, window, monkeypatch, node_point(window, "l1"))
    _action(menu, "Disconnect").trigger()
    assert not [e for e in g.edges if "l1" in (e.source, e.target)] and "l1" in g.nodes
    window.doc.undo.undo()  # both edges back in one step
    assert len([e for e in g.edges if "l1" in (e.source, e.target)]) == 2
    menu = _context_menu(qtbot, window, monkeypatch, node_point(window, "l2"))
    assert not _action(menu, "Disconnect").isEnabled()  # fc2 has no edges
    _action(menu, "Delete").trigger()
    assert "l2" not in g.nodes
    window.doc.undo.undo()
    assert "l2" in g.nodes


def test_block_menu_shows_the_block_in_the_code_panel(qtbot, window, monkeypatch):
    window.docks["code"].hide()
    menu = _context_menu(qtbot, window, monkeypatch, node_point(window, "l1"))
    _action(menu, "Show in Code").trigger()  # the loose fc2 is an error: no code yet
    assert window.docks["code"].isVisible()
    assert "does not show this block" in window.statusBar().currentMessage()
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    menu = _context_menu(qtbot, window, monkeypatch, node_point(window, "l1"))
    _action(menu, "Show in Code").trigger()
    line = window.code.textCursor().selectedText()
    assert line.strip().startswith("self.fc1 = nn.Linear(")
    menu = _context_menu(qtbot, window, monkeypatch, node_point(window, "x"))
    _action(menu, "Show in Code").trigger()  # no layer of its own: its line in forward
    assert "image" in window.code.textCursor().selectedText()


def test_edge_menu_deletes_the_edge_undoably(qtbot, window, monkeypatch):
    g = window.doc.graph
    edge = next(e for e in g.edges if e.source == "l1")
    path = window.scene.edges[edge].path()
    at = window.view.mapFromScene(path.pointAtPercent(0.25))
    menu = _context_menu(qtbot, window, monkeypatch, at)
    assert window.scene.selected_edges() == [edge]
    _action(menu, "Delete Edge").trigger()
    assert edge not in g.edges and "l1" in g.nodes and "y" in g.nodes
    window.doc.undo.undo()
    assert any(e.source == "l1" and e.target == "y" for e in g.edges)


def test_empty_canvas_menu_adds_a_searched_block_at_the_point(qtbot, window, monkeypatch):
    g = window.doc.graph
    at = window.view.mapFromScene(QPointF(700, 260))
    assert not window.view.items(at)
    menu = _context_menu(qtbot, window, monkeypatch, at)
    _action(menu, "Add Block Here…").trigger()
    box = window.view.menus.add_box
    assert box.isVisible()
    qtbot.waitUntil(box.edit.hasFocus, timeout=1000)
    assert box.list.count() > 40  # every block type listed before typing
    qtbot.keyClicks(box.edit, "conv")
    shown = [box.list.item(i).text().split()[0] for i in range(box.list.count())]
    assert shown[0] == "Conv1d" and "Conv2d" in shown and "Linear" not in shown
    qtbot.keyClicks(box.edit, "2d")
    qtbot.keyClick(box.edit, Qt.Key.Key_Return)
    assert not box.isVisible()
    new = [n for n in g.nodes.values() if n.type == "Conv2d"]
    assert len(new) == 1
    item = window.scene.nodes[new[0].id]
    assert (item.center() - QPointF(700, 260)).manhattanLength() < 30
    assert window.scene.selected_node_ids() == [new[0].id]
    window.doc.undo.undo()
    assert not [n for n in g.nodes.values() if n.type == "Conv2d"]


def test_add_block_box_esc_adds_nothing(qtbot, window, monkeypatch):
    g = window.doc.graph
    n = len(g.nodes)
    menu = _context_menu(qtbot, window, monkeypatch, window.view.mapFromScene(QPointF(700, 260)))
    _action(menu, "Add Block Here…").trigger()
    box = window.view.menus.add_box
    qtbot.keyClicks(box.edit, "relu")
    qtbot.keyClick(box.edit, Qt.Key.Key_Escape)
    assert not box.isVisible() and len(g.nodes) == n
