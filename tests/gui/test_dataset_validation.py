"""The dataset is part of validation in the window: choosing a dataset in the
training settings checks the network against it at once (a file once its
header is read, off the window's thread); the problem is on the Output (or
Input) on the canvas and in the Problems panel before Start, and its quick
fix makes the network trainable."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from graph import Graph
from graph.project import Project
from test_start_refusals import make_win  # noqa: F401  (the window fixture)
from test_training_settings import choose_file
from test_training_window import shot

SAYS = ('Linear "head" gives N×8×4×10 but the targets are N class labels of 10 classes; the '
        "output should be N×10 (one score per class)")


def conv_project(training: dict | None = None) -> Project:
    g = Graph()
    g.add_node("Input", {"shape": [1, 8, 8]}, name="image", id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}, name="conv",
               id="c", pos=(220, 0))
    g.add_node("MaxPool2d", {"kernel_size": 2}, name="pool", id="p", pos=(440, 0))
    g.add_node("ReLU", {}, name="relu", id="r", pos=(660, 0))
    g.add_node("Linear", {"out_features": 10}, name="head", id="fc", pos=(880, 0))
    g.add_node("Output", {}, name="scores", id="y", pos=(1100, 0))
    for a, b in (("x", "c"), ("c", "p"), ("p", "r"), ("r", "fc"), ("fc", "y")):
        g.connect(a, b)
    t = {"epochs": 1, "batch_size": 16, "device": "cpu"}
    t.update(training or {})
    return Project("Conv", g, t, {}, None)




def rows(win) -> list[tuple[str, str]]:
    tree = win.problems
    return [(tree.topLevelItem(i).text(0), tree.topLevelItem(i).text(1))
            for i in range(tree.topLevelItemCount())]


def choose_builtin(panel, name: str) -> None:
    i = panel.dataset.findText(name)
    panel.dataset.setCurrentIndex(i)
    panel.dataset.activated.emit(i)


def click_marker(qtbot, win, marker) -> None:
    at = win.view.mapFromScene(marker.scenePos())
    qtbot.mouseClick(win.view.viewport(), Qt.MouseButton.LeftButton, pos=at)


def test_choosing_digits_marks_the_output_and_the_quick_fix_makes_it_trainable(qtbot, make_win):
    win = make_win(conv_project())
    assert rows(win) == [] and win.problems_label.text().startswith("0 errors")
    win.train.show_training()
    choose_builtin(win.training.settings, "digits")
    assert win.doc.project.training["dataset"] == {"name": "digits"}
    assert rows(win) == [("scores", SAYS)]
    assert win.scene.nodes["y"].severity == "error"
    assert win.problems_label.text().startswith("1 error")
    [marker] = win.scene.markers
    assert marker.text == "⚡ insert Flatten + Linear"
    shot(win, "dataset_mismatch.png")
    click_marker(qtbot, win, marker)
    g = win.doc.graph
    (edge,) = g.in_edges("y")
    linear = g.nodes[edge.source]
    assert (linear.type, linear.params) == ("Linear", {"out_features": 10})
    assert g.nodes[g.in_edges(linear.id)[0].source].type == "Flatten"
    assert rows(win) == [] and not win.scene.markers and win.scene.nodes["y"].severity is None
    assert win.doc.analyzer.output_type("y").shape == ("N", 10)
    win.actions["undo"].trigger()  # the fix is one undo step
    assert [e.source for e in g.in_edges("y")] == ["fc"] and rows(win) == [("scores", SAYS)]
    win.actions["undo"].trigger()  # and choosing the dataset another
    assert "dataset" not in win.doc.project.training and rows(win) == []


def test_a_start_on_such_a_network_is_refused_with_the_same_words_and_the_output_shown(
        make_win, data_dir):
    win = make_win(conv_project({"dataset": {"name": "digits"}}))
    assert rows(win) == [("scores", SAYS)]  # at once when the project opens
    win.scene.clearSelection()
    win.actions["train_start"].trigger()
    assert win.training.message.text() == f'Cannot start: Output "scores": {SAYS}'
    assert win.scene.selected_node_ids() == ["y"]
    assert not win.training.running


def test_too_few_scores_get_the_class_count(qtbot, make_win):
    p = conv_project({"dataset": {"name": "digits"}})
    g = p.graph
    g.disconnect(g.in_edges("fc")[0])
    g.add_node("Flatten", {}, name="flat", id="f", pos=(770, 120))
    g.connect("r", "f")
    g.connect("f", "fc")
    g.set_param("fc", "out_features", 4)
    win = make_win(p)
    [(first, text)] = rows(win)
    assert first == "scores" and text == ('Linear "head" gives 4 scores per prediction (N×4) but '
                                          "the dataset has 10 classes; set its size to 10")
    [marker] = win.scene.markers
    assert marker.text == "⚡ set out_features = 10"
    click_marker(qtbot, win, marker)
    assert win.doc.graph.nodes["fc"].params["out_features"] == 10 and rows(win) == []


def test_a_file_dataset_is_checked_once_its_header_is_read(qtbot, make_win, monkeypatch,
                                                           tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((20, 3, 6, 6), np.float32), y=np.arange(20) % 2)
    p = conv_project()
    win = make_win(p)
    win.train.show_training()
    choose_file(win.training.settings, monkeypatch, "npz", path)
    says = ('dataset "d.npz" gives samples of shape 3×6×6 (float32) but the Input expects '
            "1×8×8 (float32); set the Input shape to [3, 6, 6]")
    qtbot.waitUntil(lambda: rows(win) != [], timeout=10000)
    # y's header says one class label per sample (how many classes, only loading tells)
    labels = ('Linear "head" gives N×8×4×10 but the targets are N class labels; the output '
              "should be N×C (one score per class)")
    assert rows(win) == [("image", says), ("scores", labels)]
    assert win.scene.nodes["x"].severity == "error"
    [marker] = win.scene.markers
    assert marker.text == "⚡ set shape = [3, 6, 6]"
    click_marker(qtbot, win, marker)
    assert win.doc.graph.nodes["x"].params["shape"] == [3, 6, 6]
    assert [r for r in rows(win) if r[0] == "image"] == []
