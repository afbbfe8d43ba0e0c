"""Live training plots: curves fed on a redraw clock, runs, export, the other views."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication

from gui.training.confusion import ConfusionMatrixView, PerClassAccuracy
from gui.training.decision_map import DecisionMap
from gui.training.diagnosis import DiagnosisPanel
from gui.training.histograms import EdgeHistograms
from gui.training.plots import PANELS, UnknownRunError
from gui.training.progress import estimate_eta, format_eta, format_progress, format_rate
from gui.training.series import GrowingSeries, PlotInputError, ema
from gui.training.view import TrainingView


def feed_epochs(plots, epochs=3, steps_per_epoch=20, run_id=None):
    for e in range(1, epochs + 1):
        s = np.arange((e - 1) * steps_per_epoch + 1, e * steps_per_epoch + 1)
        plots.add_steps(s, 2.0 / np.sqrt(s), lr=np.full(len(s), 0.01), run_id=run_id)
        plots.add_epoch(e, val_loss=2.2 / e, train_accuracy=0.5 + 0.1 * e,
                        val_accuracy=0.45 + 0.1 * e, train_mae=1.0 / e, val_mae=1.2 / e,
                        grad_norms={"conv1": 0.01 / e, "fc1": 0.5 / e}, run_id=run_id)


def drawn(curve):
    x, y = curve.item.getData()
    return (np.empty(0), np.empty(0)) if x is None else (x, y)


def test_appended_points_reach_the_curve_after_a_tick(plots, qtbot):
    plots.add_run("r1", "first")
    steps = np.arange(1, 501)
    plots.add_steps(steps, 1.0 / steps, lr=np.full(500, 0.1))
    loss = plots.runs["r1"].curves["loss"]
    assert loss.redraws == 0 and len(drawn(loss)[0]) == 0  # nothing drawn synchronously
    qtbot.waitUntil(lambda: loss.redraws >= 1)
    x, y = drawn(loss)
    np.testing.assert_array_equal(x, steps)
    np.testing.assert_allclose(y, 1.0 / steps)
    lr = plots.runs["r1"].curves["lr"]
    qtbot.waitUntil(lambda: lr.redraws >= 1)  # another plot: a later tick
    assert len(drawn(lr)[0]) == 500


def test_each_tick_redraws_one_plot_the_one_waiting_longest(plots, qtbot):
    """B4: a tick that repainted every plot at once kept the window busy for ≈ 50 ms.
    A tick moves one plot's axes to fit its new points, or draws one plot's curves."""
    plots.add_run("r1", "first")
    plots.add_steps(np.arange(1, 11), np.ones(10), lr=np.full(10, 0.1))  # loss plot first
    plots.add_epoch(1, val_accuracy=0.5, train_accuracy=0.5, grad_norms={"fc": 1.0})
    run = plots.runs["r1"]
    curves = list(run.curves.values()) + [run.grads["fc"]]
    drawn_order = []
    for _ in range(8):
        before = [c.redraws for c in curves]
        ranges = {name: p.getViewBox().viewRange() for name, p in plots.panels.items()}
        plots.clock._tick()
        changed = [c for c, n in zip(curves, before) if c.redraws != n]
        drawn = {name for name, p in plots.panels.items()
                 if any(c.plot is p.getPlotItem() for c in changed)}
        moved = {name for name, p in plots.panels.items()
                 if p.getViewBox().viewRange() != ranges[name]}
        assert len(drawn | moved) == 1, (drawn, moved)  # one plot per tick
        assert not (drawn and moved)  # its axes, or its curves
        drawn_order += sorted(drawn)
    assert drawn_order[0] == "loss" and set(drawn_order) == set(PANELS)


def test_many_appends_cost_one_redraw_per_tick(plots, qtbot):
    plots.add_run("r1")
    loss = plots.runs["r1"].curves["loss"]
    for i in range(3000):  # a worker streaming single points
        plots.add_steps(i, 1.0)
    assert loss.redraws == 0
    qtbot.waitUntil(lambda: loss.redraws >= 1)
    qtbot.wait(150)  # several more ticks with no new data
    assert loss.redraws == 1
    assert loss.redraws <= plots.clock.ticks
    assert len(loss.series) == 3000
    x, _ = drawn(loss)  # peak-downsampled to the panel's width, first to last step
    assert len(x) < 3000 and x[0] == 0 and x[-1] >= 2990
    qtbot.waitUntil(lambda: not plots.clock.running())  # idle clock stops


def test_loss_is_smoothed_and_validation_sits_at_the_epoch_end_step(plots, qtbot):
    feed_epochs(plots, epochs=2, steps_per_epoch=20)
    run = plots.runs[plots.active]
    qtbot.waitUntil(lambda: run.curves["val_loss"].redraws >= 1)
    x, y = drawn(run.curves["val_loss"])
    np.testing.assert_array_equal(x, [20, 40])
    np.testing.assert_allclose(y, [2.2, 1.1])
    raw = 2.0 / np.sqrt(np.arange(1, 41))
    expected, _ = ema(raw, plots.smoothing)
    np.testing.assert_allclose(drawn(run.curves["loss_smooth"])[1], expected)
    assert expected[0] == pytest.approx(raw[0])  # debiased: starts at the first value


def test_task_switch_shows_mae(plots, qtbot):
    feed_epochs(plots)
    run = plots.runs[plots.active]
    assert run.curves["train_accuracy"].item.isVisible()
    assert not run.curves["train_mae"].item.isVisible()
    plots.set_task("regression")
    assert "MAE" in plots.panels["metric"].title
    assert run.curves["train_mae"].item.isVisible()
    assert run.curves["val_mae"].item.isVisible()
    assert not run.curves["train_accuracy"].item.isVisible()
    qtbot.waitUntil(lambda: len(drawn(run.curves["val_mae"])[0]) == 3)
    np.testing.assert_allclose(drawn(run.curves["val_mae"])[1], [1.2, 0.6, 0.4])


def test_unknown_task_is_refused_with_its_name(plots):
    with pytest.raises(PlotInputError, match="task must be one of classification, "
                                             "regression, got 'segmentation'"):
        plots.set_task("segmentation")


def test_runs_are_overlaid_coloured_and_older_ones_dimmed(plots, qtbot):
    plots.add_run("a", "baseline")
    feed_epochs(plots, run_id="a")
    plots.add_run("b", "wider")
    feed_epochs(plots, run_id="b")
    a, b = plots.runs["a"], plots.runs["b"]
    assert plots.active == "b"
    assert a.color != b.color
    pen_a = a.curves["loss_smooth"].item.opts["pen"].color()
    pen_b = b.curves["loss_smooth"].item.opts["pen"].color()
    assert pen_b.alphaF() == pytest.approx(1.0)
    assert pen_a.alphaF() < 0.5
    legend = [label.text for _, label in plots.panels["loss"].getPlotItem().legend.items]
    assert "baseline train (smoothed)" in legend and "wider validation" in legend
    plots.set_visible_runs(["a"])
    assert a.curves["loss"].item.isVisible()
    assert not b.curves["loss"].item.isVisible()
    assert plots.visible_runs() == ["a"]
    qtbot.waitUntil(lambda: len(drawn(a.curves["loss"])[0]) == 60)


def test_bad_run_ids_are_refused(plots):
    plots.add_run("a")
    with pytest.raises(PlotInputError, match="run 'a' already exists"):
        plots.add_run("a")
    with pytest.raises(UnknownRunError, match="no run with id 'zzz'; known runs: a"):
        plots.set_visible_runs(["zzz"])
    with pytest.raises(UnknownRunError, match="no run with id 'q'"):
        plots.add_steps(1, 1.0, run_id="q")


def test_decreasing_steps_are_refused(plots):
    plots.add_steps([5, 6], [1.0, 1.0])
    with pytest.raises(PlotInputError, match="must not decrease"):
        plots.add_steps(3, 1.0)


def test_gradient_norms_one_coloured_curve_per_layer_on_a_log_axis(plots, qtbot):
    feed_epochs(plots)
    run = plots.runs[plots.active]
    panel = plots.panels["grad_norm"]
    assert panel.getPlotItem().ctrl.logYCheck.isChecked()
    legend = [label.text for _, label in panel.getPlotItem().legend.items]
    assert legend == ["conv1", "fc1"]
    colors = {c.item.opts["pen"].color().name() for c in run.grads.values()}
    assert len(colors) == 2
    qtbot.waitUntil(lambda: len(drawn(run.grads["fc1"])[0]) == 3)


def test_follow_stops_when_the_user_zooms_and_resumes_on_the_button(plots, qtbot):
    feed_epochs(plots)
    plots.flush()
    panel = plots.panels["loss"]
    assert panel.following() and plots.follow_button.isChecked()
    vp = panel.viewport()
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    wheel = QWheelEvent(centre, QPointF(vp.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, wheel)
    assert not panel.following()
    assert not plots.follow_button.isChecked()
    zoomed = panel.getViewBox().viewRange()
    more = np.arange(61, 461)
    plots.add_steps(more, 1.0 / more)  # more data does not move the view
    plots.flush()
    assert panel.getViewBox().viewRange() == zoomed
    qtbot.mouseClick(plots.follow_button, Qt.MouseButton.LeftButton)
    assert panel.following()
    (x0, x1), _ = panel.getViewBox().viewRange()
    assert x1 >= 400


def test_a_long_curve_is_drawn_at_screen_resolution_whole_or_zoomed(plots, qtbot):
    plots.add_run("r1")
    steps = np.arange(1, 200_001, dtype=float)
    loss = 1.0 + np.sin(steps / 500.0)
    loss[150_000] = 9.0  # one spike: peak downsampling must keep it
    plots.add_steps(steps, loss, lr=np.full(len(steps), 0.1))
    plots.flush()
    curve = plots.runs["r1"].curves["loss"]
    width = plots.panels["loss"].getViewBox().width()
    x, y = drawn(curve)
    assert len(x) <= 4 * width and x[0] == 1 and x[-1] == 200_000
    assert y.max() == 9.0
    # the user zooms in (as a wheel turn does: following stops, the range moves)
    plots.panels["loss"].follow(False)
    vb = plots.panels["loss"].getViewBox()
    # 800 steps on ≈ 370 px; the slice is the view and one view either side (2,400
    # steps), in blocks of 4 steps (the pyramid's finest) within the 4-points-a-pixel
    # budget.  (1,000 steps sat on the edge: a view a pixel narrower took blocks of 16.)
    vb.setRange(xRange=(100_000, 100_800), padding=0)
    plots.flush()
    x, y = drawn(curve)
    assert x[0] >= 98_400 and x[-1] <= 102_400  # the view and a margin either side, no more
    assert len(x) <= 4 * width
    inside = np.unique(x[(x >= 100_000) & (x <= 100_800)])
    assert np.diff(inside).max() <= 4  # blocks of 4 steps at most: ≈ a pixel each


def test_export_png_and_csv(plots, tmp_path):
    feed_epochs(plots)
    paths = plots.export_png(tmp_path / "png")
    assert [p.name for p in paths] == [f"{name}.png" for name in PANELS]
    for p in paths:
        img = QImage(str(p))
        assert not img.isNull() and img.width() > 100
    out = plots.export_csv(tmp_path / "metrics.csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert sum(r["metric"] == "loss" for r in rows) == 60
    val = [r for r in rows if r["metric"] == "val_loss"]
    assert [(r["x_axis"], r["x"]) for r in val] == [("step", "20"), ("step", "40"), ("step", "60")]
    assert {r["metric"] for r in rows} >= {"lr", "train_accuracy", "grad_norm/fc1"}
    with pytest.raises(KeyError, match="no plot 'nope'"):
        plots.export_plot_png("nope", tmp_path / "x.png")


def test_clear_forgets_every_run(plots, qtbot):
    feed_epochs(plots)
    plots.clear()
    assert plots.runs == {} and plots.active is None
    for panel in plots.panels.values():
        assert panel.getPlotItem().listDataItems() == []
    plots.add_steps(1, 0.5)  # a fresh run starts on the next point
    assert list(plots.runs) == ["run 1"]


def test_plots_follow_a_dark_palette(plots):
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    plots.setPalette(dark)
    panel = plots.panels["loss"]
    assert panel.backgroundBrush().color().name() == "#1e1e1e"
    assert panel.getPlotItem().getAxis("left").textPen().color().name() == "#e0e0e0"


def test_confusion_matrix_shows_counts_and_accuracy(qtbot):
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.set_matrix([[5, 1, 0], [2, 7, 1], [0, 0, 0]], ["cat", "dog", "eel"])
    np.testing.assert_array_equal(view.counts(), [[5, 1, 0], [2, 7, 1], [0, 0, 0]])
    assert view.horizontalHeaderItem(0).text() == "→ cat"
    assert view.verticalHeaderItem(1).text() == "dog"
    assert view.item(0, 3).text() == "83.3%"
    assert view.item(1, 3).text() == "70.0%"
    assert view.item(2, 3).text() == "–"  # no samples of that class
    with pytest.raises(PlotInputError, match="must be square"):
        view.set_matrix([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(PlotInputError, match="2 class names for 3 classes"):
        view.set_matrix(np.eye(3, dtype=int), ["a", "b"])
    with pytest.raises(PlotInputError, match="≥ 0"):
        view.set_matrix([[1, -1], [0, 1]])


def test_per_class_accuracy_bars(qtbot):
    bars = PerClassAccuracy()
    qtbot.addWidget(bars)
    bars.set_matrix([[8, 2], [1, 9]], ["no", "yes"])
    np.testing.assert_allclose(bars.bars.opts["width"], [0.8, 0.9])
    ticks = bars.getPlotItem().getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == ["no", "yes"]


def test_decision_map_image_has_the_grid_shape(qtbot):
    dm = DecisionMap()
    qtbot.addWidget(dm)
    rng = np.random.default_rng(0)
    dm.set_points(rng.normal(size=50), rng.normal(size=50), rng.integers(0, 3, 50))
    classes = rng.integers(0, 3, size=(30, 40))
    dm.set_grid(classes, (-2, 2, -1.5, 1.5))
    assert dm.image.image.shape[:2] == (30, 40)
    rect = dm.image.mapRectToParent(dm.image.boundingRect())
    assert (rect.left(), rect.right(), rect.top(), rect.bottom()) == pytest.approx((-2, 2, -1.5, 1.5))
    probs = rng.dirichlet(np.ones(3), size=(20, 25))
    dm.set_grid(probs, (-2, 2, -1.5, 1.5))
    assert dm.image.image.shape[:2] == (20, 25)
    # the most confident cell is the most opaque one
    conf = probs.max(axis=2)
    alpha = dm.image.image[..., 3]
    assert alpha[np.unravel_index(conf.argmax(), conf.shape)] == alpha.max()
    with pytest.raises(PlotInputError, match="min < max"):
        dm.set_grid(classes, (1, 0, 0, 1))
    with pytest.raises(PlotInputError, match="H×W or H×W×K"):
        dm.set_grid(np.zeros(5), (0, 1, 0, 1))
    with pytest.raises(PlotInputError, match="one length"):
        dm.set_points([0, 1], [0], [0, 1])


def test_edge_histograms(qtbot):
    hist = EdgeHistograms()
    qtbot.addWidget(hist)
    hist.set_edge("conv1 → relu1")
    counts, edges = np.histogram(np.random.default_rng(0).normal(size=1000), bins=20)
    hist.set_histogram("activations", edges, counts)
    hist.set_histogram("gradients", edges * 1e-3, counts)
    hist.set_histogram("gradients", edges * 1e-3, counts)  # replaces the pending one
    qtbot.waitUntil(lambda: hist.redraws == 2)
    x, y = hist.curves["activations"].getData()
    np.testing.assert_allclose(x, edges)
    np.testing.assert_allclose(y, counts)
    assert "conv1 → relu1" in hist.panels["gradients"].title
    with pytest.raises(PlotInputError, match="len\\(edges\\) == len\\(counts\\) \\+ 1, got 20 edges"):
        hist.set_histogram("activations", edges[:-1], counts)
    with pytest.raises(PlotInputError, match="kind must be one of activations, gradients"):
        hist.set_histogram("weights", edges, counts)


def test_diagnosis_lists_findings_most_severe_first_and_escapes_names(qtbot):
    panel = DiagnosisPanel()
    qtbot.addWidget(panel)
    # nothing was checked yet: it says when checking happens, not "no problems"
    assert "No problems" not in panel.toPlainText()
    assert panel.toPlainText().startswith("The curves are checked after each epoch")
    panel.waiting()
    assert panel.plain_text() == ("Checked after each epoch: nothing to say before the first "
                                  "one ends.")
    panel.set_epoch_findings([], 2)
    assert panel.toPlainText() == "No problems found in the curves after epoch 2."
    panel.set_epoch_findings([
        {"kind": "overfitting", "message": "validation loss rose for 3 epochs",
         "suggestion": "add Dropout or stop earlier"},
        {"kind": "nonfinite", "message": "the loss became NaN at step 40",
         "suggestion": "lower the learning rate", "node": "<b>fc1</b>"},
    ], 3)
    text = panel.toPlainText()
    assert text.startswith("Diagnosis after epoch 3:")
    assert text.index("NaN") < text.index("validation loss rose")
    assert "<b>fc1</b>" in text  # shown literally, not as markup
    assert "add Dropout or stop earlier" in text
    assert panel.plain_text().splitlines()[1].startswith('error: "<b>fc1</b>": the loss')


def test_progress_line_format():
    assert (format_progress(3, 20, 120, 600, 42, 12345)
            == "epoch 3/20 · step 120/600 · ETA 0:42 · 12,345 samples/s")
    assert format_eta(3725) == "1:02:05"
    assert format_eta(59.6) == "1:00"
    assert format_eta(None) == format_eta(float("nan")) == format_eta(-1) == "–"
    assert format_rate(3.5) == "3.5 samples/s"
    assert format_rate(None) == "– samples/s"
    assert estimate_eta(25, 100, 10.0) == pytest.approx(30.0)
    assert estimate_eta(0, 100, 10.0) is None


def test_growing_series_doubles_and_keeps_peaks():
    s = GrowingSeries(capacity=8)
    y = np.random.default_rng(1).normal(size=100_000)
    y[54_321] = 50.0  # one spike must survive downsampling
    for i in range(0, len(y), 997):
        s.append(np.arange(i, min(i + 997, len(y))), y[i:i + 997])
    np.testing.assert_array_equal(s.y, y)
    x_shown, y_shown = s.view(max_points=2000)
    assert len(x_shown) <= 2100
    assert y_shown.max() == 50.0 and y_shown.min() == y.min()
    assert s.bounds() == (y.min(), 50.0)
    xz, yz = s.view(1000, 1010)
    assert xz[0] <= 1000 and xz[-1] >= 1010 and len(xz) <= 14
    with pytest.raises(PlotInputError, match="same length, got 2 and 3"):
        s.append([1, 2], [1, 2, 3])


def test_training_view_switches_tabs_by_task(qtbot):
    view = TrainingView(task="regression")
    qtbot.addWidget(view)
    view.show_map(True)
    assert not view.tabs.isTabVisible(1)  # no decision map for regression
    view.set_task("classification")
    assert view.tabs.isTabVisible(1) and view.tabs.isTabVisible(2)
    view.show_map(False)  # e.g. digits: classification, but not 2-D points
    assert not view.tabs.isTabVisible(1) and view.tabs.isTabVisible(2)
    view.set_progress(1, 5, 10, 50, 12.0, 800.0)
    assert view.progress.text() == "epoch 1/5 · step 10/50 · ETA 0:12 · 800 samples/s"


def test_no_torch_and_lazy_pyqtgraph():
    code = ("import sys, gui.training, gui.training.progress;"
            "assert 'pyqtgraph' not in sys.modules, 'pyqtgraph loaded too early';"
            "import gui.training.view;"
            "assert 'torch' not in sys.modules, 'torch imported by gui.training'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
                          cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert done.returncode == 0, done.stderr


def test_a_log_axis_is_labelled_at_decades_and_an_epoch_axis_at_whole_numbers(plots, qtbot):
    import math

    grad = plots.panels["grad_norm"].getPlotItem().getAxis("left")
    # 0.08 … 1.3: pyqtgraph labels 0.2 … 0.9 and 2 … 9 too, stacked into "0.9 0.8 0.7 …"
    levels = grad.tickValues(math.log10(0.08), math.log10(1.3), 300)
    labelled = levels[0][1]
    assert grad.tickStrings(labelled, 1.0, 1.0) == ["0.1", "1"]
    assert grad.style["maxTextLevel"] == 0  # the 2…9 ticks are faint lines, unlabelled
    wide = grad.tickValues(-7.0, 1.5, 120)[0][1]  # 1e-7 … 30 on a short axis: thinned
    assert len(wide) <= 4 and all(float(v).is_integer() for v in wide)
    assert grad.tickStrings([-6.0, 0.0], 1.0, 1.0) == ["10⁻⁶", "1"]
    narrow = grad.tickValues(math.log10(0.31), math.log10(0.45), 300)[0][1]
    assert len(narrow) >= 2  # inside one decade: still labelled
    for name in ("metric", "grad_norm"):
        axis = plots.panels[name].getPlotItem().getAxis("bottom")
        for lo, hi in ((0.8, 3.2), (0.5, 8.5), (1.0, 200.0)):
            values = [v for _sp, vs in axis.tickValues(lo, hi, 400) for v in vs]
            assert values and all(float(v).is_integer() for v in values), (name, lo, hi)


def test_legends_sit_beside_the_plot_not_over_the_curves(plots, qtbot):
    feed_epochs(plots)
    plots.flush()
    qtbot.wait(50)
    for name in ("loss", "metric", "grad_norm"):  # (one run: its lr curve needs no legend)
        item = plots.panels[name].getPlotItem()
        assert item.legend.isVisible(), name
        assert item.legend.parentItem() is item  # in the plot's layout, not inside the view box
        assert not item.legend.geometry().intersects(item.getViewBox().geometry()), name
    lr = plots.panels["lr"].getPlotItem()
    assert not lr.legend.isVisible()
    assert lr.getViewBox().geometry().right() > 0.9 * lr.geometry().width()  # no empty column


def test_a_legend_beside_a_long_title_stays_inside_its_panel(plots, qtbot):
    """Four panels in a row (a wide, short area): the gradient panel's title is wider
    than its plot could be with a legend of four layers beside it, and the legend
    came to the plot's right, off the panel's edge (``fc1`` cut to ``fo``).  Where it
    has no room its names are a hover away; in a wider panel it is drawn whole."""
    plots.resize(1080, 300)
    plots.add_run("r1")
    qtbot.wait(20)
    for e in (1, 2, 3):
        plots.add_epoch(e, val_loss=0.5, train_accuracy=0.6, val_accuracy=0.5,
                        grad_norms={"fc1": 0.1 * e, "fc2": 0.2, "fc3": 0.3, "classifier": 0.4})
    plots.flush()
    for width in (1080, 1800):
        plots.resize(width, 300)
        qtbot.wait(50)
        panel = plots.panels["grad_norm"]
        legend = panel.getPlotItem().legend
        if legend.isVisible():
            shown = legend.mapRectToScene(legend.boundingRect())
            assert shown.right() <= panel.viewport().width(), (width, shown)
            assert panel.getViewBox().width() >= 60  # and the plot keeps a plot's width
        else:
            assert width == 1080
            assert all(n in panel.toolTip() for n in ("fc1", "fc2", "fc3", "classifier"))
    assert legend.isVisible()  # the wider panel has room for it


def test_following_keeps_every_finite_point_in_view_and_ignores_gaps(plots):
    """The refit works from the series' running extremes (no scan of the data)."""
    plots.add_run("r1")
    steps = np.arange(1, 201, dtype=float)
    loss = 2.0 / steps
    loss[50] = np.nan  # a gap: drawn as one, never stretching the axis
    loss[120] = np.inf
    plots.add_steps(steps, loss, lr=np.full(200, 0.1))
    plots.add_epoch(1, val_loss=3.5, grad_norms={"fc": 1e-4})
    plots.add_epoch(2, val_loss=0.2, grad_norms={"fc": 0.0, "out": 20.0})  # 0: a gap on log
    plots.flush()
    (x0, x1), (y0, y1) = plots.panels["loss"].getViewBox().viewRange()
    assert x0 <= 1 and x1 >= 200 and y0 <= 2.0 / 200 and y1 >= 3.5 and np.isfinite(y1)
    _, (g0, g1) = plots.panels["grad_norm"].getViewBox().viewRange()  # log10 units
    assert g0 <= -4 and g1 >= np.log10(20.0)
