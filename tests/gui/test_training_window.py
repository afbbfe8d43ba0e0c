"""Training in the window (R5, product §5): start a short run from the Train
menu and watch the curves fill; pause, resume and stop; faults show their
cause and node; a training process that dies or hangs leaves the window
alive; a dataset of the wrong shape is refused before Start."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from graph import Graph
from graph.project import Project

SHOTS = os.environ.get("NETCANVAS_SHOTS")  # set to save screenshots while developing


def moons_project(training: dict | None = None) -> Project:
    g = Graph()
    g.add_node("Input", {"shape": [2]}, name="x", id="x", pos=(0, 0))
    g.add_node("Linear", {"out_features": 16}, name="hidden", id="l1", pos=(220, 0))
    g.add_node("ReLU", {}, name="act", id="r1", pos=(440, 0))
    g.add_node("Linear", {"out_features": 2}, name="logits", id="l2", pos=(660, 0))
    g.add_node("Output", {}, name="out", id="y", pos=(880, 0))
    for a, b in (("x", "l1"), ("l1", "r1"), ("r1", "l2"), ("l2", "y")):
        g.connect(a, b)
    t = {"dataset": {"name": "moons", "n": 200}, "epochs": 3, "batch_size": 16,
         "optimizer": {"type": "Adam", "lr": 0.01}, "device": "cpu"}
    t.update(training or {})
    return Project("Moons", g, t, {}, None)


@pytest.fixture
def win(qtbot, data_dir):
    from gui.main_window import MainWindow

    w = MainWindow(moons_project())
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.show()
    qtbot.waitExposed(w)
    yield w
    if w.training is not None:
        w.training.shutdown()


def start(qtbot, win):
    win.actions["train_start"].trigger()
    area = win.training
    assert area.running
    return area


def wait_done(qtbot, area, timeout=60000):
    qtbot.waitUntil(lambda: not area.running, timeout=timeout)


def shot(widget, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        widget.grab().save(os.path.join(SHOTS, name))


def test_a_short_run_fills_the_curves_map_and_confusion(qtbot, win, tmp_path):
    assert win.training is None  # built on first use, not at start-up
    area = start(qtbot, win)
    assert win.training_dock.isVisible()
    assert not win.actions["train_start"].isEnabled() and win.actions["train_stop"].isEnabled()
    wait_done(qtbot, area)
    rec = area.runs.records["run 1"]
    assert rec.status == "completed" and len(rec.history) == 3
    run = area.view.plots.runs["run 1"]
    # every step reached the loss curve: 160 training samples / 16 = 10 steps per epoch
    assert len(run.curves["loss"]) == 30
    assert len(run.curves["val_loss"]) == 3 and len(run.curves["train_accuracy"]) == 3
    assert set(run.grads) == {"hidden", "logits"}  # node names, not ids
    assert area.view.decision_map.grid_shape == (64, 64)
    assert area.view.confusion.counts().sum() == 40  # the validation samples
    # the end state, not a stale ETA and rate
    assert area.view.progress.text().startswith("finished after epoch 3/3 · step 30/30 · ran ")
    assert "ETA" not in area.view.progress.text()
    assert area.view.tabs.isTabVisible(1)  # 2-D points: a decision map
    said = area.view.diagnosis.plain_text()
    assert said.startswith("Diagnosis at the end of the run (epoch 3):") or \
        said == "No problems found in the curves at the end of the run (epoch 3)."
    assert rec.checkpoint("last") is not None and rec.checkpoint("best") is not None
    assert win.actions["train_start"].isEnabled()
    csv = area.export_csv(tmp_path / "m.csv").read_text()
    assert "run 1,run 1,val_loss,step,10," in csv
    assert [p.name for p in area.export_png(tmp_path / "png")][0] == "loss.png"
    out = area.export_weights("run 1", tmp_path / "w.pt")
    state = torch.load(out, weights_only=True)["model"]
    assert {k.split(".")[-1] for k in state} == {"weight", "bias"}
    win.training_dock.resize(1200, 700)
    shot(win, "run_window.png")
    area.view.tabs.setCurrentIndex(1)
    shot(area, "run_decision_map.png")
    area.view.tabs.setCurrentIndex(2)
    shot(area, "run_confusion.png")


def test_pause_resume_and_stop(qtbot, win):
    win.doc.undo.push(__import__("gui.training.settings_data", fromlist=["x"]).SetTraining(
        win.doc, {**win.doc.project.training, "epochs": 200, "dataset": {"name": "moons"}}))
    area = start(qtbot, win)
    qtbot.waitUntil(lambda: len(area.view.plots.runs["run 1"].curves["loss"]) > 0, timeout=30000)
    win.actions["train_pause"].trigger()
    assert area.paused and area.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: area.worker.paused, timeout=5000)  # the child has applied it
    qtbot.wait(300)  # let batches already posted arrive
    n = len(area.view.plots.runs["run 1"].curves["loss"])
    qtbot.wait(300)
    assert len(area.view.plots.runs["run 1"].curves["loss"]) == n  # nothing trains while paused
    win.actions["train_pause"].trigger()
    assert not area.paused
    qtbot.waitUntil(lambda: len(area.view.plots.runs["run 1"].curves["loss"]) > n, timeout=10000)
    win.actions["train_stop"].trigger()
    wait_done(qtbot, area, timeout=5000)
    rec = area.runs.records["run 1"]
    assert rec.status == "stopped"
    assert "Resume continues" in area.message.text()
    # editing while stopped: then resume the stopped run from its checkpoint, same curves
    area.runs.list.setCurrentRow(0)
    assert area.runs.resume_button.isEnabled()
    steps_before = len(area.view.plots.runs["run 1"].curves["loss"])
    area.runs.resume_button.click()
    assert area.running
    qtbot.waitUntil(lambda: len(area.view.plots.runs["run 1"].curves["loss"]) > steps_before,
                    timeout=30000)
    area.stop()
    wait_done(qtbot, area, timeout=5000)
    assert list(area.view.plots.runs) == ["run 1"]


def test_editing_during_a_run_keeps_the_snapshot_and_says_so(qtbot, win):
    from gui import commands

    win.doc.undo.push(__import__("gui.training.settings_data", fromlist=["x"]).SetTraining(
        win.doc, {**win.doc.project.training, "epochs": 200}))
    area = start(qtbot, win)
    assert not area.banner.isVisible()
    win.doc.undo.push(commands.SetParam(win.doc.graph, "l1", "out_features", 8))
    assert area.banner.isVisible() and "as it was at Start" in area.banner.text()
    assert area.record.graph.node("l1").params["out_features"] == 16
    area.stop()
    wait_done(qtbot, area, timeout=5000)


def test_a_diverging_run_shows_its_nan_message_and_keeps_the_window(qtbot, win):
    s = win.train.show_training() or win.training.settings
    s.optimizer.setCurrentText("SGD")
    s.lr.setText("1e30")
    s.lr.editingFinished.emit()
    assert win.doc.project.training["optimizer"] == {"type": "SGD", "lr": 1e30}
    area = start(qtbot, win)
    wait_done(qtbot, area)
    rec = area.runs.records["run 1"]
    assert rec.status == "error"
    text = area.message.text()
    assert text.startswith("Training stopped: the training loss became")
    assert "NaN" in text or "infinite" in text
    assert 'Linear "' in text
    assert "error" in area.view.diagnosis.plain_text()
    assert win.isVisible() and area.start_button.isEnabled()
    shot(area, "run_nan.png")


def test_an_exception_in_a_layer_names_the_node(qtbot, win):
    area = win.train.training_area()
    # the child process makes layer "logits" raise from step 12 on (runtime.remote_child.inject)
    area.inject_fault = {"node": "l2", "step": 12, "message": "kernel exploded"}
    start(qtbot, win)
    wait_done(qtbot, area)
    assert area.message.text() == ('Training stopped: Linear "logits" failed during training: '
                                   "RuntimeError: kernel exploded (1 epoch(s) of metrics kept "
                                   "with the last checkpoint).")
    assert win.scene.selected_node_ids() == ["l2"]  # the node is shown on the canvas
    assert len(area.view.plots.runs["run 1"].curves["val_loss"]) == 1


def test_a_dataset_of_the_wrong_shape_is_flagged_and_refused(qtbot, win):
    s = win.train.show_training() or win.training.settings
    s.dataset.setCurrentIndex(s.dataset.findText("digits"))
    s.dataset.activated.emit(s.dataset.currentIndex())
    assert win.doc.project.training["dataset"] == {"name": "digits"}
    assert 'dataset "digits" gives samples of shape 1×8×8 (float32) but the Input expects 2' \
        in s.fit.text()
    win.actions["train_start"].trigger()
    area = win.training
    assert not area.running and not area.runs.records
    assert area.message.text().startswith('Cannot start: Input "x": dataset "digits" gives')
    win.actions["undo"].trigger()
    assert win.doc.project.training["dataset"]["name"] == "moons" and s.fit.text() == ""
    assert s.dataset.currentText() == "moons"


def test_clicking_an_edge_shows_live_histograms(qtbot, win):
    win.doc.undo.push(__import__("gui.training.settings_data", fromlist=["x"]).SetTraining(
        win.doc, {**win.doc.project.training, "epochs": 200}))
    area = start(qtbot, win)
    edge = next(e for e in win.doc.graph.edges if e.source == "l1")
    win.scene.clearSelection()
    win.scene.edges[edge].setSelected(True)  # what a click on the edge does
    assert area.view.histograms.edge == "hidden → act"
    qtbot.waitUntil(lambda: area.view.histograms.redraws >= 2, timeout=20000)
    area.stop()
    wait_done(qtbot, area, timeout=5000)
    shot(area, "run_histograms.png")


def test_a_killed_training_process_is_reported_and_keeps_the_window(qtbot, win):
    win.doc.undo.push(__import__("gui.training.settings_data", fromlist=["x"]).SetTraining(
        win.doc, {**win.doc.project.training, "epochs": 200}))
    area = start(qtbot, win)
    qtbot.waitUntil(lambda: len(area.view.plots.runs["run 1"].curves["val_loss"]) >= 1,
                    timeout=30000)
    pid = area.worker.pid
    os.kill(pid, signal.SIGKILL)  # what the system does when memory runs out
    wait_done(qtbot, area, timeout=10000)
    rec = area.runs.records["run 1"]
    assert rec.status == "error"
    text = area.message.text()
    assert text.startswith("Training stopped: the training process ended unexpectedly "
                           "(exit code -9, SIGKILL: killed, perhaps by the system for lack of "
                           "memory); the metrics received so far are kept (")
    assert "epoch(s) of metrics kept with the last checkpoint" in text
    assert len(rec.history) >= 1 and len(area.view.plots.runs["run 1"].curves["loss"]) >= 10
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: no zombie left behind
    assert win.isVisible() and area.start_button.isEnabled()
    win.actions["train_start"].trigger()  # the next run starts a fresh process
    assert area.running
    qtbot.waitUntil(lambda: len(area.view.plots.runs["run 2"].curves["loss"]) > 0,
                    timeout=30000)
    assert area.worker.pid != pid
    area.stop()
    wait_done(qtbot, area, timeout=5000)
    assert area.runs.records["run 2"].status == "stopped"


def test_stop_ends_a_training_process_that_does_not_listen(qtbot, win):
    area = win.train.training_area()
    # the layer never returns and the loop never sees Stop: the process must be ended
    area.inject_fault = {"node": "l2", "kind": "hang"}
    area.start()
    qtbot.waitUntil(lambda: bool(area.info), timeout=30000)  # the run has started
    pid = area.worker.pid
    area.stop()
    wait_done(qtbot, area, timeout=5000)
    rec = area.runs.records["run 1"]
    assert rec.status == "stopped" and rec.result.notes == [
        "the training process did not stop within 1.5 s and was ended"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert win.isVisible() and area.start_button.isEnabled()


def test_out_of_memory_shows_the_smaller_batch_size_and_keeps_the_window(qtbot, win):
    area = win.train.training_area()
    # the child process makes layer "logits" raise CUDA's out-of-memory error at step 3
    area.inject_fault = {"node": "l2", "step": 3, "kind": "oom"}
    start(qtbot, win)
    wait_done(qtbot, area)
    rec = area.runs.records["run 1"]
    assert rec.status == "error"
    assert area.message.text() == ("Training stopped: out of memory on cpu with batch_size 16; "
                                   "try batch_size 8 (or a smaller model, or amp) (0 epoch(s) "
                                   "of metrics kept).")
    assert area.view.diagnosis.findings[0]["kind"] == "out_of_memory"
    assert len(area.view.plots.runs["run 1"].curves["loss"]) == 3  # the steps before are kept
    assert win.isVisible() and area.start_button.isEnabled()
    area.inject_fault = None
    area.settings.batch_size.setValue(8)  # the suggested change, then a clean run
    start(qtbot, win)
    wait_done(qtbot, area)
    assert area.runs.records["run 2"].status == "completed"


def test_diagnosis_is_live_after_each_epoch(qtbot, win):
    win.doc.undo.push(__import__("gui.training.settings_data", fromlist=["x"]).SetTraining(
        win.doc, {**win.doc.project.training, "epochs": 2000,
                  "optimizer": {"type": "SGD", "lr": 1e-7}}))
    area = start(qtbot, win)
    # nothing is checked before the first epoch ends, and it says so
    assert area.view.diagnosis.plain_text() == ("Checked after each epoch: nothing to say before "
                                                "the first one ends.")
    qtbot.waitUntil(lambda: "underfitting" in str(area.view.diagnosis.findings), timeout=30000)
    assert area.running  # shown during the run, not only at its end
    text = area.view.diagnosis.plain_text()
    assert text.startswith("Diagnosis after epoch ")
    assert "warning: training accuracy is only" in text
    area.stop()
    wait_done(qtbot, area, timeout=5000)


def test_histograms_of_an_input_edge_and_of_a_block_without_a_module(qtbot, win):
    from gui.document import Document
    from gui.training.live_ops import INPUT_NO_GRADIENTS

    p = moons_project({"epochs": 2000})
    g = p.graph  # x → hidden → act → skip (= act + hidden) → logits → out
    g.disconnect(next(e for e in g.edges if e.source == "r1"))
    g.add_node("Add", {}, name="skip", id="s", pos=(550, 120))
    g.connect("r1", "s")
    g.connect("l1", "s")
    g.connect("s", "l2")
    win.set_document(Document(p))
    area = win.train.training_area()
    area.watch_edge("x", "x → hidden")  # before Start: it says when values come
    assert "press Start" in area.view.histograms.note("activations")
    start(qtbot, win)
    edge = next(e for e in g.edges if e.source == "x")
    win.scene.clearSelection()
    win.scene.edges[edge].setSelected(True)  # a click on the edge leaving the Input
    assert area.view.histograms.edge == "x → hidden"
    qtbot.waitUntil(lambda: area.view.histograms.redraws >= 1, timeout=20000)
    assert area.view.histograms.note("gradients") == INPUT_NO_GRADIENTS
    assert area.view.histograms.note("activations") == ""
    edge = next(e for e in g.edges if e.source == "s")
    win.scene.clearSelection()
    win.scene.edges[edge].setSelected(True)  # Add is computed in forward(): no module
    assert area.view.histograms.note("activations").startswith(
        'Add "skip" is computed in the model\'s forward() and has no layer module')
    area.stop()
    wait_done(qtbot, area, timeout=5000)


def test_the_learning_rate_is_drawn_where_it_was_read_not_as_stairs(qtbot, win):
    from gui.training.runs import RunRecord
    from runtime.protocol import Kind, RunStart, Steps

    area = win.train.training_area()
    rec = RunRecord("run 1", {}, win.doc.graph.copy())
    area.view.plots.add_run("run 1", metrics=rec.metrics)
    area.live.begin(rec, None)
    area.live.dispatch(Kind.RUN_START, RunStart(epochs=1, steps_per_epoch=9, batch_size=16))
    # what the worker relays: one learning rate per batch of steps ...
    area.live.dispatch(Kind.STEPS, Steps([1, 2, 3], [1.0] * 3, epoch=1, step=3, lr=0.1))
    area.live.dispatch(Kind.STEPS, Steps([4, 5, 6], [1.0] * 3, epoch=1, step=6, lr=0.05))
    # ... or one per step where the engine sends them
    area.live.dispatch(Kind.STEPS, Steps([7, 8, 9], [1.0] * 3, epoch=1, step=9, lr=0.02,
                                         lrs=[0.04, 0.03, 0.02]))
    lr = rec.metrics.series["lr"]  # the record holds it; the plot draws that very series
    assert lr is area.view.plots.runs["run 1"].curves["lr"].series
    assert lr.x.tolist() == [3, 6, 7, 8, 9] and lr.y.tolist() == [0.1, 0.05, 0.04, 0.03, 0.02]
    assert rec.step_losses == [1.0] * 9


def test_an_edge_clicked_while_the_run_is_prepared_is_still_watched(monkeypatch):
    """The click lands after the worker built the run's spec but before the
    run exists: the watch must reach the run anyway (it used to be lost)."""
    from conftest import small_project
    from gui.training import worker as worker_mod

    calls = []

    class Run:  # stands in for the training process
        def __init__(self, spec, **_options):
            calls.append(("spec", spec["watch"]))

        def watch(self, node_id):
            calls.append(("watch", node_id))

        def start(self):
            pass

        def get(self, _timeout):
            return "run_end", None

        def close(self):
            pass

    monkeypatch.setattr(worker_mod.remote, "RemoteRun", Run)
    from graph.project import project_to_dict

    w = worker_mod.TrainingWorker(project_to_dict(small_project()))
    made = w.spec
    monkeypatch.setattr(w, "spec", lambda: (made(), w.watch("l1"))[0])
    w.run()  # the thread's body, here
    assert calls == [("spec", None), ("watch", "l1")]
