"""Every button works: on the LeNet template, with the training view open, each
enabled visible button of the main window and the training view is clicked
with the mouse and each enabled action triggered; dialogs are answered
"Cancel" at once.  Any exception that reaches the event loop (pytest-qt
fails the test on it) or Qt warning fails the test.

Skipped: File → Quit (it closes the window under the test).  File → New
goes last (it replaces the document).  A run that a click starts is paused,
resumed and stopped with the mouse, and waited for.
"""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QTimer, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QAbstractButton, QApplication, QDialog, QFileDialog,
                               QInputDialog, QMenu, QMessageBox, QPushButton, QToolButton,
                               QWidget)

from gui.templates import TEMPLATES_DIR, open_template

CANCEL = QMessageBox.StandardButton.Cancel
RUN_TIMEOUT_MS = 45_000


def key(obj) -> int:
    """The C++ object's address (a widget Qt made may get a new Python wrapper each time)."""
    return shiboken6.getCppPointer(obj)[0]


@pytest.fixture
def answered(monkeypatch):
    """Every dialog answers at once, as a user pressing Cancel would."""
    asked: list[str] = []

    def say(kind, result):
        return lambda *a, **k: asked.append(kind) or result
    for name in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(say(name, CANCEL)))
    for name in ("getOpenFileName", "getSaveFileName", "getOpenFileNames"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(say(name, ("", ""))))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(say("getExistingDirectory", "")))
    for name, result in (("getText", ("", False)), ("getInt", (0, False)),
                         ("getDouble", (0.0, False)), ("getItem", ("", False))):
        monkeypatch.setattr(QInputDialog, name, staticmethod(say(name, result)))
    rejected = QDialog.DialogCode.Rejected
    monkeypatch.setattr(QDialog, "exec", lambda self: asked.append("exec") or rejected)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: asked.append("exec") or CANCEL)
    monkeypatch.setattr(QMenu, "exec", lambda *a, **k: asked.append("menu") or None)
    return asked


def _close_popups(window) -> None:
    """What Qt itself opens (a button's menu, a window-modal box) is closed too."""
    popup = QApplication.activePopupWidget()
    if popup is not None:
        popup.close()
    for w in QApplication.topLevelWidgets():
        if w is not window and w.isVisible():
            if isinstance(w, QDialog):
                w.reject()
            elif not isinstance(w, QMenu):
                w.close()


def _reachable(window) -> list[QAction]:
    """The actions a user can reach: the menus (and submenus), the toolbars, the
    menus of buttons and the widgets' own action lists (not, say, the actions
    pyqtgraph's scene keeps for its right-click menu alone)."""
    found: list[QAction] = []
    menus = [a.menu() for a in window.menuBar().actions() if a.menu()]
    menus += [b.menu() for b in window.findChildren(QToolButton) if b.menu()]
    for widget in [window, *window.findChildren(QWidget)]:
        if not isinstance(widget, QMenu):
            found += QWidget.actions(widget)  # (the window has a dict by that name)
    while menus:
        menu = menus.pop()
        for a in menu.actions():
            if a.menu():
                menus.append(a.menu())
            elif not a.isSeparator():
                found.append(a)
    return found


@pytest.mark.qt_log_level_fail("WARNING")
@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_every_button_and_action_works(qtbot, data_dir, tmp_path, answered):
    from gui.main_window import MainWindow

    window = MainWindow(open_template(TEMPLATES_DIR / "lenet_digits.json"))
    qtbot.addWidget(window, before_close_func=lambda w: w.doc.undo.setClean())
    window.show()
    qtbot.waitExposed(window)
    closer = QTimer(window, interval=50)  # a menu or dialog opened by C++ code is closed too
    closer.timeout.connect(lambda: _close_popups(window))
    closer.start()
    window.actions["train_show"].trigger()
    area = window.training
    assert area is not None and area.isVisible()
    done: set[int] = set()
    runs: list[str] = []
    quit_action, new_action = window.actions["quit"], window.actions["new"]
    last = {key(b) for b in window.findChildren(QToolButton) if b.defaultAction() is new_action}

    def settle() -> None:
        qtbot.wait(10)
        _close_popups(window)
        if area.running:  # this click started a run: pause, resume and stop it by mouse
            runs.append(area.record.id)
            for button in (area.pause_button, area.pause_button, area.stop_button):
                if not area.running:  # (ended by itself already)
                    break
                done.add(key(button))
                qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: not area.running, timeout=RUN_TIMEOUT_MS)

    def click(button) -> None:
        done.add(key(button))
        menu_button = (isinstance(button, QToolButton) and button.popupMode()
                       == QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        # a button with a menu arrow: its main part (the arrow opens the menu, swept below)
        at = button.rect().adjusted(0, 0, -20 if menu_button else 0, 0).center()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=at)
        settle()

    def trigger(action) -> None:
        done.add(key(action))
        action.trigger()
        settle()
        if shiboken6.isValid(action) and action.isCheckable() and not action.isChecked():
            # a panel hidden: show it again
            action.trigger()
            settle()

    # File → Open Recent (made anew after each open: compared by file), while nothing is unsaved
    saved = tmp_path / "lenet.json"
    assert window.files.save_to(saved)
    recent = window.recent_menu.actions()
    assert [a.toolTip() for a in recent] == [str(saved.resolve())]
    doc = window.doc
    trigger(recent[0])
    assert window.doc is not doc and window.doc.path == str(saved.resolve())

    # the training area's Start first: the run it starts enables Pause, Stop and the run's buttons
    click(area.start_button)
    assert runs == ["run 1"], area.message.text()

    def buttons() -> list[QAbstractButton]:
        return [b for b in window.findChildren(QAbstractButton)
                if isinstance(b, (QPushButton, QToolButton)) and b.isVisible()
                and b.isEnabled() and key(b) not in done and key(b) not in last]

    for _ in range(200):
        todo = buttons()
        if not todo:
            break
        click(todo[0])
    assert not buttons()

    def actions() -> list[QAction]:
        return [a for a in _reachable(window)
                if a.isEnabled() and key(a) not in done and a not in (quit_action, new_action)
                and a.parent() is not window.recent_menu]

    for _ in range(300):
        todo = actions()
        if not todo:
            break
        trigger(todo[0])
    assert not actions()
    # last, what replaces the document: the toolbar's New by mouse
    for button in window.findChildren(QToolButton):
        if key(button) in last and button.isVisible():
            click(button)
    # New replaced the document, or asked first about the unsaved edits (answered Cancel)
    assert len(window.doc.graph) == 0 or answered[-1] == "question" and window.doc.is_modified()
    assert "run 1" in runs and not area.running
    closer.stop()
