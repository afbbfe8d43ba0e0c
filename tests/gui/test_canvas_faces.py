"""Block faces: every setting that matters is on the block, none behind an
ellipsis (the block grows a line instead); the summary is the graph's
(:mod:`graph.face`), the canvas only lays it out."""

from __future__ import annotations

import pytest

from graph import Graph, blocks
from graph.blocks.base import ParamError
from graph.face import SEP, face_text
from graph.project import Project
from gui.canvas.node_item import TEXT_WIDTH, metrics
from gui.document import Document


def other_value(prm):
    """A valid value of ``prm`` that is not its default, or None."""
    d = prm.default
    candidates = {
        "bool": [not d],
        "choice": [c for c in prm.choices if c != d],
        "int": [2, 3, 7, 12],
        "float": [0.25, 0.3, 2.5],
        "size": [2, 5, "same"],
        "shape": [[3, 32, 32]],
        "ints": [[0, 2, 1], [-1, 4]],
    }.get(prm.kind, [])
    for v in candidates:
        if v == d:
            continue
        try:
            prm.check(v)
        except ParamError:
            continue
        return v
    return None


def everything_set(spec) -> Graph:
    """A graph with one node of ``spec`` whose every everyday parameter is
    away from its default (each one that the graph accepts)."""
    g = Graph()
    node = g.add_node(spec.type, {})
    for prm in spec.params:
        if prm.advanced:
            continue
        v = other_value(prm)
        if v is None:
            continue
        try:
            g.set_param(node.id, prm.name, v)
        except (ParamError, ValueError, TypeError):
            continue
    return g


def drawn(item) -> str:
    """The face lines as drawn, joined back (wrapping only splits at spaces
    and separators, so nothing but those may differ)."""
    return " ".join(item.param_lines)


def squeeze(text: str) -> str:
    return text.replace(SEP.strip(), "").replace(" ", "")


@pytest.mark.parametrize("type_name", [s.type for s in blocks.all_specs()])
def test_every_block_shows_all_its_settings_without_an_ellipsis(qtbot, window, type_name):
    g = everything_set(blocks.get(type_name))
    window.set_document(Document(Project("faces", g, {}, {}, None)))
    (node,) = g.nodes.values()
    item = window.scene.nodes[node.id]
    full = face_text(node)
    assert item.params_text == full
    assert squeeze(drawn(item)) == squeeze(full), (item.param_lines, full)
    fm = metrics("text")
    for line in item.param_lines:
        assert "…" not in line
        assert fm.horizontalAdvance(line) <= TEXT_WIDTH + 0.5, line
    # the block is tall enough for every line above its parameter count
    needed = len(item.param_lines)
    assert item.rect.height() >= 22 + (needed + 2) * 16


def test_compact_faces_read_as_people_write_them(qtbot, window):
    g = Graph()
    conv = g.add_node("Conv2d", {"out_channels": 32, "stride": 2, "padding": "same"})
    lstm = g.add_node("LSTM", {"bidirectional": True, "return_sequences": False})
    pool = g.add_node("MaxPool2d", {"kernel_size": 3, "stride": 2})
    assert face_text(conv) == "channels 32 · 3×3 /2 same"
    assert face_text(lstm) == "hidden 64 · layers 1 · bidirectional · no return sequences"
    assert face_text(pool) == "3×3 /2"
    window.set_document(Document(Project("faces", g, {}, {}, None)))
    item = window.scene.nodes[lstm.id]
    assert item.param_lines == ["hidden 64 · layers 1", "bidirectional", "no return sequences"]


def test_a_block_grows_when_an_edit_lengthens_its_face_and_its_edges_follow(qtbot, window):
    from gui import commands

    g = Graph()
    g.add_node("Input", {"shape": [10, 8]}, id="x", pos=(0, 0))
    g.add_node("LSTM", {}, id="r", pos=(0, 200))
    g.add_node("Output", {}, id="y", pos=(0, 400))
    g.connect("x", "r")
    g.connect("r", "y")
    window.set_document(Document(Project("grow", g, {}, {}, None)))
    g = window.doc.graph
    item = window.scene.nodes["r"]
    before = item.rect.height()
    window.doc.push(commands.SetParam(g, "r", "bidirectional", True))
    window.doc.push(commands.SetParam(g, "r", "return_sequences", False))
    assert item.param_lines == ["hidden 64 · layers 1", "bidirectional", "no return sequences"]
    assert item.rect.height() > before
    out = next(e for e in window.scene.edges.values() if e.edge.source == "r")
    end = out.path().pointAtPercent(0)
    port = item.port("out", True).scenePos()
    assert abs(end.x() - port.x()) < 0.5 and abs(end.y() - port.y()) < 0.5
    window.doc.undo.undo()
    window.doc.undo.undo()
    assert item.rect.height() == before  # and back again
