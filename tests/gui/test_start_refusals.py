"""A Start that cannot train is refused before a run exists: the reason is said
once, the block it concerns is selected on the canvas, and no run is kept in
the Runs list or on disk.  A model too large for the machine is said on its
node and in the status bar's totals, with units."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from graph.project import Project
from test_training_window import moons_project, shot, wait_done


@pytest.fixture
def make_win(qtbot, data_dir):
    made = []

    def make(project: Project):
        from gui.main_window import MainWindow

        w = MainWindow(project)
        qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w
    yield make
    for w in made:
        if w.training is not None:
            w.training.shutdown()


def said(win, text: str) -> list[str]:
    """Every label in the window that shows ``text``."""
    return [lab.text() for lab in win.findChildren(QLabel) if text in lab.text()]


def no_run_kept(win, data_dir) -> None:
    area = win.training
    assert not area.running and area.runs.records == {} and area.view.plots.runs == {}
    assert not list(data_dir.glob("runs/*/run.json"))


def test_a_network_with_errors_is_refused_with_the_block_selected(make_win, data_dir):
    p = moons_project()
    p.graph.disconnect(next(e for e in p.graph.edges if e.source == "l1"))  # act has no input
    win = make_win(p)
    win.scene.clearSelection()
    win.actions["train_start"].trigger()
    area = win.training
    text = area.message.text()
    assert text.startswith('Cannot start: the network has 1 error; fix it first: ReLU "act": '
                           "its input is not connected"), text
    assert len(said(win, "fix it first")) == 1  # once, not again on the progress line
    assert win.scene.selected_node_ids() == ["r1"]
    no_run_kept(win, data_dir)
    shot(win, "refused_errors.png")


def test_a_dataset_that_does_not_fit_selects_the_input(make_win, data_dir):
    win = make_win(moons_project({"dataset": {"name": "digits"}}))
    win.actions["train_start"].trigger()
    area = win.training
    assert area.message.text().startswith('Cannot start: Input "x": dataset "digits" gives')
    assert len(said(win, "Cannot start")) == 1
    assert win.scene.selected_node_ids() == ["x"]
    no_run_kept(win, data_dir)


def test_a_model_too_large_for_the_memory_is_refused_at_start(make_win, data_dir):
    p = moons_project()
    p.graph.set_param("l1", "out_features", 2_000_000_000)  # 6 G parameters, 24 GB of weights
    win = make_win(p)
    win.actions["train_start"].trigger()
    area = win.training
    text = area.message.text()
    assert text.startswith("Cannot start: the model is too large for the memory of cpu: one "
                           "training step at batch size 16 needs ≈ "), text
    assert text.endswith('not even one sample fits — make Linear "hidden" (6.0 G parameters) '
                         "smaller, or train on a device with more memory")
    assert win.scene.selected_node_ids() == ["l1"]
    assert len(said(win, "too large for the memory")) == 1
    no_run_kept(win, data_dir)


def test_a_refusal_from_the_training_process_selects_the_block_it_names(qtbot, make_win,
                                                                         data_dir):
    # the device's memory is not known in the window yet (torch still loading): the
    # training process checks it, refuses, and the block it names is shown
    p = moons_project()
    p.graph.set_param("l1", "out_features", 2_000_000_000)
    win = make_win(p)
    win.train.show_training()
    area = win.training
    qtbot.waitUntil(lambda: not any(t.name == "netcanvas-torch-loader"
                                    for t in threading.enumerate()), timeout=60000)
    qtbot.wait(50)  # the loader's devices and memory have arrived; now forget the memory
    area.settings.device_memory = {}
    win.scene.clearSelection()
    win.actions["train_start"].trigger()
    assert area.running
    wait_done(qtbot, area)
    assert area.message.text().startswith("Cannot start: the model is too large for the "
                                          "memory of cpu: ")
    assert len(said(win, "too large for the memory")) == 1
    assert win.scene.selected_node_ids() == ["l1"]
    no_run_kept(win, data_dir)


def test_a_refusal_from_the_training_process_keeps_no_run(qtbot, make_win, data_dir, tmp_path):
    # the window reads only X's header before Start: y's length is found when the
    # training process loads the file, and it refuses there
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((40, 2), dtype=np.float32), y=np.arange(39) % 2)
    win = make_win(moons_project({"dataset": {"npz": str(path)}}))
    win.train.show_training()
    area = win.training
    qtbot.waitUntil(lambda: area.settings.fit.text() == "", timeout=10000)  # X fits the Input
    win.actions["train_start"].trigger()
    assert area.running and "run 1" in area.runs.records
    wait_done(qtbot, area)
    text = area.message.text()
    assert text == "Cannot start: d.npz: X has 40 samples but y has 39; they must have the " \
                   "same length", text
    assert len(said(win, "X has 40 samples")) == 1
    assert area.bar.format() == "refused"
    no_run_kept(win, data_dir)
    np.savez(path, X=np.zeros((40, 2), dtype=np.float32), y=np.arange(40) % 2)
    area.settings.update_checks()
    win.actions["train_start"].trigger()  # the next run is run 1 again
    assert area.running and list(area.runs.records) == ["run 1"]
    area.stop()
    wait_done(qtbot, area)


def test_weights_beyond_the_machines_memory_warn_on_the_node_and_totals_have_units(make_win):
    from graph import Graph

    g = Graph()
    g.add_node("Input", {"shape": [2**20]}, name="x", id="x", pos=(0, 0))
    g.add_node("Linear", {"out_features": 2**20}, name="fc", id="fc", pos=(260, 0))
    g.add_node("Output", {}, name="y", id="y", pos=(520, 0))
    g.connect("x", "fc")
    g.connect("fc", "y")
    win = make_win(Project("Huge", g, {}, {}, None))
    # was "Parameters: 1,099,512,676,352   FLOPs/sample: 2.2e+03G   Size: 4398050.71 MB"
    assert win.totals_label.text() == "Parameters: 1.1 T   FLOPs/sample: 2.2 TFLOPs   " \
                                      "Size: 4.4 TB"
    assert "1,099,512,676,352 parameters" in win.totals_label.toolTip()
    panel = win.problems
    rows = [panel.topLevelItem(i).text(1) for i in range(panel.topLevelItemCount())]
    assert any(r.startswith("its 1.1 T parameters need 4.4 TB for the weights alone, more "
                            "than this machine's memory") for r in rows), rows
    assert win.scene.nodes["fc"].severity == "warning"
    shot(win, "too_large_node.png")
