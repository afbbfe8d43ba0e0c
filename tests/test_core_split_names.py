"""The graph model, the project files and the training loop were split into
small modules (sizes: tests/test_module_sizes.py); their public names stay
where callers import them from.

The modules below were split by responsibility (graph.structure holds the
queries of graph.graph, graph.project_load/_save/_model the reading, writing
and document of graph.project, runtime.loop_faults/_reports/_saves what
runtime.loop's run needs besides its steps). """

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module, names", [
    ("graph.project", ["EDGE_KEYS", "FORMAT", "MAX_BYTES", "MAX_REPEAT", "MIGRATIONS",
                       "NODE_KEYS", "TOP_KEYS", "UNIT_KEYS", "VERSION", "VERSION_WITHOUT_UNITS",
                       "Project", "ProjectLoadError", "ProjectSaveError", "dumps_project",
                       "load_project", "loads_project", "project_from_dict", "project_to_dict",
                       "save_project"]),
    ("graph.graph", ["Edge", "Graph", "GraphEditError", "Node"]),
    ("runtime.loop", ["Emit", "FaultStop", "TrainLoop", "group_share"]),
])


def test_public_names_stay_importable_where_they_were(module, names):
    mod = importlib.import_module(module)
    missing = [n for n in names if not hasattr(mod, n)]
    assert not missing, f"{module} lost {missing}"


def test_graph_keeps_its_whole_api():
    """Queries (from graph.structure) and edits are all methods of one Graph."""
    from graph.graph import Graph

    g = Graph()
    a = g.add_node("Input", {"shape": [4]})
    b = g.add_node("Linear", {"out_features": 3})
    g.connect(a.id, b.id)
    assert g.successors(a.id) == [b.id] and g.predecessors(b.id) == [a.id]
    assert g.topological_order() == [a.id, b.id]
    assert g.check_connect(b.id, a.id) is not None  # would be a cycle
    assert g.get_param(b.id, "out_features") == 3 and len(g) == 2
    node, edges = g.remove_node(a.id)
    g.restore_node(node, edges, 0)
    assert list(g.nodes) == [a.id, b.id] and g.in_edges(b.id)[0].source == a.id
    assert len(g.copy()) == 2
