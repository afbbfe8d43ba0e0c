"""The training area's parts, each without the main window: the live dispatcher
(events → the run's one record, which the plots draw), the run controller (one
snapshot per Start), the run files (the network written once, metrics
appended) and the export control; and the live metric added as one payload
field and one plot call (the epoch's mean training loss beside validation)."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtWidgets import QProgressBar

from gui.training import run_store
from gui.training.exports import ExportsControl
from gui.training.live_ops import LiveDispatcher
from gui.training.message import MessageLine
from gui.training.run_store import METRICS_FILE, RUN_FILE, read_run, save_run
from gui.training.runs import RunRecord, RunsPanel
from gui.training.view import TrainingView
from runtime.protocol import Epoch, Kind, RunStart, Steps
from test_training_window import moons_project


def parts(qtbot):
    view, runs, bar, message = TrainingView(), RunsPanel(), QProgressBar(), MessageLine()
    for w in (view, runs, bar, message):
        qtbot.addWidget(w)
    saved = []
    live = LiveDispatcher(view, runs, bar, message, save=saved.append, parent=view)
    return live, saved


def record(out_dir=None) -> RunRecord:
    p = moons_project()
    return RunRecord("run 1", p.training, p.graph, out_dir, name=p.name)


def feed(live: LiveDispatcher, rec: RunRecord) -> None:
    live.runs.add(rec)
    live.plots.add_run(rec.id, metrics=rec.metrics)
    live.begin(rec, None)
    live.dispatch(Kind.RUN_START, RunStart(task="classification", epochs=2, steps_per_epoch=3,
                                           batch_size=16, nodes={"l1": {"name": "hidden"}}))
    for epoch in (1, 2):
        steps = [3 * epoch - 2, 3 * epoch - 1, 3 * epoch]
        live.dispatch(Kind.STEPS, Steps(steps, [1.0 / s for s in steps], epoch=epoch,
                                        step=steps[-1], lr=0.1, samples_per_s=100.0))
        live.dispatch(Kind.EPOCH, Epoch(epoch=epoch, step=steps[-1], train_loss=0.6 / epoch,
                                        val_loss=0.7 / epoch, train_accuracy=0.5 + epoch / 10,
                                        val_accuracy=0.4 + epoch / 10, lr=0.1,
                                        grad_norms={"hidden": 0.5 / epoch},
                                        extra={"seconds": 1.0}))


def test_events_fill_the_runs_one_record_which_the_plots_draw(qtbot):
    live, saved = parts(qtbot)
    rec = record()
    feed(live, rec)
    assert [r["epoch"] for r in rec.history] == [1, 2] and rec.history[0]["seconds"] == 1.0
    assert rec.step_losses == [1.0 / s for s in range(1, 7)]
    run = live.plots.runs["run 1"]
    for key in ("loss", "val_loss", "val_accuracy", "lr"):  # the very series, not a copy
        assert run.curves[key].series is rec.metrics.series[key]
    assert rec.metrics.series["grad_norm/hidden"].y.tolist() == [0.5, 0.25]
    assert saved == [rec, rec]  # kept on disk after each epoch
    assert live.runs.list.item(0).text().startswith("run 1: running, 2 epoch(s), val_loss 0.35")


def test_the_epochs_mean_training_loss_is_drawn_beside_validation(qtbot):
    """The live metric added as one payload field (Epoch.train_loss) and one plot call."""
    live, _ = parts(qtbot)
    rec = record()
    feed(live, rec)
    train = rec.metrics.series["train_loss"]
    assert train.x.tolist() == [3, 6] and train.y.tolist() == pytest.approx([0.6, 0.3])
    curve = live.plots.runs["run 1"].curves["train_loss"]
    assert curve.series is train and curve.plot is live.plots.panels["loss"].getPlotItem()
    live.plots.flush()
    assert curve.item.isVisible() and curve.redraws >= 1
    legend = [label.text for _, label in live.plots.panels["loss"].getPlotItem().legend.items]
    assert legend == ["train (smoothed)", "validation", "train (epoch mean)"]


def test_the_mean_training_loss_is_kept_in_the_metrics_csv(qtbot, tmp_path):
    live, _ = parts(qtbot)
    rec = record()
    feed(live, rec)
    exports = ExportsControl(live.plots, live.runs, live.message)
    rows = exports.export_csv(tmp_path / "m.csv").read_text().splitlines()
    assert "run 1,run 1,train_loss,step,3,0.6" in rows
    assert "run 1,run 1,train_loss,step,6,0.3" in rows


def test_a_run_writes_its_network_once_and_appends_its_metrics(qtbot, tmp_path):
    live, _ = parts(qtbot)
    rec = record(tmp_path / "run1")
    rec.network = {"format": "netcanvas", "version": 1, "name": "Moons", "nodes": [],
                   "edges": [], "training": rec.training}
    save_run(rec)  # at Start
    run_file = tmp_path / "run1" / RUN_FILE
    first = run_file.read_bytes(), os.stat(run_file).st_mtime_ns
    live.save = save_run
    feed(live, rec)  # two epochs, each saved
    rec.status = "completed"
    save_run(rec)
    save_run(rec)  # nothing new: nothing appended
    assert (run_file.read_bytes(), os.stat(run_file).st_mtime_ns) == first
    assert "history" not in json.loads(first[0]) and "network" in json.loads(first[0])
    lines = [json.loads(ln) for ln in (tmp_path / "run1" / METRICS_FILE).read_text().splitlines()]
    assert [next(iter(ln)) for ln in lines] == ["status", "step_losses", "epoch", "step_losses",
                                                "epoch", "status"]
    back = read_run(run_file)
    assert back.status == "completed" and back.history == rec.history
    assert back.step_losses == rec.step_losses and back.network == rec.network
    again, _ = parts(qtbot)  # the project reopened: the run is drawn as it was
    again.replay(back)
    for key in ("loss", "val_loss", "train_accuracy", "lr", "train_loss", "grad_norm/hidden"):
        assert back.metrics.series[key].y.tolist() == rec.metrics.series[key].y.tolist(), key


def test_a_torn_last_line_and_an_old_run_file_are_read(tmp_path):
    rec = record(tmp_path / "a")
    rec.history.append({"epoch": 1, "val_loss": 0.5})
    save_run(rec)
    with open(tmp_path / "a" / METRICS_FILE, "a", encoding="utf-8") as f:
        f.write('{"epoch": {"epoch": 2, "val')  # the program died while writing
    back = read_run(tmp_path / "a" / RUN_FILE)
    assert back.history == [{"epoch": 1, "val_loss": 0.5}] and back.status == "interrupted"
    old = dict(run_store.run_to_dict(rec), version=1, status="stopped", message="",
               history=[{"epoch": 1}], step_losses=[0.5, 0.25])
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / RUN_FILE).write_text(json.dumps(old), encoding="utf-8")
    back = read_run(tmp_path / "b" / RUN_FILE)
    assert back.status == "stopped" and back.step_losses == [0.5, 0.25] and back.history == [
        {"epoch": 1}]


def test_start_takes_one_graph_copy_and_one_project_dict(qtbot, data_dir, monkeypatch):
    """The run controller works without the window: it is given its parts."""
    import graph.graph as graph_mod
    import graph.project as project_mod
    from gui.document import Document
    from gui.training.run_controller import RunController
    from gui.training.run_ops import RunFiles, WeightsControl
    from gui.training.settings import TrainingSettings

    live, _ = parts(qtbot)
    settings = TrainingSettings()
    qtbot.addWidget(settings)
    doc = Document(moons_project())
    settings.bind(doc)
    settings.set_devices(["auto", "cpu"], {})
    files = RunFiles(live.runs, live.view, live, live.message)
    live.save = files.save
    weights = WeightsControl(live.runs, live.message)
    weights.bind(doc)
    run = RunController(settings, live.runs, live, weights, files, live.message, live.bar)
    run.bind(doc)
    calls = {"copy": 0, "dict": 0}
    real_copy, real_dict = graph_mod.Graph.copy, project_mod.project_to_dict

    def counted_copy(self, *a, **k):
        calls["copy"] += 1
        return real_copy(self, *a, **k)

    def counted_dict(*a, **k):
        calls["dict"] += 1
        return real_dict(*a, **k)

    monkeypatch.setattr(graph_mod.Graph, "copy", counted_copy)
    monkeypatch.setattr(project_mod, "project_to_dict", counted_dict)
    assert run.start()
    assert calls == {"copy": 1, "dict": 1}
    monkeypatch.undo()
    qtbot.waitUntil(lambda: not run.running, timeout=60000)
    rec = run.record
    assert rec.status == "completed" and len(rec.history) == 3 and len(rec.step_losses) == 30
    assert read_run(rec.out_dir / RUN_FILE).history == rec.history
    run.shutdown()
