"""What keeps a large network quick to open and to pan (issue 15, B6: a
5,000-block network opens in ≤ 2 s), checked through what a user does:

- a repaint at a readable zoom runs Python only for the blocks and edges in
  sight, not for every item of the network (Qt asks every item its bounding
  rectangle on every repaint: the items answer in C++);
- blocks dragged with the mouse take their edges along during the drag (the
  items no longer report each move to Python; the scene moves the edges);
- opening a network sets off no full garbage collection (its objects are
  not scanned while they are made), and a closed one is still freed.
"""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from graph.project import Project
from gui.document import Document

from test_canvas_open_speed import chains


def _python_calls(action) -> int:
    """How many Python functions run during ``action()``."""
    calls = [0]

    def count(_frame, event, _arg):
        if event == "call":
            calls[0] += 1
    sys.setprofile(count)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls[0]


def _repaint_calls(window, n: int) -> tuple[int, int]:
    """Open ``n`` blocks (8 chains, so the corner in sight is the same for
    every ``n``) and count the Python calls of a repaint of that corner, and
    the items painted in it."""
    window.set_document(Document(Project("large", chains(n), {}, {}, None)))
    QApplication.processEvents()
    view = window.view
    view.resetTransform()  # a readable zoom, at the inputs' end
    top_left = window.scene.itemsBoundingRect().topLeft()
    view.centerOn(top_left + QPointF(view.viewport().width() / 2, view.viewport().height() / 2))
    view.viewport().repaint()  # what is in sight is routed first: not counted below
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    in_sight = sum(1 for item in window.scene.items(seen))
    return _python_calls(view.viewport().repaint), in_sight


def test_a_repaint_runs_python_for_what_is_in_sight_not_for_every_item(qtbot, window):
    small, small_sight = _repaint_calls(window, 200)
    big, big_sight = _repaint_calls(window, 1600)
    assert big_sight == small_sight  # the same corner of the network
    # 8 times the items, the same work: no call per item out of sight
    # (before, each of the 3,200 items answered Qt's bounding-rect question in Python)
    assert big <= small + 50, (small, big)
    assert big < 20 * big_sight + 100, (big, big_sight)


def test_dragged_blocks_take_their_edges_along_during_the_drag(qtbot, window):
    scene, view = window.scene, window.view
    scene.select_nodes(["l1", "y"])
    a = view.mapFromScene(scene.nodes["l1"].center())
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, pos=a)
    scene.select_nodes(["l1", "y"])  # (the ctrl-press toggles: both stay selected)
    for step in (QPoint(20, 30), QPoint(40, 60)):
        qtbot.mouseMove(vp, pos=a + step)
        # mid-drag, both ends of each edge are on their ports
        for edge in scene.edges.values():
            path = edge.drawn_path()
            start, end = path.pointAtPercent(0), path.pointAtPercent(1)
            assert (start - edge.src.scenePos()).manhattanLength() < 0.5, edge.edge
            assert (end - edge.dst.scenePos()).manhattanLength() < 0.5, edge.edge
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=a + QPoint(40, 60))
    g = window.doc.graph
    assert g.nodes["l1"].pos != (260, 0) and g.nodes["y"].pos != (520, 0)
    moved = g.nodes["l1"].pos[0] - 260, g.nodes["l1"].pos[1]
    assert (g.nodes["y"].pos[0] - 520, g.nodes["y"].pos[1]) == moved  # moved together
    window.doc.undo.undo()  # one undo step puts both back, edges too
    assert g.nodes["l1"].pos == (260, 0) and g.nodes["y"].pos == (520, 0)
    qtbot.waitUntil(lambda: all(
        (e.path().pointAtPercent(1) - e.dst.scenePos()).manhattanLength() < 0.5
        for e in scene.edges.values()), timeout=2000)


@pytest.mark.slow
def test_opening_a_network_sets_off_no_full_garbage_collection(qtbot, window,
                                                              collect_between_events):
    collect_between_events.stop()  # Python's automatic collection, whose thresholds count
    full = []

    def note(phase, info):
        if phase == "start" and info["generation"] == 2:
            full.append(info)
    gc.collect()
    gc.callbacks.append(note)
    try:
        # (3,000 blocks: enough objects that the collector's own thresholds
        # call for a full collection while they are made)
        window.set_document(Document(Project("large", chains(3000), {}, {}, None)))
        QApplication.processEvents()
        window.view.viewport().repaint()
    finally:
        gc.callbacks.remove(note)
    # its objects go straight to the oldest generation, unscanned: a full
    # collection of everything (a pause) is not due for them
    assert not full
    graph = weakref.ref(window.doc.graph)
    window.doc.undo.setClean()
    window.set_document(Document(Project("next", chains(20), {}, {}, None)))
    QApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # (deleteLater)
    gc.collect()
    assert graph() is None  # a closed network is still collected
