"""The minimap in windows of every size (issue 15 item 2): it takes at most
a fifth of the canvas each way, hides in a canvas too small for it, keeps
off the block the user is working on, and View → Minimap is remembered."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtWidgets import QApplication

from conftest import small_project


def zoomed_in(window, steps: int = 4) -> None:
    """Zoom in with Ctrl++ (as a user would) until the network no longer fits."""
    for _ in range(steps):
        window.view.zoom(1.25)
    QApplication.processEvents()


def viewport_rect(window) -> QRect:
    return window.view.viewport().geometry()


def block_rect(window, node_id: str) -> QRect:
    """A block's box on screen, in the view's coordinates (as the minimap's)."""
    item = window.scene.nodes[node_id]
    r = window.view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    return r.translated(viewport_rect(window).topLeft())


def test_the_minimap_takes_at_most_a_fifth_of_the_canvas(qtbot, window):
    window.resize(1280, 800)
    qtbot.wait(10)
    zoomed_in(window)
    mini, vp = window.view.minimap, viewport_rect(window)
    assert mini.isVisible()
    assert mini.width() <= 0.2 * vp.width() + 1 and mini.height() <= 0.2 * vp.height() + 1
    assert vp.contains(mini.geometry())
    # a larger window: a larger minimap, up to its full size
    window.resize(1900, 1200)
    qtbot.wait(10)
    window.view.minimap.refresh()
    assert mini.isVisible() and mini.width() > 0.2 * vp.width()
    assert mini.width() <= 220 and mini.height() <= 150


def test_a_small_window_hides_the_minimap_and_a_larger_one_brings_it_back(qtbot, window):
    window.resize(800, 600)
    qtbot.wait(10)
    zoomed_in(window)
    mini, vp = window.view.minimap, viewport_rect(window)
    # the canvas of an 800×600 window is too small for a legible overview:
    # rather than cover most of it, the minimap stays away
    assert not mini.isVisible(), (vp, mini.geometry())
    window.resize(1400, 900)
    qtbot.wait(10)
    window.view.minimap.refresh()
    assert mini.isVisible()


def test_the_minimap_keeps_off_the_selected_block(qtbot, window):
    window.resize(1400, 900)
    qtbot.wait(10)
    zoomed_in(window, 2)
    view, mini = window.view, window.view.minimap
    vp = viewport_rect(window)
    # the block the user works on sits in the bottom-right corner of the canvas
    item = window.scene.nodes["l2"]
    corner = view.mapToScene(vp.width() - mini.width() // 2 - 10,
                             vp.height() - mini.height() // 2 - 10)
    view.center_on(view.mapToScene(view.viewport().rect().center())
                   + (item.center() - QPointF(corner)))
    QApplication.processEvents()
    mini.refresh()
    assert mini.isVisible()
    assert mini.geometry().intersects(block_rect(window, "l2"))  # not selected: it may cover it
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.mapFromScene(item.center()))
    assert window.scene.selected_node_ids() == ["l2"]
    assert mini.isVisible() and not mini.geometry().intersects(block_rect(window, "l2"))
    assert vp.contains(mini.geometry())


def test_view_minimap_off_is_remembered_by_the_next_window(qtbot, window, data_dir):
    from gui.main_window import MainWindow

    action = window.actions["minimap"]
    assert action.isChecked()
    action.trigger()
    assert not action.isChecked()
    later = MainWindow(small_project())
    qtbot.addWidget(later, before_close_func=lambda w: w.doc.undo.setClean())
    later.resize(1400, 900)
    later.show()
    qtbot.waitExposed(later)
    assert not later.actions["minimap"].isChecked()
    zoomed_in(later)
    assert not later.view.minimap.isVisible()
    later.actions["minimap"].trigger()  # on again: shown, and remembered so
    assert later.view.minimap.isVisible()
    again = MainWindow(small_project())
    qtbot.addWidget(again, before_close_func=lambda w: w.doc.undo.setClean())
    assert again.actions["minimap"].isChecked()
