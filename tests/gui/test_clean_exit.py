"""The process ends cleanly: no crash on the way out after a copy, and none
when the garbage collector frees a document with an undo history.

Both crashes happen after (or outside) the code under test, so each case runs
in a child process and the test reads its exit status (139 is a segfault).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from PySide6.QtWidgets import QApplication

from gui import clipboard

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PRELUDE = """
import gc, os, sys
sys.path[:0] = [{root!r}, os.path.join({root!r}, "tests", "gui")]
from PySide6.QtWidgets import QApplication
app = QApplication([])
from conftest import small_project
from gui.main_window import MainWindow
"""


def run_child(body: str, tmp_path) -> subprocess.CompletedProcess:
    code = PRELUDE.format(root=ROOT) + textwrap.dedent(body) + "\nprint('reached the end')\n"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NETCANVAS_DATA_DIR=str(tmp_path))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)


def test_quitting_after_a_copy_does_not_crash(tmp_path):
    result = run_child("""
        w = MainWindow(small_project())
        w.scene.select_nodes(["l1", "l2"])
        w.actions["copy"].trigger()
        assert QApplication.clipboard().mimeData().hasFormat("application/x-netcanvas-fragment")
        w.doc.undo.setClean()
        w.close()
    """, tmp_path)
    assert "reached the end" in result.stdout, result.stderr
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])


def test_a_document_with_history_freed_by_the_collector_does_not_crash(tmp_path):
    result = run_child("""
        from gui import commands
        from gui.document import Document
        for _ in range(30):
            doc = Document(small_project())
            for _ in range(3):
                doc.undo.push(commands.AddNode(doc.graph, "Linear", {"out_features": 3}))
            doc.me = doc  # only the collector can free it now
            del doc
        gc.collect()
        # a window replaced its document and was then dropped in a cycle too
        w = MainWindow(small_project())
        w.scene.select_nodes(["l2"])
        w.actions["delete"].trigger()
        w.set_document(Document(small_project()))
        w.doc.undo.setClean()
        w.close()
        del w
        gc.collect()
    """, tmp_path)
    assert "reached the end" in result.stdout, result.stderr
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])


def test_copied_blocks_stay_pasteable_once_released_for_exit(qtbot, window):
    window.scene.select_nodes(["l2"])
    window.actions["copy"].trigger()
    clipboard._release()  # what runs at exit: our mime data becomes plain text
    assert not QApplication.clipboard().mimeData().hasFormat(clipboard.MIME)
    pasted = window.edit.edit_paste()
    assert len(pasted) == 1
    assert window.doc.graph.nodes[pasted[0]].params["out_features"] == 10
