"""The state ports of a recurrent block on the canvas (issue 12): named, and
connected by dragging like any port."""

from __future__ import annotations

import pytest

from graph import Graph
from graph.project import Project

from conftest import drag, port_point


def gru_project() -> Project:
    g = Graph()
    g.add_node("Input", {"shape": [5, 4]}, name="x", id="x", pos=(0, 0))
    g.add_node("Input", {"shape": [1, 6]}, name="h", id="h", pos=(0, 160))
    g.add_node("GRU", {"hidden_size": 6}, name="gru", id="gru", pos=(260, 60))
    g.add_node("Output", {}, name="seq", id="y", pos=(540, 0))
    g.add_node("Output", {}, name="state", id="s", pos=(540, 200))
    g.connect("x", "gru")
    g.connect("h", "gru", target_port="h0")
    g.connect("gru", "y")
    return Project("GRU with state", g, {}, {}, None)


@pytest.fixture
def gru_window(make_window):
    return make_window(gru_project(), (1000, 600), (300, 120))


def test_dragging_from_h_n_connects_the_final_state(qtbot, gru_window):
    w = gru_window
    item = w.scene.nodes["gru"]
    assert item.port("h0", False) is not None and item.port("h_n", True) is not None
    assert "output 'h_n'" in item.port("h_n", True).tooltip()  # hovering names the port
    drag(qtbot, w, port_point(w, "gru", "h_n", True), port_point(w, "s", "in", False))
    [edge] = [e for e in w.doc.project.graph.edges if e.target == "s"]
    assert (edge.source, edge.source_port) == ("gru", "h_n")
    w.view.viewport().grab().save("/tmp/shot_hE_gru_state.png")
