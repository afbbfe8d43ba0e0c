"""The dataset is part of validation (graph API): with a DatasetInfo, each
Input is checked against its sample array and each Output against its
targets in the same analysis as the shapes, live on every edit, with the
message the engine refuses with and a quick fix where one exists."""

import pytest

from graph import Graph, analyze
from graph.analysis import Analyzer
from graph.dataset_info import ArrayInfo, DatasetInfo, TargetInfo
from graph.fixes import apply_fix
from graph.problems import ERROR, Code
from support import chain

DIGITS = DatasetInfo.single("digits", (1, 8, 8), num_classes=10)
SINE = DatasetInfo("sine", ((None, ArrayInfo((1,))),), ((None, TargetInfo((1,), "regression")),))
DIGITS_T = {"dataset": {"name": "digits"}}
CONV_RELU_LINEAR = (("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1}),
                    ("MaxPool2d", {"kernel_size": 2}), "ReLU", ("Linear", {"out_features": 10}))


def _dataset_errors(an):
    return [p for p in an.problems() if p.code == Code.DATASET]


def test_conv_relu_linear_on_digits_is_an_error_on_the_output_with_start_s_message():
    g = chain(*CONV_RELU_LINEAR)
    assert analyze(g, DIGITS_T).errors() == []  # without the dataset's info: nothing to say
    an = analyze(g, DIGITS_T, dataset=DIGITS)
    (p,) = an.errors()
    assert (p.severity, p.code, p.node, p.port, p.location) == (
        ERROR, Code.DATASET, "y", "in", "training.dataset")
    assert p.message == ('Output "output_1": Linear "linear_1" gives N×32×4×10 but the targets '
                         "are N class labels of 10 classes; the output should be N×10 (one "
                         "score per class)")
    assert an.model_errors() == []  # the model still builds and exports
    assert p.fix == {"kind": "insert", "type": "Flatten", "params": {},
                     "then": [{"type": "Linear", "params": {"out_features": 10}}]}
    new = apply_fix(g, p)
    assert an.refresh().errors() == []
    assert g.nodes[new].type == "Linear" and g.nodes[new].params == {"out_features": 10}
    assert [e.target for e in g.out_edges(new)] == ["y"]
    assert an.output_type("y").shape == ("N", 10)


def test_too_few_class_scores_are_fixed_on_the_linear_even_behind_activations():
    g = chain(("Flatten", {}), ("Linear", {"out_features": 5}), "ReLU", ("Dropout", {}),
              ("LogSoftmax", {}))
    t = {"dataset": {"name": "digits"}, "loss": {"type": "NLLLoss"}}
    an = analyze(g, t, dataset=DIGITS)
    (p,) = an.errors()
    assert p.node == "y" and "gives 5 scores per prediction (N×5) but the dataset has 10 " \
        "classes; set its size to 10" in p.message
    assert p.fix == {"kind": "set_param", "node": "l2", "param": "out_features", "value": 10}
    assert apply_fix(g, p) == "l2"
    assert an.refresh().errors() == []


def test_the_error_comes_and_goes_live_with_parameter_edits():
    g = chain(("Flatten", {}), ("Linear", {"out_features": 10}))
    an = Analyzer(g, DIGITS_T, dataset=DIGITS).refresh()
    assert an.errors() == []
    g.set_param("l2", "out_features", 4)
    assert [p.code for p in an.refresh().errors()] == [Code.DATASET]
    g.set_param("l2", "out_features", 12)  # more scores than classes: the engine accepts it
    assert an.refresh().errors() == []
    an.set_dataset(None)
    g.set_param("l2", "out_features", 4)
    assert an.refresh().errors() == []


@pytest.mark.parametrize("shape,dtype,fix,says", [
    ([64], "float32", {"param": "shape", "value": [1, 8, 8]},
     'dataset "digits" gives samples of shape 1×8×8 (float32) but the Input expects 64 '
     "(float32); set the Input shape to [1, 8, 8], or keep it and add a Reshape/Flatten"),
    ([1, 8, 8], "int64", {"param": "dtype", "value": "float32"},
     'but the Input expects 1×8×8 (int64); set the Input dtype to "float32"'),
])
def test_an_input_that_does_not_fit_the_samples_gets_them(shape, dtype, fix, says):
    g = chain(("Flatten", {}), ("Linear", {"out_features": 10}), input_shape=shape, dtype=dtype)
    an = analyze(g, DIGITS_T, dataset=DIGITS)
    p = next(p for p in an.errors() if p.node == "x")
    assert p.code == Code.DATASET and p.location == "training.dataset" and says in p.message
    assert p.fix == {"kind": "set_param", **fix}
    apply_fix(g, p)
    assert not [p for p in an.refresh().errors() if p.node == "x"]


def test_symbolic_sizes_match_any_size():
    info = DatasetInfo("adding", ((None, ArrayInfo((30, 2))),),
                       ((None, TargetInfo((1,), "regression")),))
    g = chain(("LSTM", {"hidden_size": 8}), ("Linear", {"out_features": 1}), input_shape=["T", 2])
    assert analyze(g, {"task": "regression"}, dataset=info).errors() == []
    steps = DatasetInfo("next", ((None, ArrayInfo((9,), "int64")),),
                        ((None, TargetInfo((9,), "classification", 5)),))
    g = chain(("Embedding", {"num_embeddings": 5, "embedding_dim": 4}),
              ("Linear", {"out_features": 5}), input_shape=["T"], dtype="int64")
    assert analyze(g, {}, dataset=steps).errors() == []


@pytest.mark.parametrize("training,layer,where,says", [
    ({"task": "regression"}, 3, "training.dataset",
     'Linear "linear_1" gives N×3 but the regression targets are N×1; make it give 1 value(s)'),
    ({"task": "classification"}, 1, "training.task",
     "the task is classification but dataset 'sine' holds regression targets"),
    ({"loss": {"type": "CrossEntropyLoss"}}, 1, "training.loss",
     "CrossEntropyLoss is a classification loss but the task is regression"),
])
def test_regression_targets(training, layer, where, says):
    g = chain(("Linear", {"out_features": layer}), input_shape=[1])
    (p,) = analyze(g, training, dataset=SINE).errors()
    assert p.node == "y" and p.location == where and says in p.message, p.message
    if layer == 3:
        assert p.fix == {"kind": "set_param", "node": "l1", "param": "out_features", "value": 1}


def test_binary_loss_on_ten_classes_and_integer_outputs():
    g = chain(("Flatten", {}), ("Linear", {"out_features": 1}))
    (p,) = analyze(g, {"loss": {"type": "BCEWithLogitsLoss"}}, dataset=DIGITS).errors()
    assert p.location == "training.loss" and "needs 2 classes, but the dataset has 10" in p.message
    g = chain(input_shape=[4], dtype="int64")
    info = DatasetInfo("t", ((None, ArrayInfo((4,), "int64")),),
                       ((None, TargetInfo((), "classification", 3)),))
    (p,) = analyze(g, {}, dataset=info).errors()
    assert 'Input "x_1" must be a float tensor to train on, got integers' in p.message


def test_class_weights_must_give_one_weight_per_class():
    g = chain(("Flatten", {}), ("Linear", {"out_features": 10}))
    t = {"loss": {"type": "CrossEntropyLoss", "weight": [1.0, 2.0, 1.0]}}
    (p,) = analyze(g, t, dataset=DIGITS).errors()
    assert p.location == "training.loss.weight" and p.node == "y"
    assert 'training.loss.weight has 3 class weights but dataset "digits" has 10 classes' \
        in p.message
    t["loss"]["weight"] = [1.0] * 10
    assert analyze(g, t, dataset=DIGITS).errors() == []


def test_a_dataset_that_cannot_be_read_is_said_on_the_input():
    g = chain(("Flatten", {}), ("Linear", {"out_features": 10}))
    says = "dataset file 'd.npz' does not exist (looked in /tmp)"
    (p,) = analyze(g, {}, dataset=DatasetInfo("d.npz", error=says)).errors()
    assert p.node == "x" and p.message.endswith(says) and p.location == "training.dataset"


def _two_by_two() -> Graph:
    g = Graph()
    a = g.add_node("Input", {"shape": [4]}, id="a")
    b = g.add_node("Input", {"shape": [3]}, id="b")
    cat = g.add_node("Concat", {}, id="cat")
    g.connect(a.id, cat.id)
    g.connect(b.id, cat.id)
    g.add_node("Linear", {"out_features": 3}, id="cls")
    g.add_node("Linear", {"out_features": 2}, id="reg")
    g.connect("cat", "cls")
    g.connect("cat", "reg")
    g.add_node("Output", id="label")
    g.add_node("Output", id="value")
    g.connect("cls", "label")
    g.connect("reg", "value")
    return g


def test_several_inputs_and_outputs_each_against_its_own_array():
    g = _two_by_two()
    info = DatasetInfo("pairs.npz", (("a", ArrayInfo((4,))), ("b", ArrayInfo((3,)))),
                       (("label", TargetInfo((), "classification", 3)),
                        ("value", TargetInfo((2,), "regression"))))
    t = {"loss": {"label": {"type": "CrossEntropyLoss"}, "value": {"type": "MSELoss"}}}
    assert analyze(g, t, dataset=info).errors() == []
    wrong = DatasetInfo("pairs.npz", (("a", ArrayInfo((4,))), ("b", ArrayInfo((5,)))),
                        (("label", TargetInfo((), "classification", 6)),))  # value: no target
    errors = analyze(g, t, dataset=wrong).errors()
    assert [(p.node, p.location) for p in errors] == [("b", "training.dataset"),
                                                      ("label", "training.dataset")]
    assert "set the Input shape to [5]" in errors[0].message
    assert "set its size to 6" in errors[1].message
    assert errors[1].fix == {"kind": "set_param", "node": "cls", "param": "out_features",
                             "value": 6}
    missing = DatasetInfo("pairs.npz", (("a", ArrayInfo((4,))),))
    (p,) = analyze(g, t, dataset=missing).errors()
    assert p.node == "b" and 'has no array X_b for this Input (it has X_a)' in p.message
    one = DatasetInfo("one.npz", ((None, ArrayInfo((4,))),))
    assert {p.node for p in analyze(g, t, dataset=one).errors()} == {"a", "b"}


def test_a_file_s_targets_follow_the_project_s_task_and_their_class_count_is_not_guessed():
    labels = DatasetInfo("c.npz", ((None, ArrayInfo((4,))),),
                         ((None, TargetInfo((), "classification", None, fixed=False)),))
    g = chain(("Linear", {"out_features": 3}), input_shape=[4])
    assert analyze(g, {}, dataset=labels).errors() == []  # any class count may be right
    g = chain(("Linear", {"out_features": 3}), ("Reshape", {"shape": [1, 3]}),
              input_shape=[4])
    (p,) = analyze(g, {}, dataset=labels).errors()
    assert "but the targets are N class labels; the output should be N×C (one score per " \
           "class)" in p.message
    values = DatasetInfo("r.npz", ((None, ArrayInfo((4,))),),
                         ((None, TargetInfo((), "regression", None, fixed=False)),))
    g = chain(("Linear", {"out_features": 1}), input_shape=[4])
    assert analyze(g, {}, dataset=values).errors() == []  # a column of values: N×1
    # whole-number floats may be class labels: the project's task decides, as the loader does
    assert analyze(g, {"task": "classification"}, dataset=values).errors() == []
    g.set_param("l1", "out_features", 2)
    (p,) = analyze(g, {}, dataset=values).errors()
    assert "gives N×2 but the regression targets are N×1" in p.message


def test_single_is_one_unnamed_input_and_target():
    assert DIGITS == DatasetInfo("digits", ((None, ArrayInfo((1, 8, 8), "float32")),),
                                 ((None, TargetInfo((), "classification", 10)),))
