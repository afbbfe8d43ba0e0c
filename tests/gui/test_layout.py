"""Auto-layout on the canvas: every template and example, both directions,
reads: no two blocks overlap, no edge runs through a block that is not its
end, labels sit on their edges, the main path is straight and monotone.
And blocks the user adds (palette double-click, quick fix, paste) land
where they overlap nothing."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt

from graph.project import load_project
from gui.canvas import layout
from gui.canvas.scene import CanvasScene
from gui.document import Document

from conftest import drag, node_point

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "resources" / "templates").glob("*.json")) + sorted(
    (ROOT / "resources" / "examples").glob("*.json"))


# ---------------------------------------------------------------- geometry
def node_rects(scene) -> dict[str, QRectF]:
    return {nid: item.mapRectToScene(item.rect) for nid, item in scene.nodes.items()}


def overlapping(rects: dict[str, QRectF]) -> list[tuple[str, str]]:
    items = sorted(rects.items(), key=lambda kv: kv[1].left())
    bad = []
    for i, (a, ra) in enumerate(items):
        for b, rb in items[i + 1:]:
            if rb.left() >= ra.right():
                break
            if ra.intersects(rb):
                bad.append((a, b))
    return bad


def segment_hits_rect(p: QPointF, q: QPointF, r: QRectF) -> bool:
    """Liang–Barsky: whether the segment p–q meets the inside of ``r``."""
    x0, y0, dx, dy = p.x(), p.y(), q.x() - p.x(), q.y() - p.y()
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-dx, x0 - r.left()), (dx, r.right() - x0),
                   (-dy, y0 - r.top()), (dy, r.bottom() - y0)):
        if pk == 0:
            if qk < 0:
                return False
            continue
        t = qk / pk
        if pk < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def polyline(edge_item) -> list[QPointF]:
    return [pt for poly in edge_item.path().toSubpathPolygons() for pt in poly]


def edges_through_blocks(scene) -> list[tuple[str, str, str]]:
    """(source, target, block) for each edge that crosses a block not its end
    (the blocks shrunk by a pixel: touching a border at a port is fine)."""
    rects = node_rects(scene)
    bad = []
    for edge, item in scene.edges.items():
        pts = polyline(item)
        for nid, r in rects.items():
            if nid in (edge.source, edge.target):
                continue
            inner = r.adjusted(1, 1, -1, -1)
            if any(segment_hits_rect(a, b, inner) for a, b in zip(pts, pts[1:])):
                bad.append((edge.source, edge.target, nid))
    return bad


def distance_to_path(c: QPointF, pts: list[QPointF]) -> float:
    best = float("inf")
    for a, b in zip(pts, pts[1:]):
        dx, dy = b.x() - a.x(), b.y() - a.y()
        n = dx * dx + dy * dy
        t = 0.0 if n == 0 else max(0.0, min(1.0, ((c.x() - a.x()) * dx + (c.y() - a.y()) * dy) / n))
        ex, ey = a.x() + t * dx - c.x(), a.y() + t * dy - c.y()
        best = min(best, (ex * ex + ey * ey) ** 0.5)
    return best


def main_path_problems(scene, flow: str) -> list[str]:
    """The longest path must run monotonically along the flow, and a longest
    path must be one straight line (all its blocks centred on one axis)."""
    g = nx.DiGraph(scene.graph.nx_graph())
    rects = node_rects(scene)
    along = (lambda r: (r.top(), r.bottom())) if flow == "TB" else (lambda r: (r.left(), r.right()))
    across = (lambda r: r.center().x()) if flow == "TB" else (lambda r: r.center().y())
    problems = []
    path = nx.dag_longest_path(g)
    for a, b in zip(path, path[1:]):
        if along(rects[b])[0] < along(rects[a])[1]:
            problems.append(f"{b} is not after {a} along the flow")
    # the longest chain of edges that run straight along the flow
    straight: dict[str, int] = {}
    for v in nx.topological_sort(g):
        straight[v] = max((straight[u] + 1 for u in g.predecessors(v)
                           if abs(across(rects[u]) - across(rects[v])) < 0.5), default=0)
    if max(straight.values(), default=0) != len(path) - 1:
        problems.append(f"no longest path is straight "
                        f"({max(straight.values())} of {len(path) - 1})")
    return problems


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def laid_out(qtbot, data_dir):
    scenes = []

    def make(path: Path, flow: str) -> CanvasScene:
        layout.set_direction(flow)
        doc = Document(load_project(path), None)
        scene = CanvasScene(doc)
        scene.auto_layout()
        qtbot.wait(1)  # the deferred re-route after the move
        scenes.append((scene, doc))
        return scene

    yield make
    for scene, doc in scenes:
        scene.close()
        doc.undo.setClean()


@pytest.mark.parametrize("flow", ["TB", "LR"])
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_every_template_and_example_lays_out_readably(laid_out, path, flow):
    scene = laid_out(path, flow)
    assert scene.vertical == (flow == "TB")
    assert overlapping(node_rects(scene)) == []
    assert edges_through_blocks(scene) == []
    assert main_path_problems(scene, flow) == []
    rects = list(node_rects(scene).values())
    for item in scene.edges.values():
        label = item.label_rect()
        assert item.label, "every edge shows its shape"
        # the label sits on its own edge, and covers no block
        assert distance_to_path(label.center(), polyline(item)) < 1.5
        assert not any(label.intersects(r) for r in rects), item.label


def test_units_are_one_block_each_at_the_top_level(laid_out):
    scene = laid_out(ROOT / "resources" / "templates" / "resnet18_digits.json", "TB")
    graph = scene.graph
    instances = [n for n in graph.nodes.values() if n.type in graph.units]
    assert instances and all(n.id in scene.nodes for n in instances)
    assert len(scene.nodes) == len(graph.nodes)  # a unit's insides are not on the canvas


def test_top_to_bottom_puts_ports_on_top_and_bottom(laid_out):
    scene = laid_out(ROOT / "resources" / "examples" / "mlp_iris.json", "TB")
    for item in scene.nodes.values():
        for (name, output), port in item.ports.items():
            assert port.pos().y() == (item.rect.height() if output else 0), name
    scene = laid_out(ROOT / "resources" / "examples" / "mlp_iris.json", "LR")
    for item in scene.nodes.values():
        for (name, output), port in item.ports.items():
            assert port.pos().x() == (item.rect.width() if output else 0), name


def test_a_skip_connection_runs_beside_the_blocks_it_skips(laid_out):
    scene = laid_out(ROOT / "resources" / "examples" / "cnn_digits_residual.json", "TB")
    rects = node_rects(scene)
    column = min(r.left() for r in rects.values()), max(r.right() for r in rects.values())
    skips = [(e, item) for e, item in scene.edges.items()
             if abs(rects[e.target].top() - rects[e.source].bottom()) > 200]
    assert skips
    for edge, item in skips:
        pts = polyline(item)
        # somewhere along the way it is beside the blocks in between
        between = [r for nid, r in rects.items()
                   if rects[edge.source].bottom() < r.top() < rects[edge.target].top()]
        assert between
        assert any(p.x() > max(r.right() for r in between)
                   or p.x() < min(r.left() for r in between) for p in pts)
    assert column[1] - column[0] < 600  # one column and its lanes, not a snake of rows


# ---------------------------------------------------------------- the View toggle
def test_view_menu_switches_to_left_to_right_and_remembers_it(qtbot, window):
    from gui.main_window import MainWindow

    assert layout.direction() == "TB"
    action = window.actions["layout_lr"]
    assert action.isCheckable() and not action.isChecked()
    assert action in window.menus["&View"].actions()
    action.trigger()  # as the menu does
    g = window.doc.graph
    assert layout.direction() == "LR" and not window.scene.vertical
    assert g.nodes["x"].pos[0] < g.nodes["l1"].pos[0] < g.nodes["y"].pos[0]
    assert g.nodes["x"].pos[1] == g.nodes["l1"].pos[1] == g.nodes["y"].pos[1]  # one straight row
    assert overlapping(node_rects(window.scene)) == []
    port = window.scene.nodes["l1"].port("out", True)
    assert port.pos().x() == window.scene.nodes["l1"].rect.width()  # outputs on the right
    # a new window (the next session) starts with the remembered direction
    other = MainWindow()
    qtbot.addWidget(other, before_close_func=lambda w: w.doc.undo.setClean())
    assert other.actions["layout_lr"].isChecked()
    action.trigger()  # and back
    assert layout.direction() == "TB" and window.scene.vertical
    assert g.nodes["x"].pos[1] < g.nodes["l1"].pos[1] < g.nodes["y"].pos[1]
    window.doc.undo.undo()  # each switch's layout is one undo step
    qtbot.wait(1)
    assert g.nodes["x"].pos[0] < g.nodes["l1"].pos[0]
    assert not window.scene.vertical  # the ports follow the positions back
    assert edges_through_blocks(window.scene) == []


def test_a_file_arranged_left_to_right_keeps_its_side_ports(qtbot, window):
    # the window's network is saved in a row: shown as it is, ports at the sides
    assert layout.direction() == "TB" and not window.scene.vertical
    assert edges_through_blocks(window.scene) == []


# ---------------------------------------------------------------- placement
def _click_palette(qtbot, window, type_name: str) -> None:
    tree = window.palette.tree
    item = window.palette.items[type_name]
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_palette_blocks_without_a_selection_land_apart_near_the_centre(qtbot, window):
    window.scene.clearSelection()
    g = window.doc.graph
    before = set(g.nodes)
    for _ in range(4):
        window.scene.clearSelection()
        _click_palette(qtbot, window, "ReLU")
    new = [n for n in g.nodes if n not in before]
    assert len(new) == 4 and len({g.nodes[n].pos for n in new}) == 4
    assert overlapping(node_rects(window.scene)) == []
    seen = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    centre = seen.center()
    for nid in new:
        r = node_rects(window.scene)[nid]
        assert (r.center() - centre).manhattanLength() < 700  # near the centre of the view
    assert not any(e.target in new or e.source in new for e in g.edges)


def test_a_palette_block_goes_after_the_selected_block_and_is_connected(qtbot, window):
    g = window.doc.graph
    vp = window.view.viewport()
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=node_point(window, "l2"))
    assert window.scene.selected_node_ids() == ["l2"]
    before = set(g.nodes)
    _click_palette(qtbot, window, "ReLU")
    (new,) = set(g.nodes) - before
    assert [(e.source, e.target) for e in g.edges if e.target == new] == [("l2", new)]
    rects = node_rects(window.scene)
    assert rects[new].left() > rects["l2"].right()  # after it along the flow (this row's)
    assert abs(rects[new].center().y() - rects["l2"].center().y()) < 1
    assert overlapping(rects) == []
    assert window.scene.selected_node_ids() == [new]  # ready for the next double-click
    window.actions["undo"].trigger()  # one step: the block and its edge
    assert set(g.nodes) == before and not any(e.source == "l2" for e in g.edges)


def test_a_palette_block_that_does_not_fit_is_added_but_not_connected(qtbot, window):
    g = window.doc.graph
    window.scene.select_nodes(["l1"])  # Linear out: N×1×8×32, rank 4
    before = set(g.nodes)
    _click_palette(qtbot, window, "LSTM")  # wants (N, T, F): rank 3
    (new,) = set(g.nodes) - before
    assert not any(e.target == new for e in g.edges)
    assert overlapping(node_rects(window.scene)) == []


def test_connecting_added_blocks_can_be_turned_off_and_stays_off(qtbot, window, data_dir):
    from gui.file_ops import settings

    action = window.actions["auto_connect"]
    assert action.isCheckable() and action.isChecked()
    action.trigger()
    assert settings().value("canvas/connect_added_blocks") == "false"
    g = window.doc.graph
    window.scene.select_nodes(["l2"])
    before = set(g.nodes)
    _click_palette(qtbot, window, "ReLU")
    (new,) = set(g.nodes) - before
    assert not any(new in (e.source, e.target) for e in g.edges)
    assert overlapping(node_rects(window.scene)) == []


def test_a_quick_fix_insert_makes_room_instead_of_overlapping(qtbot, window):
    from graph import Graph
    from graph.project import Project

    g = Graph()
    g.add_node("Input", {"shape": [1, 8, 8]}, name="image", id="x")
    g.add_node("LSTM", {"hidden_size": 8}, name="rnn", id="r")
    g.add_node("Output", {}, name="out", id="y")
    g.connect("x", "r")
    g.connect("r", "y")
    window.set_document(Document(Project("fix", g), None))  # laid out tight, top to bottom
    window.view.fit_all()
    qtbot.wait(1)
    scene = window.scene
    assert scene.vertical and len(scene.markers) == 1
    before = {nid: n.pos for nid, n in window.doc.graph.nodes.items()}
    marker = scene.markers[0]
    at = window.view.mapFromScene(marker.sceneBoundingRect().center())
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    g = window.doc.graph
    (new,) = set(g.nodes) - set(before)
    assert g.nodes[new].type == "Flatten"
    qtbot.wait(1)
    rects = node_rects(window.scene)
    assert overlapping(rects) == []
    # on the edge's line, between its blocks, the blocks after it moved down
    assert rects["x"].bottom() < rects[new].top() < rects[new].bottom() < rects["r"].top()
    assert rects[new].center().x() == rects["r"].center().x()
    assert g.nodes["x"].pos == before["x"] and g.nodes["r"].pos[1] > before["r"][1]
    assert edges_through_blocks(window.scene) == []
    window.actions["undo"].trigger()  # one step: insert and the room it made
    assert {nid: n.pos for nid, n in g.nodes.items()} == before


def test_pasted_blocks_land_on_no_block(qtbot, window):
    g = window.doc.graph
    window.scene.select_nodes(["x", "l1"])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    for _ in range(3):
        qtbot.keyClick(window.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        assert overlapping(node_rects(window.scene)) == []
    assert len(g) == 4 + 6
    # a pasted group keeps its own arrangement
    new = window.scene.selected_node_ids()
    xs = sorted(g.nodes[n].pos for n in new)
    assert xs[1][0] - xs[0][0] == g.nodes["l1"].pos[0] - g.nodes["x"].pos[0]
    window.scene.select_nodes(["l2"])
    qtbot.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # duplicate
    assert len(g) == 11 and overlapping(node_rects(window.scene)) == []


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_opening_a_template_or_example_shows_it_laid_out(qtbot, window, path):
    # the window lays a fresh copy out before its items exist (estimated
    # sizes): the items it then shows must agree with that layout
    if path.parent.name == "templates":
        assert window.files.new_from_template(path)
    else:
        window.set_document(Document(load_project(path), None), fresh_layout=True)
    qtbot.wait(1)
    scene = window.scene
    assert scene.vertical
    assert overlapping(node_rects(scene)) == []
    assert edges_through_blocks(scene) == []
    assert main_path_problems(scene, "TB") == []


def test_an_edge_dragged_round_by_hand_still_runs_beside_the_blocks(qtbot, window):
    # a block dragged into the way of an edge: the edge goes round it
    window.actions["layout"].trigger()  # top to bottom: x, l1, y in a column
    window.view.resetTransform()
    qtbot.wait(1)
    # y and l1 down by 300 (room for a block in between), then l2 onto the line
    window.scene.select_nodes(["l1", "y"])
    a = node_point(window, "l1")
    drag(qtbot, window, a, a + QPoint(0, 300))
    window.scene.clearSelection()
    r = node_rects(window.scene)
    mid = QPointF(r["x"].center().x() + 20, (r["x"].bottom() + r["l1"].top()) / 2)
    drag(qtbot, window, node_point(window, "l2"), window.view.mapFromScene(mid))
    qtbot.wait(1)
    r = node_rects(window.scene)
    assert r["l2"].contains(QPointF(r["x"].center().x(), r["l2"].center().y()))  # in the way
    assert overlapping(r) == []
    assert edges_through_blocks(window.scene) == []
