"""Start-up: ``python main.py`` shows the example network without torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
