"""The training view fits a 1280×800 window (issue 15 item 5).

While a run trains, the canvas keeps a useful height, the empty inspector
narrows, the band's height is remembered for the next window, the confusion
matrix shows every class, legends take at most a corner of their plot and no
two axis tick labels overprint, also with two runs overlaid.  Everything is
measured on the real window at 1280×800.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QImage, QPainter

from graph.project import load_project
from tests.gui.conftest import small_project

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"
SIZE = (1280, 800)
MIN_CANVAS = 300


def digits_project(epochs: int = 200):
    """LeNet on the 10 digits, long enough to be still training when measured."""
    p = load_project(TEMPLATES / "lenet_digits.json")
    p.training.update({"epochs": epochs, "device": "cpu"})
    p.training.pop("scheduler", None)
    return p


def open_window(qtbot, project):
    from gui.main_window import MainWindow

    w = MainWindow(project)
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.resize(*SIZE)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def training_window(qtbot, data_dir):
    """A 1280×800 window in which a run of LeNet on the digits is training."""
    w = open_window(qtbot, digits_project())
    w.actions["train_start"].trigger()
    area = w.training
    assert area.running, area.message.text()
    qtbot.waitUntil(lambda: area.record is not None and len(area.record.history) >= 1,
                    timeout=60000)
    yield w
    area.stop()
    qtbot.waitUntil(lambda: not area.running, timeout=10000)
    area.shutdown()


def test_the_canvas_keeps_a_useful_height_while_training(training_window, qtbot):
    w = training_window
    assert w.size().toTuple() == SIZE  # the band did not push the window taller
    assert w.training_dock.isVisible() and w.training.running
    assert w.view.height() >= MIN_CANVAS, w.view.height()
    # ... and the training band has room for its plots
    plots = w.training.view.plots
    assert min(p.height() for p in plots.panels.values() if p.isVisible()) >= 120
    # the user cannot squeeze it either: dragging the band up stops at the canvas's least height
    w.resizeDocks([w.training_dock], [w.height()], Qt.Orientation.Vertical)
    qtbot.wait(50)
    assert w.view.height() >= MIN_CANVAS, w.view.height()
    # closing the Training panel gives the canvas back its whole height
    w.training_dock.close()
    qtbot.waitUntil(lambda: w.view.height() > 450)


def test_the_empty_inspector_narrows_while_training_and_widens_for_a_block(training_window,
                                                                         qtbot):
    w = training_window
    inspector = w.docks["inspector"]
    assert inspector.width() <= 200, inspector.width()
    conv1 = next(n for n in w.scene.nodes if w.doc.graph.node(n).name == "conv1")
    node = w.scene.nodes[conv1]
    w.view.centerOn(node)
    qtbot.wait(20)
    at = w.view.mapFromScene(node.sceneBoundingRect().center())
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: w.inspector.node_id == conv1)
    qtbot.waitUntil(lambda: inspector.width() >= 300)
    # nothing selected again: narrow again, the canvas wider
    empty = w.view.mapFromScene(node.sceneBoundingRect().topLeft()) - QPoint(40, 40)
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    qtbot.waitUntil(lambda: w.inspector.node_id is None)
    qtbot.waitUntil(lambda: inspector.width() <= 200)


def test_the_band_height_is_remembered_for_the_next_window(qtbot, data_dir):
    tall = (1280, 1100)  # room to choose: at 800 px the band is between its least and most
    first = open_window(qtbot, small_project())
    first.resize(*tall)
    first.train.show_training()
    qtbot.wait(50)
    default = first.training_dock.height()
    # the user drags the band's edge (a separator drag ends in this call)
    first.resizeDocks([first.training_dock], [default + 120], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: first.training_dock.height() > default + 60)
    chosen = first.training_dock.height()
    first.training.shutdown()
    first.doc.undo.setClean()
    first.close()
    second = open_window(qtbot, small_project())
    second.resize(*tall)
    second.train.show_training()
    qtbot.waitUntil(lambda: abs(second.training_dock.height() - chosen) <= 12)
    assert second.view.height() >= MIN_CANVAS
    second.training.shutdown()


def test_a_bad_remembered_band_height_falls_back_to_the_default(qtbot, data_dir):
    from gui.training import ops

    ops._settings().setValue(ops.SETTING, "tall")
    assert ops.saved_band_share() == ops.DEFAULT_BAND_SHARE
    ops._settings().setValue(ops.SETTING, 5.0)  # more than the window
    assert ops.saved_band_share() == ops.DEFAULT_BAND_SHARE
    w = open_window(qtbot, small_project())
    w.train.show_training()
    qtbot.wait(50)
    assert w.view.height() >= MIN_CANVAS
    w.training.shutdown()


@pytest.fixture
def shown_area(qtbot, data_dir):
    """The training view shown (from the Problems panel's "training" link's handler) in a
    1280×800 window, no run."""
    w = open_window(qtbot, digits_project())
    w.train.show_training()
    qtbot.wait(50)
    yield w, w.training
    w.training.shutdown()


@pytest.mark.parametrize("size", [SIZE, (1024, 700)])
def test_the_confusion_matrix_shows_all_ten_classes(shown_area, qtbot, size):
    w, area = shown_area
    w.resize(*size)
    view = area.view
    bar = view.tabs.tabBar()
    index = view.tabs.indexOf(view.confusion.parentWidget())
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert view.tabs.currentIndex() == index
    counts = np.full((10, 10), 3) + np.diag(np.full(10, 40))
    view.confusion.set_matrix(counts)
    qtbot.wait(50)
    table = view.confusion
    for header, n in ((table.horizontalHeader(), 11), (table.verticalHeader(), 10)):
        extent = header.viewport().width() if header.orientation() == Qt.Orientation.Horizontal \
            else header.viewport().height()
        for i in range(n):
            start = header.sectionViewportPosition(i)
            assert start >= 0 and start + header.sectionSize(i) <= extent + 1, (i, extent)
            assert header.sectionSize(i) >= 10
    # the labels' text fits its section, unclipped
    metrics = table.horizontalHeader().fontMetrics()
    for j in range(11):
        text = table.horizontalHeaderItem(j).text()
        assert metrics.horizontalAdvance(text) <= table.horizontalHeader().sectionSize(j), text
    assert table.font().pointSizeF() >= 6
    assert not table.horizontalScrollBar().isVisible() and not table.verticalScrollBar().isVisible()


def feed_two_runs(plots, runs=("baseline", "wider")):
    steps = np.arange(1, 24001, 40)
    for run in runs:
        plots.add_run(run)
        lr = 1e-3 * (1 + np.cos(np.pi * steps / steps[-1])) / 2 + 1e-5  # cosine annealing
        plots.add_steps(steps, np.exp(-steps / 6000) + 0.1, lr=lr)
        for e in range(1, 13):
            plots.add_epoch(e, step=e * 2000, val_loss=0.4 / e, train_accuracy=1 - 0.5 / e,
                            val_accuracy=1 - 0.6 / e,
                            grad_norms={"conv1": 0.1 * e, "conv2": 0.05 * e, "fc": 0.01 * e})
    plots.flush()


def test_legends_take_at_most_a_corner_of_their_plot(shown_area, qtbot):
    _w, area = shown_area
    plots = area.view.plots
    feed_two_runs(plots)
    qtbot.wait(100)
    shown = 0
    for name, panel in plots.panels.items():
        item = panel.getPlotItem()
        legend = item.legend
        names = [label.text for _s, label in legend.items]
        if panel.legend_shown():
            shown += 1
            box = legend.mapRectToScene(legend.boundingRect())
            view_box = item.getViewBox().mapRectToScene(item.getViewBox().boundingRect())
            assert not box.adjusted(1, 1, -1, -1).intersects(view_box), (name, box, view_box)  # never over the curves
            area_share = box.width() * box.height() / (panel.width() * panel.height())
            assert area_share <= 0.25, (name, area_share)
        elif names:  # no room beside the plot: the names are a hover away
            assert all(n in panel.toolTip() for n in names), (name, panel.toolTip())
    # one run's legend in a wider window has room beside its plot again
    plots.clear()
    feed_two_runs(plots, runs=("baseline",))
    _w.resize(1800, 1100)
    qtbot.waitUntil(lambda: plots.panels["loss"].legend_shown(), timeout=3000)
    assert not plots.panels["loss"].toolTip()


def _tick_rects(axis) -> list[QRectF]:
    """The rectangles the axis draws its tick labels in (pyqtgraph's own layout)."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [] if specs is None else [rect for rect, _flags, _text in specs[2]]


@pytest.mark.parametrize("size", [SIZE, (1024, 700)])
def test_tick_labels_never_run_together_with_two_runs(qtbot, data_dir, size):
    w = open_window(qtbot, digits_project())
    w.resize(*size)
    w.train.show_training()
    plots = w.training.view.plots
    feed_two_runs(plots)
    qtbot.wait(100)
    checked = 0
    for name, panel in plots.panels.items():
        for side in ("left", "bottom"):
            rects = sorted(_tick_rects(panel.getPlotItem().getAxis(side)),
                           key=lambda r: (r.left(), r.top()))
            # labelled at all (two labels at least at 1280×800; a narrow window may keep one)
            assert len(rects) >= (2 if size == SIZE else 1), (name, side)
            for a, b in zip(rects, rects[1:]):
                assert not a.intersects(b), (name, side, a, b)
            checked += 1
    assert checked == 8
    w.training.shutdown()
