"""Frozen blocks in the editor (issue 17 item 3): the inspector's checkbox and
the block menu freeze a block in one undo step, the block face shows a lock,
the status bar counts trainable and frozen parameters apart (from the
analysis), and copy/paste keeps a block frozen."""

from __future__ import annotations

from PySide6.QtCore import Qt

from conftest import node_point
from gui.commands import SetFrozen
from test_canvas_navigation import _action, _context_menu

# small_project: fc1 = Linear(8 → 32) on the path (288 parameters), fc2 loose


def _select(window, nid):
    window.scene.select_nodes([nid])
    assert window.inspector.node_id == nid


def test_inspector_checkbox_freezes_undoably_and_the_status_bar_counts_apart(qtbot, window):
    g = window.doc.graph
    _select(window, "l1")
    box = window.inspector.frozen_box
    assert box.text() == "Frozen (not trained)" and not box.isChecked()
    assert "trainable" not in window.totals_label.text()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert g.nodes["l1"].frozen
    window.doc.flush()
    t = window.doc.analyzer.totals()
    assert t["frozen_params"] == 288 and t["trainable_params"] == t["params"] - 288
    trainable = t["params"] - 288
    assert window.totals_label.text().startswith(
        f"Parameters: {t['params']} ({trainable} trainable / 288 frozen)")
    assert f"({trainable:,} trainable, 288 frozen)" in window.totals_label.toolTip()
    assert window.scene.nodes["l1"].frozen
    window.actions["undo"].trigger()
    assert not g.nodes["l1"].frozen and not box.isChecked()
    assert not window.scene.nodes["l1"].frozen
    window.doc.flush()
    assert "frozen" not in window.totals_label.text()
    window.actions["redo"].trigger()
    assert g.nodes["l1"].frozen and box.isChecked()


def test_blocks_without_weights_have_no_checkbox(window):
    _select(window, "x")
    assert window.inspector.frozen_box is None


def test_block_menu_freezes_the_selection_in_one_step(qtbot, window, monkeypatch):
    g = window.doc.graph
    window.scene.select_nodes(["l1", "l2"])
    menu = _context_menu(qtbot, window, monkeypatch, node_point(window, "l1"))
    act = _action(menu, "Frozen (not trained)")
    assert act.isCheckable() and not act.isChecked()
    act.trigger()
    assert g.nodes["l1"].frozen and g.nodes["l2"].frozen
    window.doc.undo.undo()
    assert not g.nodes["l1"].frozen and not g.nodes["l2"].frozen
    window.doc.undo.redo()
    menu = _context_menu(qtbot, window, monkeypatch, node_point(window, "l2"))
    act = _action(menu, "Frozen (not trained)")
    assert act.isChecked()
    act.trigger()  # unfreezes the selection
    assert not g.nodes["l2"].frozen


def test_the_lock_is_drawn_on_a_frozen_block(qtbot, window):
    from PySide6.QtGui import QImage, QPainter

    item = window.scene.nodes["l1"]

    def picture():
        img = QImage(int(item.rect.width()), int(item.rect.height()),
                     QImage.Format.Format_ARGB32)
        img.fill(0)
        p = QPainter(img)
        item.paint(p, _Option(), None)
        p.end()
        return img

    plain = picture()
    window.doc.push(SetFrozen(window.doc.graph, ["l1"], True))
    assert item.frozen
    locked = picture()
    # the lock sits at the right end of the header; nothing else there changed
    from gui.canvas.node_item import LOCK_SPACE
    from gui.canvas.style import HEADER_HEIGHT, NODE_WIDTH
    x0 = int(NODE_WIDTH - LOCK_SPACE - 2)
    differ = sum(plain.pixel(x, y) != locked.pixel(x, y)
                 for x in range(x0, x0 + 10) for y in range(int(HEADER_HEIGHT)))
    assert differ > 20


class _Option:
    """The style option paint() reads: full detail."""

    @staticmethod
    def levelOfDetailFromTransform(_t):
        return 1.0


def test_paste_keeps_a_block_frozen(qtbot, window):
    g = window.doc.graph
    window.doc.push(SetFrozen(g, ["l2"], True))
    window.scene.select_nodes(["l2"])
    window.actions["copy"].trigger()
    before = set(g.nodes)
    window.actions["paste"].trigger()
    new = set(g.nodes) - before
    assert len(new) == 1 and g.nodes[new.pop()].frozen
