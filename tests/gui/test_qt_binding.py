"""The Qt binding itself: guards against the PySide6 6.12.0 reference bug.

PySide6 6.12.0 under CPython < 3.12 drops a reference to ``None`` on every
Qt call that returns nothing; after a few thousand calls the interpreter
aborts ("none_dealloc") — the crash once seen with large canvases.
pyproject.toml keeps that version away; this test notices if it comes back.
"""

import sys

from PySide6.QtWidgets import QWidget


def test_void_calls_keep_none_alive(qtbot):
    w = QWidget()
    qtbot.addWidget(w)
    before = sys.getrefcount(None)
    for _ in range(2000):
        w.setMinimumWidth(10)
    assert sys.getrefcount(None) - before > -100
