"""Several outputs in the training window (issue 13): a two-input two-output
network trains from Start, each Output has its own curves (live, read back
from the run's folder, overlaid, in the CSV export) and its final metric in the
run list; early stopping may watch one output's metric."""

from __future__ import annotations

import csv
import json
import os

import pytest

from graph.problems import ERROR
from graph.project import load_project
from two_heads import arrays, write

SHOTS = os.environ.get("NETCANVAS_SHOTS")  # set to save screenshots while developing


@pytest.fixture
def two_heads(qtbot, data_dir, tmp_path):
    """The main window on the two-head project of tests/two_heads.py, opened from its file."""
    from gui.main_window import MainWindow

    path = write(tmp_path, {"epochs": 3})
    w = MainWindow(load_project(path))
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.show()
    qtbot.waitExposed(w)
    yield w
    if w.training is not None:
        w.training.shutdown()


def legend(plots, panel: str) -> list[str]:
    return [label.text for _, label in plots.panels[panel].getPlotItem().legend.items]


def run_to_end(qtbot, win):
    win.actions["train_start"].trigger()
    area = win.training
    assert area.running, area.message.text()
    qtbot.waitUntil(lambda: not area.running, timeout=90000)
    area.view.plots.flush()
    return area


def test_start_trains_two_outputs_with_a_curve_and_final_metric_each(qtbot, two_heads, tmp_path):
    area = run_to_end(qtbot, two_heads)
    rec = area.runs.records["run 1"]
    assert rec.status == "completed", rec.message
    run = area.view.plots.runs["run 1"]
    # each output's validation loss (at the epoch's last step) and its metric (by epoch)
    for key in ("val_loss_cls", "val_loss_reg", "val_accuracy_cls", "val_mae_reg"):
        assert len(run.curves[key].series) == 3, key
    assert len(run.curves["val_loss"].series) == 3  # the weighted sum
    assert run.curves["val_accuracy_cls"].item.isVisible()
    assert run.curves["val_mae_reg"].item.isVisible()
    # named by the Outputs' names in the legends, the empty overall metric left out
    cls, reg = (two_heads.doc.graph.nodes[i].name for i in ("cls", "reg"))
    loss_legend = legend(area.view.plots, "loss")
    metric_legend = legend(area.view.plots, "metric")
    assert {f"{cls} val", f"{reg} val"} <= set(loss_legend), loss_legend
    assert "validation (weighted sum)" in loss_legend
    assert {f"{cls} val acc.", f"{reg} val MAE"} <= set(metric_legend), metric_legend
    assert "validation" not in metric_legend
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        plots = area.view.plots
        plots.setParent(None)  # alone, at a readable size
        plots.resize(1100, 650)
        plots.show()
        qtbot.wait(200)
        plots.flush()
        plots.grab().save(os.path.join(SHOTS, "two_outputs_plots.png"))
    assert "MAE" in area.view.plots.panels["metric"].title
    # the final metrics, per output, in the run list
    last = rec.history[-1]
    line = area.runs.list.item(0).text()
    assert f"{cls} val_accuracy {last['val_accuracy_cls']:.4g}" in line, line
    assert f"{reg} val_mae {last['val_mae_reg']:.4g}" in line, line
    # the CSV export names them as the command line does
    path = area.view.plots.export_csv(tmp_path / "metrics.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    got = {(r["metric"], r["x_axis"]) for r in rows}
    assert {("val_loss_cls", "step"), ("val_accuracy_cls", "epoch"),
            ("val_mae_reg", "epoch"), ("val_loss_reg", "step")} <= got
    mae = [float(r["value"]) for r in rows if r["metric"] == "val_mae_reg"]
    assert mae == pytest.approx([h["val_mae_reg"] for h in rec.history])


def test_a_run_read_back_from_its_folder_draws_each_output(qtbot, two_heads, tmp_path):
    from gui.training.plots import TrainingPlots
    from gui.training.run_store import read_run

    area = run_to_end(qtbot, two_heads)
    rec = area.runs.records["run 1"]
    folder = rec.out_dir
    lines = [json.loads(ln) for ln in (folder / "metrics.jsonl").read_text().splitlines()]
    rows = [ln["epoch"] for ln in lines if "epoch" in ln]
    assert rows and "val_accuracy_cls" in rows[-1]  # flat, as the command line names them
    back = read_run(folder / "run.json")
    assert [o["id"] for o in back.outputs()] == ["cls", "reg"]
    cls, reg = (two_heads.doc.graph.nodes[i].name for i in ("cls", "reg"))
    assert f"{cls} val_accuracy" in back.summary()
    # shown beside the live run, as a reopened project shows it
    back.id = "run 1 (read back)"
    area.live.replay(back)
    area.view.plots.flush()
    plots: TrainingPlots = area.view.plots
    again = plots.runs[back.id]
    for key in ("val_loss_cls", "val_accuracy_cls", "val_mae_reg"):
        assert again.curves[key].series.y.tolist() == pytest.approx(
            plots.runs["run 1"].curves[key].series.y.tolist()), key
    # two runs overlaid: each legend entry says its run
    shown = legend(plots, "metric")
    assert f"run 1 {cls} val acc." in shown and f"{back.id} {reg} val MAE" in shown, shown


def test_start_names_the_missing_array_of_an_output(qtbot, data_dir, tmp_path):
    from gui.main_window import MainWindow

    import numpy as np

    path = write(tmp_path, {"epochs": 1})
    np.savez(tmp_path / "pairs.npz", **arrays(**{"X_b": 1}))
    w = MainWindow(load_project(path))
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.show()
    qtbot.waitExposed(w)
    try:
        w.actions["train_start"].trigger()
        area = w.training
        qtbot.waitUntil(lambda: not area.running and "X_b" in area.message.text(),
                        timeout=60000)
        assert not area.runs.records or all(r.status != "completed"
                                             for r in area.runs.records.values())
    finally:
        if w.training is not None:
            w.training.shutdown()


def test_the_settings_offer_each_outputs_metric_to_early_stopping(qtbot, two_heads):
    two_heads.train.show_training()
    panel = two_heads.training.settings
    items = [panel.monitor.itemText(i) for i in range(panel.monitor.count())]
    for name in ("val_loss", "val_accuracy_cls", "val_mae_reg", "val_loss_reg"):
        assert name in items, items
    assert not panel.monitor.isEnabled()  # early stopping is off
    panel.patience.setValue(3)
    assert panel.monitor.isEnabled()
    panel.monitor.setCurrentIndex(items.index("val_accuracy_cls"))
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        panel.grab().save(os.path.join(SHOTS, "settings_monitor.png"))
    assert two_heads.doc.project.training["early_stopping"] == {
        "patience": 3, "monitor": "val_accuracy_cls"}
    assert not [p for p in two_heads.doc.analyzer.problems() if p.location is not None
                and p.severity == ERROR]
    two_heads.actions["undo"].trigger()
    assert two_heads.doc.project.training["early_stopping"] == {"patience": 3}
    assert panel.monitor.currentText() == "val_loss"


def test_an_output_without_a_target_array_is_said_to_be_untrained(qtbot, data_dir, tmp_path,
                                                                   recwarn):
    from gui.main_window import MainWindow

    import numpy as np

    path = write(tmp_path, {"epochs": 1})
    np.savez(tmp_path / "pairs.npz", **arrays(**{"y_reg": 1}))
    w = MainWindow(load_project(path))
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.show()
    qtbot.waitExposed(w)
    try:
        area = run_to_end(qtbot, w)
        assert area.runs.records["run 1"].status == "completed"
        label = w.doc.graph.nodes["reg"].label()
        assert f"{label} has no target array (y_reg)" in area.message.text()
        run = area.view.plots.runs["run 1"]
        assert len(run.curves["val_accuracy_cls"].series) == 1 and "val_mae_reg" not in run.curves
        # the untrained head's gradient norm is 0 (no point on a log axis): no curve of gaps
        area.view.plots.flush()
        qtbot.wait(100)
        assert not [w for w in recwarn if "All-NaN" in str(w.message)]
    finally:
        if w.training is not None:
            w.training.shutdown()


def test_a_monitor_of_no_output_is_marked_and_start_says_the_choices(qtbot, data_dir, tmp_path):
    from gui.main_window import MainWindow

    path = write(tmp_path, {"epochs": 1, "early_stopping": {"patience": 2,
                                                          "monitor": "val_mae_head"}})
    w = MainWindow(load_project(path))
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.show()
    qtbot.waitExposed(w)
    try:
        w.train.show_training()
        panel = w.training.settings
        # a value the field cannot offer: the default shown, the field marked, the file's kept
        assert panel.monitor.currentText() == "val_loss"
        assert w.doc.project.training["early_stopping"]["monitor"] == "val_mae_head"
        assert "val_mae_reg" in panel.monitor.toolTip() and "got 'val_mae_head'" in \
            panel.monitor.toolTip()
        w.actions["train_start"].trigger()
        area = w.training
        assert not area.running and not area.runs.records
        text = area.message.text()
        assert "early_stopping.monitor" in text and "val_accuracy_cls" in text, text
        panel.monitor.setCurrentText("val_mae_reg")  # the user picks a valid one
        assert w.doc.project.training["early_stopping"]["monitor"] == "val_mae_reg"
        assert panel.monitor.toolTip() == ""
    finally:
        if w.training is not None:
            w.training.shutdown()
