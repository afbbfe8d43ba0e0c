"""Files and clipboard: save/reopen, broken files, unsaved-changes prompt,
autosave and restore, copy/cut/paste/duplicate."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from graph.project import Project, load_project
from gui import file_ops
from gui.document import Document
from gui.main_window import MainWindow
from gui.recovery import Recovery


def test_save_and_reopen(qtbot, window, tmp_path):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.windowTitle().startswith("Small net*")
    path = tmp_path / "net.json"
    assert window.files.save_to(path)
    assert window.windowTitle().startswith("Small net —")
    assert set(load_project(path).graph.nodes) == {"x", "l1", "y"}
    window.files.file_new()
    assert len(window.doc.graph) == 0
    assert window.files.open_path(path)
    assert set(window.scene.nodes) == {"x", "l1", "y"}
    assert window.files.recent_files()[0] == str(path.resolve())
    assert window.recent_menu.actions()[0].text() == "net.json"


def test_broken_file_leaves_document_untouched(qtbot, window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "netcanvas", "version": 1, "nodes": [{"id": "a", "type": "Nope"}]}')
    before = window.doc
    assert not window.files.open_path(bad)
    assert window.doc is before and set(window.scene.nodes) == {"x", "l1", "y", "l2"}
    assert "unknown block type 'Nope'" in window.feedback.last_message
    assert not window.files.open_path(tmp_path / "missing.json")
    assert window.doc is before


def test_closing_with_unsaved_changes_asks(qtbot, window, monkeypatch):
    answers = []
    monkeypatch.setattr(file_ops.FileController, "ask_save",
                        lambda self: answers.append(1) or file_ops.Btn.Cancel)
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert not window.close()  # Cancel keeps the window
    assert answers and window.isVisible()
    monkeypatch.setattr(file_ops.FileController, "ask_save", lambda self: file_ops.Btn.Discard)
    window.files.file_new()
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
    assert w2.files.restore_recovery()
    assert set(w2.doc.graph.nodes) == {"x", "l1", "y"} and w2.doc.is_modified()
    w2.doc.undo.setClean()
    w2.close()
    assert not (data_dir / "recovery.json").exists()  # a clean exit removes it


def test_a_second_instance_autosaves_to_its_own_recovery_file(qtbot, window, data_dir):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.recovery.autosave()
    first = (data_dir / "recovery.json").read_bytes()
    other = Recovery(lambda: (window.doc.project, True), data_dir)  # refused the first lock
    assert other.owner and other.file != window.recovery.file and other.pending() is None
    window.scene.select_nodes(["y"])
    window.actions["delete"].trigger()
    assert other.autosave()  # its own document, to its own file (it was not saved at all)
    assert {n["id"] for n in json.loads(other.file.read_text())["nodes"]} == {"x", "l1"}
    assert (data_dir / "recovery.json").read_bytes() == first  # the first one's untouched
    other.shutdown()
    assert not other.file.exists()


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
    # moved as one group (the copy's arrangement kept), onto no other block
    assert len({(g.nodes[n].pos[0] - g.nodes[o].pos[0], g.nodes[n].pos[1] - g.nodes[o].pos[1])
                for n, o in zip(sorted(new, key=lambda n: g.nodes[n].pos), ("x", "l1"))}) == 1
    assert all(abs(g.nodes[n].pos[0] - g.nodes[o].pos[0]) >= 150
               or abs(g.nodes[n].pos[1] - g.nodes[o].pos[1]) >= 94
               for n in new for o in ("x", "l1", "l2", "y"))
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
    assert window.edit.edit_paste() == []
    assert "no NetCanvas blocks" in window.statusBar().currentMessage()


# ---------------------------------------------------------------------- real dialogs
def answer_box(button, seen: list) -> None:
    """Click ``button`` in the next modal message box (as a user would) and
    record its text in ``seen``."""
    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(5, click)
            return
        seen.append(box.text())
        box.button(button).click()
    QTimer.singleShot(0, click)


def _crash(window) -> None:
    """The process dies: the lock goes without the clean-exit removal."""
    window.recovery.timer.stop()
    window.recovery.lock.unlock()
    window.recovery.owner = False


def _second_window(qtbot, **kw):
    w = MainWindow(**kw)
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    return w


def test_saving_removes_the_autosave_so_a_crash_offers_nothing_older(qtbot, window, data_dir,
                                                                     tmp_path):
    recovery = data_dir / "recovery.json"
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.recovery.autosave() and recovery.exists()
    window.scene.select_nodes(["y"])
    window.actions["delete"].trigger()  # a later edit, after the autosave
    assert window.files.save_to(tmp_path / "net.json")
    assert not recovery.exists()  # the saved file is the newest state
    assert not window.recovery.autosave() and not recovery.exists()  # clean: nothing written
    _crash(window)
    w2 = _second_window(qtbot)
    assert w2.recovery.pending() is None  # nothing to offer: the file holds it all


@pytest.fixture
def prompt(monkeypatch):
    """Let the start-up restore offer ask (the test run turns it off elsewhere)."""
    monkeypatch.delenv("NETCANVAS_NO_AUTOSAVE_PROMPT", raising=False)


def test_a_crash_after_saving_offers_the_edits_made_since(qtbot, window, data_dir, tmp_path,
                                                          prompt):
    assert window.files.save_to(tmp_path / "net.json")
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.recovery.autosave()
    _crash(window)
    w2 = _second_window(qtbot)
    seen: list[str] = []
    answer_box(QMessageBox.StandardButton.Yes, seen)
    w2.files.offer_recovery()
    assert seen and "did not close properly" in seen[0]
    assert set(w2.doc.graph.nodes) == {"x", "l1", "y"} and w2.doc.is_modified()
    assert (data_dir / "recovery.json").exists()  # restored work is still only in memory


def test_undo_back_to_the_saved_state_removes_the_autosave(qtbot, window, data_dir):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.recovery.autosave()
    window.actions["undo"].trigger()
    assert not window.doc.is_modified() and not (data_dir / "recovery.json").exists()


def test_declining_the_restore_offer_discards_the_autosave(qtbot, window, data_dir, prompt):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.recovery.autosave()
    _crash(window)
    w2 = _second_window(qtbot)
    before = set(w2.doc.graph.nodes)
    seen: list[str] = []
    answer_box(QMessageBox.StandardButton.No, seen)
    w2.files.offer_recovery()
    assert seen and set(w2.doc.graph.nodes) == before
    assert not (data_dir / "recovery.json").exists() and w2.recovery.pending() is None


def test_an_unreadable_autosave_is_reported(qtbot, window, data_dir, prompt):
    _crash(window)
    (data_dir / "recovery.json").write_text("{not json")
    w2 = _second_window(qtbot)
    answer_box(QMessageBox.StandardButton.Yes, [])
    w2.files.offer_recovery()
    assert "The recovery file is unreadable" in w2.feedback.last_message


def test_autosave_runs_from_a_one_minute_timer(qtbot, window, data_dir):
    timer = window.recovery.timer
    assert timer.interval() == 60_000 and timer.isActive()
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert not (data_dir / "recovery.json").exists()
    timer.timeout.emit()  # a minute has passed
    qtbot.waitUntil((data_dir / "recovery.json").exists, timeout=3000)  # written by a thread
    saved = json.loads((data_dir / "recovery.json").read_text())
    assert {n["id"] for n in saved["nodes"]} == {"x", "l1", "y"}


# ---------------------------------------------------------------------- file dialogs
def test_save_as_and_open_through_their_dialogs(qtbot, window, tmp_path, monkeypatch):
    target = tmp_path / "chosen.json"
    asked = []

    def save_dialog(parent, caption, start, filters):
        asked.append((caption, start, filters))
        return str(target), filters.split(";;")[0]
    monkeypatch.setattr(file_ops.QFileDialog, "getSaveFileName", save_dialog)
    # "Rename the project after its file?" No (tested below)
    monkeypatch.setattr(file_ops.QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No)
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    window.actions["save"].trigger()  # no path yet: Save asks where
    assert asked and asked[0][0] == "Save project as" and "*.json" in asked[0][2]
    assert target.exists() and window.doc.path == str(target)
    assert window.windowTitle() == "Small net — NetCanvas"
    window.files.file_new()
    monkeypatch.setattr(file_ops.QFileDialog, "getOpenFileName",
                        lambda *a: (str(target), ""))
    window.actions["open"].trigger()
    assert set(window.doc.graph.nodes) == {"x", "l1", "y"} and window.doc.path == str(target)
    monkeypatch.setattr(file_ops.QFileDialog, "getOpenFileName", lambda *a: ("", ""))
    doc = window.doc
    window.actions["open"].trigger()  # cancelled: nothing changes
    assert window.doc is doc


def test_closing_asks_through_the_message_box(qtbot, window, tmp_path, monkeypatch):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    seen: list[str] = []
    answer_box(QMessageBox.StandardButton.Cancel, seen)
    assert not window.close() and window.isVisible()
    assert "unsaved changes" in seen[0] and window.doc.is_modified()
    # Save: with a file already chosen it is written, then the window closes
    window.doc.path = str(tmp_path / "kept.json")
    answer_box(QMessageBox.StandardButton.Save, seen)
    assert window.close()
    assert set(load_project(tmp_path / "kept.json").graph.nodes) == {"x", "l1", "y"}


def test_closing_with_discard_throws_the_edits_away(qtbot, data_dir, tmp_path):
    from conftest import small_project

    path = tmp_path / "net.json"
    from graph.project import save_project
    save_project(small_project(), path)
    w = _second_window(qtbot)
    w.show()
    assert w.files.open_path(path)
    w.scene.select_nodes(["l2"])
    w.actions["delete"].trigger()
    seen: list[str] = []
    answer_box(QMessageBox.StandardButton.Discard, seen)
    assert w.close() and seen
    assert "l2" in load_project(path).graph.nodes  # the file was not touched


def test_save_that_fails_keeps_the_window_open(qtbot, window, tmp_path):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    window.doc.path = str(tmp_path / "no" / "such" / "dir" / "x.json")
    answer_box(QMessageBox.StandardButton.Save, [])
    assert not window.close() and window.isVisible()
    assert window.feedback.last_message and window.doc.is_modified()


# ---------------------------------------------------------------------- two projects
def _focus(qtbot, w) -> None:
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    w.view.setFocus()


def test_copy_in_one_window_paste_in_another(qtbot, window):
    other = _second_window(qtbot)
    other.show()
    window.scene.select_nodes(["x", "l1"])
    _focus(qtbot, window)
    qtbot.keyClick(window.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert len(other.doc.graph) == 0
    _focus(qtbot, other)  # the user switches to the other project's window
    qtbot.keyClick(other.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    g = other.doc.graph
    assert sorted(n.type for n in g.nodes.values()) == ["Input", "Linear"]
    assert [(g.nodes[e.source].type, g.nodes[e.target].type) for e in g.edges] == [("Input", "Linear")]
    assert g.nodes[next(n for n in g.nodes if g.nodes[n].type == "Linear")].params == {"out_features": 32}
    assert other.doc.is_modified() and not window.doc.is_modified()
    other.actions["undo"].trigger()
    assert len(g) == 0
    other.actions["redo"].trigger()
    assert len(g) == 2 and len(window.doc.graph) == 4


# ---------------------------------------------------------------------- name and path
def _save_as(monkeypatch, window, path, answer=None) -> list[str]:
    """File → Save As… to ``path``; the rename question (if asked) gets ``answer``."""
    asked: list[str] = []
    monkeypatch.setattr(file_ops.QFileDialog, "getSaveFileName", lambda *a: (str(path), ""))

    def question(_parent, title, text, *_rest):
        asked.append(f"{title} {text}")
        assert answer is not None, f"not expected to ask: {title}"
        return answer
    monkeypatch.setattr(file_ops.QMessageBox, "question", question)
    window.actions["save_as"].trigger()
    return asked


def test_an_untitled_project_saved_as_takes_the_files_name(qtbot, window, tmp_path, monkeypatch):
    project = Project.new()  # what File → New makes, with a network built in it
    g = project.graph
    g.add_node("Input", {"shape": [4]}, name="x", id="x")
    g.add_node("Linear", {"out_features": 2}, name="fc", id="fc")
    g.add_node("Output", {}, name="y", id="y")
    g.connect("x", "fc")
    g.connect("fc", "y")
    window.set_document(Document(project))
    window.doc.undo.resetClean()  # never saved
    assert window.windowTitle() == "Untitled* — NetCanvas"
    assert _save_as(monkeypatch, window, tmp_path / "cnn_stage1.json") == []  # not asked
    assert window.doc.name == "cnn_stage1" and window.windowTitle() == "cnn_stage1 — NetCanvas"
    assert load_project(tmp_path / "cnn_stage1.json").name == "cnn_stage1"
    assert not window.doc.is_modified()
    window.code.regenerate()
    assert "class CnnStage1(nn.Module):" in window.code.toPlainText()


def test_a_named_project_saved_as_asks_before_taking_the_files_name(qtbot, window, tmp_path,
                                                                    monkeypatch):
    No, Yes = QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes
    asked = _save_as(monkeypatch, window, tmp_path / "copy.json", No)
    assert len(asked) == 1 and "“Small net” to “copy”" in asked[0]
    assert window.doc.name == "Small net"
    assert load_project(tmp_path / "copy.json").name == "Small net"
    for same in ("Small net.json", "small_net.json", "SMALL-NET.json"):  # the same name
        assert _save_as(monkeypatch, window, tmp_path / same) == []
        assert window.doc.name == "Small net"
    assert _save_as(monkeypatch, window, tmp_path / "stage2.json", Yes)
    assert window.doc.name == "stage2" and window.windowTitle() == "stage2 — NetCanvas"
    assert load_project(tmp_path / "stage2.json").name == "stage2"
    # a save that fails keeps the old name too
    assert _save_as(monkeypatch, window, tmp_path / "no" / "such" / "stage3.json", Yes)
    assert window.doc.name == "stage2" and "stage3" not in window.windowTitle()


def test_a_restored_autosave_keeps_its_file_path(qtbot, window, data_dir, tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    assert window.files.save_to(path)
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.recovery.autosave()
    _crash(window)
    w2 = _second_window(qtbot)
    assert w2.files.restore_recovery()
    assert w2.doc.path == str(path) and w2.doc.is_modified()
    assert "netcanvas_autosave" not in w2.doc.project.extra  # the recovery file's own key
    monkeypatch.setattr(file_ops.QFileDialog, "getSaveFileName",
                        lambda *a: pytest.fail("Save asked where, as for a new document"))
    w2.actions["save"].trigger()  # saves where it came from
    assert set(load_project(path).graph.nodes) == {"x", "l1", "y"} and not w2.doc.is_modified()
    assert "netcanvas_autosave" not in path.read_text()


def test_a_new_documents_autosave_restores_without_a_path(qtbot, window, data_dir):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.recovery.autosave()
    _crash(window)
    w2 = _second_window(qtbot)
    assert w2.files.restore_recovery() and w2.doc.path is None


# ---------------------------------------------------------------------- autosave timing
def test_edits_are_autosaved_seconds_after_the_last_one_and_survive_a_kill(qtbot, window,
                                                                           data_dir):
    rec = window.recovery
    assert rec.delay_ms == 2_000 and rec.max_wait_ms == 5_000  # what a user gets
    rec.delay_ms, rec.max_wait_ms = 60, 300  # the same, faster
    file = data_dir / "recovery.json"
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert rec.debounce.isActive() and not file.exists()  # not at once: after a pause
    window.scene.select_nodes(["y"])
    window.actions["delete"].trigger()
    window.scene.select_nodes(["l1"])
    window.inspector.editors["out_features"].widget.setValue(7)  # the third edit
    qtbot.waitUntil(file.exists, timeout=3000)  # (the one-minute timer never fired)
    saved = json.loads(file.read_text())
    assert {n["id"] for n in saved["nodes"]} == {"x", "l1"}
    assert saved["nodes"][1]["params"]["out_features"] == 7
    _crash(window)  # killed: no clean-exit removal, no last save
    w2 = _second_window(qtbot)
    assert w2.recovery.pending() == file
    assert w2.files.restore_recovery()
    assert set(w2.doc.graph.nodes) == {"x", "l1"}
    assert w2.doc.graph.nodes["l1"].params["out_features"] == 7


def test_a_stream_of_edits_is_autosaved_no_later_than_max_wait(qtbot, data_dir):
    import time

    rec = Recovery(lambda: (None, False), data_dir / "r", delay_ms=200, max_wait_ms=400)
    rec.edited()
    assert rec.debounce.isActive() and rec.debounce.interval() == 200
    time.sleep(0.3)  # edits keep coming (the event loop is not run: the timer waits)
    rec.edited()
    assert rec.debounce.interval() <= 100  # 400 ms after the first edit, not 200 after this one
    rec.shutdown()


def test_autosave_is_written_off_the_window_thread(qtbot, window, data_dir, monkeypatch):
    import threading

    from gui import recovery

    threads: list[str] = []
    real = recovery.atomic_write

    def spy(*args, **kw):
        threads.append(threading.current_thread().name)
        return real(*args, **kw)
    monkeypatch.setattr(recovery, "atomic_write", spy)
    window.recovery.delay_ms = 10
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    qtbot.waitUntil(lambda: (data_dir / "recovery.json").exists(), timeout=3000)
    assert threads and threads[0].startswith("netcanvas-autosave")
    assert threads[0] != threading.main_thread().name


def test_an_autosave_that_cannot_be_written_says_so(qtbot, window, monkeypatch):
    from graph.fileio import FileSaveError
    from gui import recovery

    def refuse(*_a, **_k):
        raise FileSaveError(28, "could not save 'recovery.json': No space left on device")
    monkeypatch.setattr(recovery, "atomic_write", refuse)
    window.recovery.delay_ms = 10
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    qtbot.waitUntil(lambda: "Autosave failed" in window.statusBar().currentMessage(),
                    timeout=3000)
    assert "No space left on device" in window.statusBar().currentMessage()


def test_file_open_removes_temporary_files_of_a_killed_save(qtbot, window, tmp_path,
                                                            monkeypatch):
    from graph import fileio

    path = tmp_path / "net.json"
    assert window.files.save_to(path)
    dead = tmp_path / f".net.json{fileio.TEMP_MARK}999999999-abcd1234"  # its process is gone
    dead.write_text('{"half a')
    monkeypatch.setattr(file_ops.QFileDialog, "getOpenFileName", lambda *a: (str(path), ""))
    window.actions["open"].trigger()
    assert window.doc.path == str(path) and not dead.exists()


def test_a_killed_autosave_leaves_no_temporary_file_behind(qtbot, data_dir):
    from graph import fileio

    data_dir.mkdir(parents=True, exist_ok=True)
    dead = data_dir / f".recovery.json{fileio.TEMP_MARK}999999999-abcd1234"
    dead.write_text("{")
    w = _second_window(qtbot)
    assert not dead.exists() and w.recovery.pending() is None
