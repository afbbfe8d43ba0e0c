"""Files and clipboard: save/reopen, broken files, unsaved-changes prompt,
autosave and restore, copy/cut/paste/duplicate."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from graph.project import load_project
from gui import file_ops
from gui.main_window import MainWindow
from gui.recovery import Recovery


def test_save_and_reopen(qtbot, window, tmp_path):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.windowTitle().startswith("Small net*")
    path = tmp_path / "net.json"
    assert window.save_to(path)
    assert window.windowTitle().startswith("Small net —")
    assert set(load_project(path).graph.nodes) == {"x", "l1", "y"}
    window.file_new()
    assert len(window.doc.graph) == 0
    assert window.open_path(path)
    assert set(window.scene.nodes) == {"x", "l1", "y"}
    assert window.recent_files()[0] == str(path.resolve())
    assert window.recent_menu.actions()[0].text() == "net.json"


def test_broken_file_leaves_document_untouched(qtbot, window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "netcanvas", "version": 1, "nodes": [{"id": "a", "type": "Nope"}]}')
    before = window.doc
    assert not window.open_path(bad)
    assert window.doc is before and set(window.scene.nodes) == {"x", "l1", "y", "l2"}
    assert "unknown block type 'Nope'" in window.last_message
    assert not window.open_path(tmp_path / "missing.json")
    assert window.doc is before


def test_closing_with_unsaved_changes_asks(qtbot, window, monkeypatch):
    answers = []
    monkeypatch.setattr(file_ops.FileOps, "ask_save",
                        lambda self: answers.append(1) or file_ops.Btn.Cancel)
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert not window.close()  # Cancel keeps the window
    assert answers and window.isVisible()
    monkeypatch.setattr(file_ops.FileOps, "ask_save", lambda self: file_ops.Btn.Discard)
    window.file_new()
    assert len(window.doc.graph) == 0 and not window.doc.is_modified()


def test_autosave_then_restore_after_crash(qtbot, window, data_dir):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.recovery.autosave()
    saved = json.loads((data_dir / "recovery.json").read_text())
    assert {n["id"] for n in saved["nodes"]} == {"x", "l1", "y"}
    # a crash: the lock is released without the clean-exit removal
    window.recovery.lock.unlock()
    window.recovery.owner = False
    w2 = MainWindow()
    qtbot.addWidget(w2, before_close_func=lambda w: w.doc.undo.setClean())
    assert w2.recovery.pending() is not None
    assert w2.restore_recovery()
    assert set(w2.doc.graph.nodes) == {"x", "l1", "y"} and w2.doc.is_modified()
    w2.doc.undo.setClean()
    w2.close()
    assert not (data_dir / "recovery.json").exists()  # a clean exit removes it


def test_second_instance_does_not_take_the_recovery_file(qtbot, window, data_dir):
    other = Recovery(lambda: (window.doc.project, True), data_dir)
    assert not other.owner and other.pending() is None and not other.autosave()


def test_copy_paste_cut_duplicate(qtbot, window):
    g = window.doc.graph
    window.scene.select_nodes(["x", "l1"])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    text = QApplication.clipboard().text()
    assert json.loads(text)["edges"] == [{"source": "x", "target": "l1"}]
    qtbot.keyClick(window.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    new = window.scene.selected_node_ids()
    assert len(new) == 2 and not set(new) & {"x", "l1"} and len(g) == 6
    pasted = [e for e in g.edges if e.source in new]
    assert len(pasted) == 1 and pasted[0].target in new
    assert {g.nodes[n].pos for n in new} == {(g.nodes[o].pos[0] + 40, g.nodes[o].pos[1] + 40)
                                             for o in ("x", "l1")}
    window.actions["undo"].trigger()
    assert len(g) == 4
    window.scene.select_nodes(["l2"])
    window.actions["duplicate"].trigger()
    assert len(g) == 5
    window.scene.select_nodes(["l2"])
    window.actions["cut"].trigger()
    assert "l2" not in g.nodes
    window.actions["paste"].trigger()
    assert sorted(n.type for n in g.nodes.values()).count("Linear") == 3


def test_paste_of_foreign_text_is_refused(qtbot, window):
    QApplication.clipboard().setText("import os; os.system('x')")
    assert window.edit_paste() == []
    assert "no NetCanvas blocks" in window.statusBar().currentMessage()
