"""The ``training`` section checked in one place (graph.training_check, quality.md R9):
every mistake a problem with its location, the project still opens, the
analysis (and so the editor and ``check``) lists it; the loss-input warning
with its quick fix; absurd integer sizes refused by the analysis."""

from __future__ import annotations

import pytest

from graph import analyze
from graph.fixes import apply_fix
from graph.problems import ERROR, WARNING, Code
from graph.project import loads_project
from graph.training_check import section_problems, training_problems
from support import chain


def messages(training, graph=None):
    return [p.message for p in training_problems(training, graph)]


#: (training section, the message of its one problem)
BAD = {
    "loss_string": ({"loss": "CrossEntropyLoss"},
                    'training.loss: expected an object like {"type": "CrossEntropyLoss"}, '
                    'got a string; write {"type": "CrossEntropyLoss"}'),
    "dataset_string": ({"dataset": "spirals"},
                       'training.dataset: expected an object like {"name": "digits"}, got a '
                       'string; write {"name": "spirals"}'),
    "optimizer_string": ({"optimizer": "Adam"},
                         'training.optimizer: expected an object like {"type": "Adam"}, got a '
                         'string; write {"type": "Adam"}'),
    "scheduler_string": ({"scheduler": "fast"},
                         'training.scheduler: expected an object like {"type": "StepLR"}, got '
                         "a string"),
    "early_stopping_string": ({"early_stopping": "yes"},
                              'training.early_stopping: expected null or an object like '
                              '{"patience": 5, "monitor": "val_loss"}, got \'yes\''),
    "task_list": ({"task": ["classification"]},
                  "training.task: must be one of classification, regression, null, got a list"),
    "device_list": ({"device": ["cpu"]},
                    "training.device: must be one of auto, cpu, cuda, mps, got a list"),
    "batch_size_list": ({"batch_size": [16]},
                        "training.batch_size: must be a whole number, got a list"),
    "lr_text": ({"optimizer": {"type": "Adam", "lr": "fast"}},
                "training.optimizer.lr: must be a number, got 'fast'"),
    "val_fraction_text": ({"dataset": {"name": "iris", "val_fraction": "x"}},
                          "training.dataset.val_fraction: must be a number, got 'x'"),
    "dataset_name_list": ({"dataset": {"name": ["iris"]}},
                          "training.dataset.name: must be the name of a built-in dataset (a "
                          "string such as 'digits'), got a list"),
    "seed_above_2**32-1": ({"seed": 2**32},
                           "training.seed: must be at most 4294967295, got 4294967296"),
    "negative_seed": ({"seed": -1}, "training.seed: must be at least 0, got -1"),
    "one_cycle_max_lr_0": ({"scheduler": {"type": "OneCycleLR", "max_lr": 0}},
                           "training.scheduler.max_lr: must be a number > 0 (or a list of "
                           "them, one per parameter group), got 0"),
    "milestones_decreasing": ({"scheduler": {"type": "MultiStepLR", "milestones": [6, 3]}},
                              "training.scheduler.milestones: must be a list of increasing "
                              "whole numbers >= 1, e.g. [30, 60], got [6, 3]"),
    "milestones_text": ({"scheduler": {"type": "MultiStepLR", "milestones": "3, 6"}},
                        "training.scheduler.milestones: must be a list of increasing whole "
                        "numbers >= 1, e.g. [30, 60], got '3, 6'"),
    "milestones_floats": ({"scheduler": {"type": "MultiStepLR", "milestones": [1.5, 3]}},
                          "training.scheduler.milestones: must be a list of increasing whole "
                          "numbers >= 1, e.g. [30, 60], got [1.5, 3]"),
    "nested_warmup": ({"scheduler": {"type": "LinearWarmup", "then": {"type": "StepLR"}}},
                      "training.scheduler.then.step_size: StepLR needs the setting "
                      "'step_size' (a whole number >= 1)"),
    "loss_reduction_none": ({"loss": {"type": "MSELoss", "reduction": "none"}},
                            "training.loss.reduction: must be one of mean, sum, got 'none'"),
    "unknown_key": ({"epoch": 3}, "training.epoch: unknown setting; did you mean 'epochs'?"),
    "null_epochs": ({"epochs": None}, "training.epochs: must be a whole number, got null"),
    "augment_text": ({"augment": {"rotate": "lots"}},
                     "training.augment.rotate: must be a number, got 'lots'"),
    "augment_scale": ({"augment": {"scale": [1.2, 0.8]}},
                      "training.augment.scale: must be [LO, HI] with 0 < LO <= HI, got [1.2, 0.8]"),
    "loss_weights_list": ({"loss_weights": [1, 2]},
                          'training.loss_weights: expected an object of weights by Output id, '
                          'like {"y": 1.0}, got a list'),
    "nesterov_without_momentum": ({"optimizer": {"type": "SGD", "nesterov": True}},
                                  "training.optimizer.nesterov: Nesterov momentum needs "
                                  "momentum > 0 and dampening 0"),
}


@pytest.mark.parametrize("training,message", BAD.values(), ids=BAD.keys())
def test_each_mistake_is_one_problem_named_by_its_location(training, message):
    found = section_problems(training)
    assert [p.message for p in found] == [message]
    p = found[0]
    assert p.severity == ERROR and p.code == Code.TRAINING and p.node is None
    assert p.message.startswith(p.location + ": ") and p.location.startswith("training")


def test_a_project_with_training_mistakes_still_opens_and_its_analysis_lists_them():
    g = chain(("Linear", {"out_features": 3}), input_shape=(4,))
    an = analyze(g, {"loss": "CrossEntropyLoss", "batch_size": [1]})
    assert [p.location for p in an.problems()] == ["training.loss", "training.batch_size"]
    assert not an.valid()
    assert an.model_errors() == []  # the model itself is fine: its code can be shown
    assert an.shapes()[("l1", "out")].shape == ("N", 3)
    an.set_training({"loss": {"type": "CrossEntropyLoss"}})
    assert an.problems() == [] and an.valid()


def test_the_documented_keys_are_accepted_in_their_documented_shapes():
    g = chain(("Linear", {"out_features": 3}), input_shape=(1, 8, 8))
    ok = {"dataset": {"name": "digits", "val_fraction": 0.2, "n": 500, "noise": 0.1},
          "task": "classification", "loss": {"y": {"type": "CrossEntropyLoss",
                                                   "label_smoothing": 0.1}},
          "loss_weights": {"y": 0.5}, "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9,
                                                    "nesterov": True},
          "scheduler": {"type": "LinearWarmup", "warmup_steps": 10,
                        "then": {"type": "MultiStepLR", "milestones": [3, 6]}},
          "epochs": 3, "batch_size": 8, "seed": 2**32 - 1, "device": "auto",
          "grad_accum_steps": 2, "grad_clip_norm": None, "l1": 0, "amp": "bf16",
          "early_stopping": {"patience": 2, "monitor": "val_accuracy", "min_delta": 0.01},
          "augment": {"translate": 1, "rotate": 10, "scale": [0.9, 1.1], "crop_pad": 2,
                      "hflip": False, "noise": 0.05}}
    assert training_problems(ok, g) == []
    for dataset in ({"csv": "a.csv", "target": "label"}, {"npz": "d.npz"},
                    {"image_folder": "pics", "size": [28, 28]}):
        assert section_problems({"dataset": dataset}) == []


def test_a_per_output_loss_and_its_weights_must_name_outputs():
    g = chain(("Linear", {"out_features": 3}), input_shape=(4,))
    assert messages({"loss": {"z": {"type": "MSELoss"}}, "loss_weights": {"q": 1}}, g) == [
        "training.loss.z: the network has no Output with id 'z' (its Outputs: 'y')",
        "training.loss_weights.q: the network has no Output with id 'q' (its Outputs: 'y')"]
    assert messages({"loss": {"y": "MSELoss"}}, g) == [
        'training.loss.y: expected an object like {"type": "CrossEntropyLoss"}, got a '
        'string; write {"type": "MSELoss"}']


def test_the_section_is_checked_whatever_json_it_holds():
    assert messages([1, 2]) == ["training: expected an object, got a list"]
    assert messages(None) == [] and messages({}) == []
    # a deep, odd value is named, never walked into
    assert messages({"optimizer": {"type": {"nested": [{"x": None}]}}}) == [
        "training.optimizer.type: must be the name of an optimizer (a string such as "
        "'Adam'), got an object"]


# ---------------------------------------------------------------- the loss's input
@pytest.mark.parametrize("loss", ["NLLLoss", "KLDivLoss"])
def test_a_log_probability_loss_warns_without_log_softmax_and_the_fix_inserts_one(loss):
    g = chain(("Linear", {"out_features": 3}), input_shape=(4,))
    an = analyze(g, {"loss": {"type": loss}})
    (p,) = an.problems()
    assert (p.severity, p.code, p.node, p.port) == (WARNING, Code.LOSS_INPUT, "y", "in")
    assert p.message == (f"training.loss: {loss} expects log-probabilities, but Output "
                         '"output_1" receives the output of Linear "linear_1"; insert a '
                         "LogSoftmax before the Output (or use CrossEntropyLoss, which "
                         "applies log-softmax itself)")
    new = apply_fix(g, p)
    assert g.nodes[new].type == "LogSoftmax"
    assert [e.source for e in g.in_edges("y")] == [new]
    assert an.refresh().problems() == []


def test_a_per_output_nll_loss_warns_at_its_own_location_and_softmax_gets_no_fix():
    g = chain(("Linear", {"out_features": 3}), "Softmax", input_shape=(4,))
    (p,) = analyze(g, {"loss": {"y": {"type": "NLLLoss"}}}).problems()
    assert p.location == "training.loss.y" and p.fix is None
    assert "receives probabilities from Softmax" in p.message and "replace it" in p.message


def test_no_warning_when_the_network_ends_in_log_softmax():
    g = chain(("Linear", {"out_features": 3}), "LogSoftmax", input_shape=(4,))
    assert analyze(g, {"loss": {"type": "NLLLoss"}}).problems() == []


def test_a_malformed_loss_does_not_break_the_softmax_warning():
    g = chain(("Linear", {"out_features": 3}), "Softmax", input_shape=(4,))
    codes = [p.code for p in analyze(g, {"loss": ["x"]}).problems()]
    assert codes == [Code.TRAINING]  # the malformed loss; nothing inferred from it


# ---------------------------------------------------------------- absurd sizes
@pytest.mark.parametrize("block,params,shape", [
    ("LSTM", {"hidden_size": 8, "num_layers": 4294967297}, (5, 3)),
    ("GRU", {"hidden_size": 2**31}, (5, 3)),
    ("Linear", {"out_features": 10**12}, (4,)),
])
def test_sizes_beyond_2_to_the_31_are_refused_by_the_analysis(block, params, shape):
    g = chain((block, params), input_shape=shape)
    (p,) = analyze(g).problems()
    assert p.severity == ERROR and p.code == Code.PARAM and p.node == "l1"
    assert "must be at most 2,147,483,647" in p.message


def test_an_input_size_beyond_2_to_the_31_is_refused():
    doc = ('{"format": "netcanvas", "version": 1, "nodes": [{"id": "x", "type": "Input", '
           '"params": {"shape": [4294967297]}}, {"id": "y", "type": "Output"}], '
           '"edges": [{"source": "x", "target": "y"}]}')
    (p,) = analyze(loads_project(doc).graph).problems()
    assert p.node == "x" and "every size must be at most 2,147,483,647" in p.message
