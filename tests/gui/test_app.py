"""Start-up: ``python main.py`` shows the example network without torch."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from gui.app import EXAMPLE, apply_theme, is_dark

ROOT = Path(__file__).resolve().parents[2]


def test_main_opens_example_without_importing_torch(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NETCANVAS_STARTUP_PROBE="1",
               NETCANVAS_DATA_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "netcanvas-shown torch=False codegen=False" in out.stdout
    # cycles are collected between events (gui/collector.py), not inside a Qt call
    assert "auto-gc=off" in out.stdout


def test_example_network_is_valid(qtbot, data_dir):
    from graph.project import load_project
    from gui.document import Document
    from gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.set_document(Document(load_project(EXAMPLE)))
    assert w.doc.analyzer.valid()
    edge = next(e for e in w.scene.edges.values() if e.edge.source == "c1")
    assert edge.label == "N×16×8×8"
    assert "0 errors" in w.problems_label.text()


def test_theme_follows_the_system(qapp):
    dark = apply_theme(qapp)
    assert dark == is_dark()
    window_color = qapp.palette().window().color()
    assert (window_color.lightness() < 128) == dark
    assert QGuiApplication.styleHints() is not None


# ---------------------------------------------------------------------- unhandled errors
@pytest.mark.qt_no_exception_capture  # the application's own hook is under test here
def test_an_exception_in_a_slot_is_logged_and_shown_and_the_window_lives_on(
        qtbot, window, monkeypatch, caplog):
    from gui.app import install_excepthook

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    reporter = install_excepthook(window)

    def broken() -> None:
        raise ZeroDivisionError("a bug in a slot")
    monkeypatch.setattr(window, "view_fit", broken)
    with caplog.at_level(logging.ERROR, logger="netcanvas"):
        window.actions["fit"].trigger()  # View → Fit All, its handler raising
    assert "Internal error: ZeroDivisionError: a bug in a slot" in \
        window.statusBar().currentMessage()
    notice = reporter.notice
    assert notice is not None and notice.isVisible() and not notice.isModal()
    assert "a bug in a slot" in notice.text() and "keeps running" in notice.informativeText()
    assert "Traceback" in notice.detailedText() and "broken" in notice.detailedText()
    assert [r.exc_info[0] for r in caplog.records] == [ZeroDivisionError]
    # the window goes on working; a second error (here on a plain thread) updates the notice
    window.actions["zoom_in"].trigger()
    t = threading.Thread(target=broken)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: "2 internal errors" in notice.text())
    assert reporter.notice is notice and len(caplog.records) == 2
    notice.close()
    qtbot.waitUntil(lambda: reporter.notice is None)
