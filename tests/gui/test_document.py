"""The document announces its own changes, keeps refused edits off the undo
stack, and every panel binds to one document at a time (``bind``)."""

from __future__ import annotations

import pytest

from conftest import small_project
from graph.problems import GraphEditError
from gui import commands
from gui.document import Document
from gui.training.settings_data import SetTraining


@pytest.fixture
def doc(qtbot):
    d = Document(small_project())
    yield d
    d.close()


def test_a_refused_edit_stays_off_the_undo_stack_and_says_why(doc):
    g = doc.graph
    doc.push(commands.Rename(g, "l2", "head"))
    edges = list(g.edges)
    reason = g.check_connect("x", "l1")  # l1's one input is taken already
    assert reason
    with pytest.raises(GraphEditError) as err:
        doc.push(commands.Connect(g, "x", "l1"))
    assert str(err.value) == reason  # the graph's words, not Qt's wrapper around them
    assert doc.undo.count() == 1 and doc.undo.undoText() == "Rename to head"
    assert list(g.edges) == edges
    doc.undo.undo()  # undoes the rename, the last edit that was made
    assert g.nodes["l2"].name == "fc2" and list(g.edges) == edges
    assert not doc.is_modified()
    doc.undo.redo()
    assert g.nodes["l2"].name == "head" and doc.undo.count() == 1


def test_a_refused_step_of_a_macro_takes_back_the_steps_before_it(doc):
    g = doc.graph
    before = (list(g.nodes), list(g.edges))
    cmd = commands.macro("Paste")
    cmd.add(commands.AddNode(g, "ReLU", id="r1", pos=(0, 0)))
    cmd.add(commands.Connect(g, "l1", "r1"))
    cmd.add(commands.Connect(g, "x", "l1"))  # refused: l1's input is taken
    with pytest.raises(GraphEditError):
        doc.push(cmd)
    assert (list(g.nodes), list(g.edges)) == before
    assert doc.undo.count() == 0 and not doc.is_modified()


def test_a_refused_edit_after_a_save_leaves_the_document_saved(doc):
    doc.push(commands.Rename(doc.graph, "l2", "head"))
    doc.undo.setClean()
    with pytest.raises(GraphEditError):
        doc.push(commands.Connect(doc.graph, "x", "l1"))
    assert not doc.is_modified() and doc.undo.canUndo() and not doc.undo.canRedo()


def test_changes_made_through_the_graph_api_are_announced(qtbot, doc):
    """Not only undo-stack steps: an auto-layout at open, a script."""
    assert doc.analyzer.refresh().totals()["params"] == 8 * 32 + 32  # Linear(8 → 32)
    with qtbot.waitSignals([doc.graph_changed, doc.analysed]):
        doc.graph.set_param("l1", "out_features", 64)
    assert doc.analyzer.totals()["params"] == 8 * 64 + 64
    with qtbot.waitSignal(doc.graph_changed):
        doc.graph.move("l2", (10.0, 20.0))


def test_one_announcement_per_undo_step(qtbot, doc):
    seen = []
    doc.graph_changed.connect(lambda: seen.append("graph"))
    doc.analysed.connect(lambda: seen.append("analysed"))
    cmd = commands.macro("Add ten")
    for k in range(10):
        cmd.add(commands.AddNode(doc.graph, "ReLU", pos=(0, 40 * k)))
    doc.push(cmd)
    assert seen == ["graph", "analysed"]
    qtbot.wait(20)  # nothing left over for the next turn of the event loop
    assert seen == ["graph", "analysed"]
    doc.undo.undo()
    assert seen == ["graph", "analysed"] * 2


def test_training_weights_path_and_name_are_announced(qtbot, doc):
    seen = []
    doc.training_changed.connect(lambda: seen.append("training"))
    doc.weights_changed.connect(lambda: seen.append("weights"))
    doc.path_changed.connect(lambda p: seen.append(("path", p)))
    doc.name_changed.connect(lambda n: seen.append(("name", n)))
    doc.modified_changed.connect(lambda m: seen.append(("modified", m)))
    doc.push(SetTraining(doc, {"epochs": 3}, "Set epochs"))
    assert seen == ["training", ("modified", True)]
    doc.undo.undo()
    assert seen[2:] == ["training", ("modified", False)]
    seen.clear()
    marker = object()
    doc.set_weights(marker)
    assert doc.weights is marker
    doc.set_weights(None)
    doc.set_path("/tmp/a.json")
    doc.set_path("/tmp/a.json")  # no change, nothing said
    doc.set_name("Renamed")
    assert seen == ["weights", "weights", ("path", "/tmp/a.json"), ("name", "Renamed")]
    assert doc.path == "/tmp/a.json"


def test_a_closed_document_stops_listening_to_its_graph(qtbot, doc):
    graph = doc.graph
    doc.close()
    seen = []
    doc.graph_changed.connect(lambda: seen.append(1))
    graph.set_param("l1", "out_features", 5)
    qtbot.wait(20)
    assert seen == []
