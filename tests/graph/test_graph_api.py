"""The graph model's edits, refusals with reasons, and change notifications."""

import pytest

from graph import Graph, GraphEditError, analyze


def _mlp():
    g = Graph()
    x = g.add_node("Input", {"shape": [4]}, id="x")
    a = g.add_node("Linear", {"out_features": 8}, id="a")
    b = g.add_node("Linear", {"out_features": 3}, id="b")
    y = g.add_node("Output", id="y")
    g.connect("x", "a")
    g.connect("a", "b")
    g.connect("b", "y")
    return g, (x, a, b, y)


def test_default_names_are_unique_and_safe():
    g = Graph()
    names = [g.add_node("Linear").name for _ in range(3)]
    assert names == ["linear_1", "linear_2", "linear_3"]
    g.remove_node(next(iter(g.nodes)))
    assert g.add_node("Linear").name == "linear_4"  # names are not reused while others exist


def test_unknown_type_and_duplicate_id_refused():
    g = Graph()
    with pytest.raises(GraphEditError, match="unknown block type 'Conv9d'"):
        g.add_node("Conv9d")
    g.add_node("Linear", id="a")
    with pytest.raises(GraphEditError, match="already exists"):
        g.add_node("Linear", id="a")


def test_cycle_refused_with_reason():
    g, _ = _mlp()
    with pytest.raises(GraphEditError, match="would create a cycle"):
        g.connect("b", "a")


def test_self_loop_refused():
    g, _ = _mlp()
    with pytest.raises(GraphEditError, match="cannot feed itself"):
        g.connect("a", "a")


def test_second_edge_into_single_input_port_refused():
    g, _ = _mlp()
    with pytest.raises(GraphEditError, match="already connected; only one edge may enter it"):
        g.connect("x", "b")


def test_output_to_output_refused():
    g, _ = _mlp()
    g.add_node("Linear", id="c")
    with pytest.raises(GraphEditError, match="cannot connect an output to an output"):
        g.connect("a", "c", target_port="out")


def test_input_block_takes_no_input():
    g, _ = _mlp()
    with pytest.raises(GraphEditError, match="takes no input"):
        g.connect("a", "x")


def test_unknown_port_named():
    g, _ = _mlp()
    g.add_node("Linear", id="c")
    with pytest.raises(GraphEditError, match="has no input port 'query'"):
        g.connect("a", "c", target_port="query")


def test_events_reach_subscribers_in_order():
    g = Graph()
    seen = []
    g.events.node_added.connect(lambda n: seen.append(("add", n.id)))
    g.events.edge_added.connect(lambda e: seen.append(("edge", e.source, e.target)))
    g.events.param_changed.connect(lambda n, p: seen.append(("param", n.id, p)))
    g.events.node_removed.connect(lambda n: seen.append(("remove", n.id)))
    g.events.edge_removed.connect(lambda e: seen.append(("unedge", e.source)))
    g.add_node("Input", {"shape": [3]}, id="x")
    g.add_node("Linear", id="a")
    g.connect("x", "a")
    g.set_param("a", "out_features", 5)
    g.remove_node("a")
    assert seen == [("add", "x"), ("add", "a"), ("edge", "x", "a"), ("param", "a", "out_features"),
                    ("unedge", "x"), ("remove", "a")]


def test_remove_and_restore_node_keeps_edge_order():
    g, _ = _mlp()
    before = [e.key() for e in g.edges]
    node, edges = g.remove_node("a")
    assert [e.key() for e in g.edges] == [("b", "out", "y", "in")]
    g.restore_node(node, edges)
    assert [e.key() for e in g.edges] == before
    assert analyze(g).valid()


def test_disconnect_and_reconnect_restore_operand_order():
    g, _ = _mlp()
    edge = g.edges[1]
    index = g.disconnect(edge)
    assert index == 1
    g.reconnect(edge, index)
    assert g.edges[1] is edge


def test_set_param_refuses_unknown_and_inferred_names():
    g, _ = _mlp()
    with pytest.raises(GraphEditError, match="has no parameter 'out_feature'"):
        g.set_param("a", "out_feature", 3)
    g.set_param("a", "out_features", None)  # back to the default
    assert "out_features" not in g.nodes["a"].params
    assert g.get_param("a", "out_features") == 64


def test_rename_refuses_empty_and_updates_messages():
    g, _ = _mlp()
    with pytest.raises(GraphEditError, match="must not be empty"):
        g.rename("a", "  ")
    g.set_param("a", "out_features", 0)
    g.rename("a", "hidden")
    msgs = [p.message for p in analyze(g).problems()]
    assert any(m.startswith('Linear "hidden": out_features must be >= 1') for m in msgs), msgs


def test_copy_is_independent_snapshot():
    g, _ = _mlp()
    snap = g.copy()
    g.set_param("a", "out_features", 2)
    assert "out_features" in snap.nodes["a"].params and snap.nodes["a"].params["out_features"] == 8
    assert [e.key() for e in snap.edges] == [e.key() for e in g.edges]


def test_topological_order_follows_insertion_for_ties():
    g = Graph()
    g.add_node("Input", {"shape": [2]}, id="x")
    g.add_node("Linear", id="b")
    g.add_node("Linear", id="a")
    g.connect("x", "a")
    g.connect("x", "b")
    assert g.topological_order() == ["x", "b", "a"]


def test_a_restored_node_takes_back_its_place_so_the_inputs_keep_their_order():
    g = Graph()
    g.add_node("Input", {"shape": [3]}, id="a")
    g.add_node("Input", {"shape": [3]}, id="b")
    g.add_node("Add", id="sum")
    g.add_node("Output", id="y")
    g.connect("a", "sum")
    g.connect("b", "sum")
    g.connect("sum", "y")
    order = list(g.nodes)
    at = g.index_of("a")
    node, edges = g.remove_node("a")
    g.restore_node(node, edges, at)
    assert list(g.nodes) == order
    assert [n.id for n in g.ends("input")] == ["a", "b"]  # forward(self, a, b), as before
    with pytest.raises(GraphEditError, match="no node with id 'zz'"):
        g.index_of("zz")
