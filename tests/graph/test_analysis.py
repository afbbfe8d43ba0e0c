"""Graph-level validation: one test per check, and incremental re-analysis."""

import pytest

from graph import Analyzer, Edge, Graph, analyze
from graph.analysis import SATURATING_LIMIT
from graph.problems import ERROR, WARNING, Code
from support import chain


def found(g, code, training=None, samples=None):
    return [p for p in analyze(g, training, samples).problems() if p.code == code]


def test_cycle_is_an_error_on_every_node_in_it():
    g = chain(("Linear", {"out_features": 4}), ("Linear", {"out_features": 4}), input_shape=(4,))
    g.add_edge_unchecked(Edge("l2", "l1"))  # a file may contain what the editor refuses
    probs = found(g, Code.CYCLE)
    assert {p.node for p in probs} == {"l1", "l2"}
    assert all(p.severity == ERROR for p in probs)
    assert "is part of a cycle" in probs[0].message and "remove one of the edges" in probs[0].message


def test_unconnected_required_input():
    g = chain(("Linear", {"out_features": 4}), input_shape=(4,))
    g.add_node("Linear", id="lonely")
    probs = [p for p in found(g, Code.UNCONNECTED) if p.node == "lonely"]
    assert probs and probs[0].port == "in"
    assert probs[0].message == 'Linear "linear_2": its input is not connected; connect a block\'s output to it'


def test_second_edge_into_single_input_port():
    g = chain(("Linear", {"out_features": 4}), input_shape=(4,))
    g.add_edge_unchecked(Edge("x", "l1"))
    (p,) = found(g, Code.EXTRA_EDGE)
    assert p.node == "l1" and p.port == "in"
    assert "has 2 incoming edges but takes only one" in p.message


def test_no_input_block():
    g = Graph()
    g.add_node("Linear", id="a")
    g.connect("a", g.add_node("Output", id="y").id)
    (p,) = found(g, Code.NO_INPUT)
    assert p.severity == ERROR and p.node == "a" and "has no Input block" in p.message


def test_no_output_block():
    g = Graph()
    g.connect(g.add_node("Input", {"shape": [3]}, id="x").id, g.add_node("Linear", id="a").id)
    (p,) = found(g, Code.NO_OUTPUT)
    assert p.severity == ERROR and p.node == "a" and "has no Output block" in p.message


def test_node_that_reaches_no_output_is_a_warning():
    g = chain(("Linear", {"out_features": 4}), input_shape=(4,))
    g.connect("x", g.add_node("Linear", id="side").id)
    (p,) = found(g, Code.UNREACHABLE)
    assert p.severity == WARNING and p.node == "side"
    assert "does not reach an Output" in p.message
    assert analyze(g).valid()  # a warning does not make the graph invalid


def test_softmax_before_cross_entropy_warns_only_for_that_loss():
    g = chain(("Linear", {"out_features": 3}), "Softmax", input_shape=(4,))
    (p,) = found(g, Code.SOFTMAX_LOSS, {"loss": {"type": "CrossEntropyLoss"}})
    assert p.severity == WARNING and p.node == "l2"
    assert "applies log-softmax itself" in p.message
    assert found(g, Code.SOFTMAX_LOSS, {"loss": {"type": "MSELoss"}}) == []


def test_deep_sigmoid_tanh_stack_warns_and_normalisation_resets_it():
    acts = ["Sigmoid", "Tanh"] * SATURATING_LIMIT
    g = chain(*acts[: SATURATING_LIMIT + 1], input_shape=(4,))
    (p,) = found(g, Code.SATURATING)
    assert p.severity == WARNING and p.node == f"l{SATURATING_LIMIT + 1}"
    assert "gradients will vanish" in p.message
    assert found(chain(*acts[:SATURATING_LIMIT], input_shape=(4,)), Code.SATURATING) == []
    half = SATURATING_LIMIT // 2 + 1
    split = chain(*acts[:half], "LayerNorm", *acts[:half], input_shape=(4,))
    assert found(split, Code.SATURATING) == []


def test_very_large_model_for_the_dataset_warns():
    g = chain(("Linear", {"out_features": 2000}), ("Linear", {"out_features": 2}), input_shape=(1000,))
    (p,) = found(g, Code.LARGE_MODEL, samples=150)
    assert p.severity == WARNING and p.node == "l1"
    assert "2,006,002 parameters for 150 training samples" in p.message
    assert found(g, Code.LARGE_MODEL, samples=100_000) == []


def test_dtype_mismatch_int_tokens_into_linear():
    g = chain(("Linear", {"out_features": 4}), input_shape=(6,), dtype="int64")
    (p,) = found(g, Code.DTYPE)
    assert p.node == "l1" and p.port == "in"
    assert "expects float32 input but receives N×6 of integer type int64" in p.message
    assert "put an Embedding before it" in p.message


def test_dtype_mismatch_float_into_embedding():
    g = chain(("Embedding", {"num_embeddings": 10, "embedding_dim": 4}), input_shape=(6,))
    (p,) = found(g, Code.DTYPE)
    assert p.node == "l1" and "expects int64 token ids" in p.message


def test_unknown_parameter_suggests_the_close_name():
    g = chain(("Linear", {"out_features": 4}), input_shape=(4,))
    g.nodes["l1"].params["out_feature"] = 4  # as a hand-edited file could have it
    (p,) = found(g, Code.UNKNOWN_PARAM)
    assert p.message == 'Linear "linear_1": has no parameter \'out_feature\'; did you mean \'out_features\'?'


def test_parameter_out_of_range():
    g = chain(("Dropout", {"p": 1.5}), input_shape=(4,))
    (p,) = found(g, Code.PARAM)
    assert p.node == "l1" and "p must be" in p.message and "1.5" in p.message


@pytest.mark.parametrize("init,scale,words", [
    ("xavier_normal", -0.5, "init_scale is the gain of xavier_normal initialisation and must be positive, got -0.5"),
    ("normal", 0.0, "init_scale is the standard deviation of normal initialisation and must be positive, got 0"),
    ("uniform", -0.1, "init_scale is the bound of uniform initialisation"),
    ("kaiming_normal", 0.3, "init_scale is not used by kaiming_normal initialisation; clear it"),
])
def test_an_init_scale_that_does_not_fit_its_method(init, scale, words):
    g = chain(("Linear", {"out_features": 4, "init": init, "init_scale": scale}), input_shape=(4,))
    (p,) = found(g, Code.PARAM)
    assert p.node == "l1" and words in p.message
    an = analyze(g)
    assert not an.valid()
    assert an.output_type("l1").shape == ("N", 4)  # shapes still flow past it


def test_a_negative_constant_init_is_fine():
    g = chain(("Linear", {"out_features": 4, "init": "constant", "init_scale": -0.5}), input_shape=(4,))
    assert not found(g, Code.PARAM)


def test_problem_codes_are_from_the_fixed_list():
    g = chain(("Linear", {"out_features": 0}), "Softmax", input_shape=(4,), dtype="int64")
    g.add_node("Linear", id="lonely")
    probs = analyze(g, {"loss": {"type": "CrossEntropyLoss"}}).problems()
    assert probs and all(p.code in Code.all() and p.node in g.nodes for p in probs)
    assert [p.severity for p in probs] == sorted((p.severity for p in probs), key=lambda s: s != ERROR)


# --------------------------------------------------------------- incremental
@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = Analyzer._analyse

    def spy(self, node):
        calls.append(node.id)
        return real(self, node)

    monkeypatch.setattr(Analyzer, "_analyse", spy)
    return calls


def linear_relu_chain(n_pairs=10) -> Graph:
    layers = []
    for _ in range(n_pairs):
        layers += [("Linear", {"out_features": 8}), "ReLU"]
    return chain(*layers, input_shape=(8,))


def test_param_edit_reanalyses_only_downstream_and_stops_when_shapes_settle(counted):
    g = linear_relu_chain()
    an = Analyzer(g).refresh()
    assert len(counted) == len(g)
    counted.clear()
    g.set_param("l9", "out_features", 5)  # Linear in the middle: its ReLU changes, the next Linear does not
    an.refresh()
    assert counted == ["l9", "l10", "l11"]
    assert an.output_type("l10").shape == ("N", 5)
    assert an.output_type("l11").shape == ("N", 8)
    assert an.result("l11").n_params == 5 * 8 + 8


def test_edit_that_changes_no_shape_stops_at_the_node(counted):
    g = linear_relu_chain()
    an = Analyzer(g).refresh()
    counted.clear()
    g.set_param("l9", "bias", False)
    g.rename("l3", "renamed")
    an.refresh()
    assert sorted(counted) == ["l3", "l9"]
    assert an.totals()["params"] == 10 * (8 * 8 + 8) - 8


def test_nothing_is_reanalysed_without_an_edit(counted):
    g = linear_relu_chain()
    an = Analyzer(g).refresh()
    counted.clear()
    an.refresh()
    an.problems()
    assert counted == []


def test_incremental_result_equals_a_fresh_analysis():
    g = linear_relu_chain()
    an = Analyzer(g).refresh()
    g.set_param("l5", "out_features", 0)
    g.set_param("l7", "out_features", 3)
    g.set_param("l5", "out_features", 6)
    fresh = analyze(g)
    assert an.shapes() == fresh.shapes()
    assert an.problems() == fresh.problems()
    assert an.totals() == fresh.totals()


def test_graph_wide_checks_follow_renames_and_structural_edits():
    g = chain(("Linear", {"out_features": 4}), input_shape=(4,))
    g.connect("x", g.add_node("Linear", id="side").id)
    an = Analyzer(g)
    assert [p.message for p in an.problems() if p.code == Code.UNREACHABLE] == \
        ['Linear "linear_2": its result is not used — it does not reach an Output']
    g.set_param("side", "out_features", 9)
    g.rename("side", "probe")
    assert [p.message for p in an.problems() if p.code == Code.UNREACHABLE] == \
        ['Linear "probe": its result is not used — it does not reach an Output']
    g.connect("side", g.add_node("Output", id="y2").id)
    assert [p for p in an.problems() if p.code == Code.UNREACHABLE] == []
    assert an.problems() == analyze(g).problems()
