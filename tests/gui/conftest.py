"""GUI test fixtures: a main window on a small network, in a temporary data folder."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from graph import Graph
from gui.collector import SafeCollector
from graph.project import Project


def small_project() -> Project:
    """Input [1, 8, 8] → Linear(32) → Output, plus a loose Linear(10)."""
    g = Graph()
    g.add_node("Input", {"shape": [1, 8, 8]}, name="image", id="x", pos=(0, 0))
    g.add_node("Linear", {"out_features": 32}, name="fc1", id="l1", pos=(260, 0))
    g.add_node("Output", {}, name="out", id="y", pos=(520, 0))
    g.add_node("Linear", {"out_features": 10}, name="fc2", id="l2", pos=(260, 200))
    g.connect("x", "l1")
    g.connect("l1", "y")
    return Project("Small net", g, {}, {}, None)


@pytest.fixture(autouse=True)
def collect_between_events(qapp):
    """Cycles are collected from a timer, as the application does
    (:mod:`gui.collector`): an automatic collection inside a Qt call could free
    an earlier test's widgets while that call holds the lock their destructor
    needs, and the test run would hang."""
    collector = SafeCollector()
    collector.start()
    yield collector
    collector.stop()


@pytest.fixture
def plots(qtbot):
    """The four live training panels, shown at 900×600, without a window."""
    from gui.training.plots import TrainingPlots

    w = TrainingPlots()
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "appdata"
    monkeypatch.setenv("NETCANVAS_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def make_window(qtbot, data_dir):
    """Opens a shown main window on a project: ``make_window(project, size, centre)``."""
    from gui.main_window import MainWindow

    def make(project: Project, size: tuple[int, int] | None = None,
             centre: tuple[float, float] = (260, 40)):
        w = MainWindow(project)
        # pytest-qt closes added widgets before fixture teardown: drop the
        # unsaved-changes state first, or closing would ask (a modal box)
        qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
        if size is not None:
            w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        w.view.resetTransform()
        w.view.centerOn(*centre)
        return w

    return make


@pytest.fixture
def window(make_window):
    return make_window(small_project())


def port_point(window, node_id: str, port: str, output: bool) -> QPoint:
    """Viewport coordinates of a port (where a user would press)."""
    item = window.scene.nodes[node_id].port(port, output)
    return window.view.mapFromScene(item.scenePos())


def node_point(window, node_id: str) -> QPoint:
    item = window.scene.nodes[node_id]
    return window.view.mapFromScene(item.pos() + item.rect.center())


def drag(qtbot, window, a: QPoint, b: QPoint) -> None:
    vp = window.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=a)
    mid = QPoint((a.x() + b.x()) // 2, (a.y() + b.y()) // 2)
    qtbot.mouseMove(vp, pos=mid)
    qtbot.mouseMove(vp, pos=b)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=b)
