"""The canvas scene and the edge item stay in small modules named for what
they hold (sizes: tests/test_module_sizes.py), and what other modules
import from them stays importable from there.

The scene is composed of parts that each hold one job: the items kept in
step with the graph (scene_mirror), the analysis shown on the canvas
(analysis_view), which blocks and ports meet an area (node_grid), when edges
are routed (route_queue), a block dragged (scene_drag) and an edge drawn
(edge_drawing) with the mouse, a block put down or on an edge (block_insert);
an edge's route is worked out in edge_route.
"""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module, names", [
    ("gui.canvas.scene", ["CELL", "CanvasScene", "DROP_COLOR", "ROUTE_BATCH_S", "ROUTE_NOW_MAX",
                          "long_lived_objects"]),
    ("gui.canvas.edge_item", ["EdgeItem", "LABEL_HEIGHT", "LABEL_SPOTS", "NEAR", "label_width",
                              "label_widths", "node_rect", "place_label"]),
    ("gui.canvas.edge_route", ["BEND", "LANE_MARGIN", "MAX_LANE_STEPS", "curve", "hint_path",
                               "lane_path", "loop_path", "route", "stroke"]),
])


def test_names_are_importable_where_callers_take_them(module, names):
    mod = importlib.import_module(module)
    assert [n for n in names if not hasattr(mod, n)] == []


def test_the_scene_keeps_the_methods_the_view_menus_and_window_call(qtbot, window):
    wanted = ["add_block", "apply_analysis", "apply_fix", "auto_layout", "close", "edge_at",
              "insert_on_edge", "insert_refusal", "mark_drop_edge", "node_geometry_changed",
              "node_rects_in", "nudge_selection", "overview", "overview_changed", "port_at",
              "reroute", "route_in", "select_nodes", "selected_edges", "selected_node_ids",
              "set_dark", "set_vertical", "unrouted_count", "markers", "last_refusal"]
    assert [n for n in wanted if not hasattr(window.scene, n)] == []


def test_a_scene_closes_its_parts_with_it(qtbot, window):
    """Closed, the scene follows the graph no more: an edit afterwards makes no item."""
    scene, g = window.scene, window.doc.graph
    assert scene.nodes and scene.edges
    scene.close()
    assert not scene.nodes and not scene.edges and scene.markers == []
    g.add_node("ReLU", id="late")
    assert "late" not in scene.nodes and scene.unrouted_count() == 0
