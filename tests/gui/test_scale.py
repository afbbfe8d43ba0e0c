"""Large canvases: a big scene builds, repaints and closes."""

from __future__ import annotations

import pytest

from graph import Graph
from graph.project import Project


@pytest.mark.slow
def test_3000_node_scene_builds_repaints_and_closes(qtbot, window):
    from gui.document import Document

    g = Graph()
    prev = g.add_node("Input", {"shape": [8]}).id
    for _ in range(3000):
        nid = g.add_node("Identity").id
        g.connect(prev, nid)
        prev = nid
    g.connect(prev, g.add_node("Output").id)
    window.set_document(Document(Project("big", g, {}, {}, None)))
    window.view.fit_all()
    window.view.viewport().repaint()
    assert len(window.scene.nodes) == 3002 and len(window.scene.edges) == 3001
    assert all(n.pos is not None for n in g.nodes.values())  # laid out on open
