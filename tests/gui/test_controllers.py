"""The main window's controllers, each built without the window: a document,
a canvas, a status bar and the callables it is given are all it needs."""

from __future__ import annotations

import json

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMenu, QStatusBar, QWidget

from conftest import small_project
from gui.canvas.scene import CanvasScene
from gui.canvas.view import CanvasView
from gui.document import Document
from gui.edit_ops import EditController
from gui.export_ops import ExportController
from gui.feedback import Feedback
from gui.file_ops import FileController
from gui.recovery import Recovery
from gui.training.ops import TrainingController
from gui.unit_ops import UnitController


@pytest.fixture
def parts(qtbot, data_dir):
    """A bare widget with a status bar, a canvas showing a document, feedback."""
    host = QWidget()
    qtbot.addWidget(host)
    doc = Document(small_project())
    view = CanvasView()
    qtbot.addWidget(view)
    scenes = [CanvasScene(doc)]
    view.setScene(scenes[0])
    bar = QStatusBar(host)
    yield host, doc, view, scenes, Feedback(host, bar)
    view.setScene(None)
    for scene in scenes:
        scene.close()
    doc.close()


def test_file_controller_saves_opens_and_refuses_a_broken_file(parts, tmp_path):
    host, doc, _view, _scenes, feedback = parts
    recovery = Recovery(lambda: (doc.project, doc.is_modified(), doc.path), tmp_path / "rec", host)
    opened = []
    files = FileController(host, feedback, recovery, lambda d, fresh_layout=False: opened.append(d),
                           QMenu(host))
    files.bind(doc)
    path = tmp_path / "small.json"
    assert files.save_to(path)
    assert doc.path == str(path) and not doc.is_modified()
    assert json.loads(path.read_text())["name"] == "Small net"
    assert files.recent_files()[0] == str(path.resolve())
    assert files.recent_menu.isEnabled() and files.recent_menu.actions()[0].text() == path.name
    assert files.open_path(path)
    assert len(opened) == 1 and opened[0].name == "Small net" and opened[0].path == str(path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert not files.open_path(bad)
    assert len(opened) == 1 and str(bad) in feedback.last_message
    recovery.shutdown()


def test_edit_controller_duplicates_and_deletes_the_selection(parts):
    _host, doc, view, scenes, feedback = parts
    edit = EditController(view, feedback)
    edit.bind(doc)
    scenes[0].select_nodes(["l1"])
    (new_id,) = edit.edit_duplicate()
    assert doc.graph.nodes[new_id].type == "Linear" and doc.undo.count() == 1
    assert scenes[0].selected_node_ids() == [new_id]
    edit.edit_delete()
    assert new_id not in doc.graph.nodes and doc.undo.undoText() == "Delete"
    edit.edit_select_all()
    assert set(scenes[0].selected_node_ids()) == set(doc.graph.nodes)


def test_unit_controller_groups_opens_and_goes_back(parts, monkeypatch):
    host, doc, view, scenes, feedback = parts
    back = QAction("Back", host)

    def rebuild():  # what the window does: a scene on the document's current level
        scenes.append(CanvasScene(doc))
        view.setScene(scenes[-1])
    units = UnitController(host, view, feedback, rebuild, back)
    units.bind(doc)
    assert not back.isEnabled() and units.breadcrumb.isHidden()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Head", True))
    scenes[0].select_nodes(["l1"])
    inst = units.edit_group()
    assert doc.graph.nodes[inst].type == "Head" and "Head" in doc.graph.units
    assert units.open_instance(inst)
    assert len(scenes) == 2 and doc.levels and back.isEnabled()
    assert units.breadcrumb.text() == "Small net › Head"
    units.unit_back()
    assert not doc.levels and len(scenes) == 3 and not back.isEnabled()
    scenes[-1].select_nodes(["x"])
    assert units.edit_ungroup() == [] and "Select one unit block" in feedback.status_bar.currentMessage()


def test_export_controller_writes_a_summary_next_to_the_project(parts, tmp_path, monkeypatch):
    host, doc, view, _scenes, feedback = parts
    doc.set_path(str(tmp_path / "small.json"))
    asked = []

    def save_dialog(parent, title, start, filter_):
        asked.append(start)
        return str(tmp_path / "summary.txt"), ""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    exports = ExportController(host, feedback, view, lambda: str(tmp_path))
    exports.bind(doc)
    assert exports.export_summary()
    assert asked == [str(tmp_path / "small.txt")]
    text = (tmp_path / "summary.txt").read_text()
    assert "fc1" in text and "Linear" in text
    assert feedback.last_message == f"Exported {tmp_path / 'summary.txt'}"


def test_training_controller_owns_the_dock_and_the_train_actions(qtbot, data_dir):
    window = QMainWindow()
    qtbot.addWidget(window)
    doc = Document(small_project())
    view = CanvasView()
    scene = CanvasScene(doc)
    view.setScene(scene)
    window.setCentralWidget(view)
    actions = {k: QAction(k, window) for k in ("train_start", "train_pause", "train_stop")}
    shown = []
    train = TrainingController(window, view, actions, shown.append)
    train.bind(doc)
    assert train.area is None and train.dock.isHidden()
    assert actions["train_start"].isEnabled() and not actions["train_stop"].isEnabled()
    window.show()
    train.show_training()
    area = train.area
    assert area is not None and not train.dock.isHidden() and train.dock.widget() is area
    assert area.doc is doc and area.settings.doc is doc
    other = Document(small_project())
    train.bind(other)
    assert area.doc is other
    area.fault_node.emit("l1")  # a run's fault at a node: the window is asked to show it
    assert shown == ["l1"]
    train.shutdown()
    view.setScene(None)
    scene.close()
    doc.close()
    other.close()
