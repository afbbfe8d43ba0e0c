"""The template gallery (``resources/templates/*.json``): every template opens,
validates without a problem, exports to code that matches its graph, and
clearly learns with its own training settings on a reduced budget.

The budget cuts only epochs and, for the sequence sets, the number of samples:
optimizer, learning rate, schedule, batch size and model are the template's,
so a template whose settings stop it learning (a zero learning rate, a broken
schedule, a layer that cuts the gradient) fails here.  "Learns" is judged
against the best constant guess on the validation set (the most frequent
class, or the mean target), which is what a network that learned nothing
scores.  The full-budget results are in ``resources/templates/RESULTS.md``
(``bench/templates.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graph.analysis import analyze
from graph.project import load_project
from runtime import Trainer
from support import run_and_compare

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"

#: name -> (overrides of the training section, what counts as learning).
#: ``acc``: the lowest validation accuracy; ``mse``: the highest validation MSE
#: as a fraction of the constant guess's.  Every template must be listed.
BUDGETS = {
    "mlp_sine": ({"epochs": 8}, {"mse": 0.05}),
    "mlp_spirals": ({"epochs": 25}, {"acc": 0.9}),
    "lenet_digits": ({"epochs": 3}, {"acc": 0.8}),
    # 360 training images (20 % of digits), augmented
    "lenet_digits_augmented": ({"epochs": 8}, {"acc": 0.8}),
    "resnet_digits": ({"epochs": 3}, {"acc": 0.7}),
    "resnet18_digits": ({"epochs": 3}, {"acc": 0.7}),
    "depthwise_digits": ({"epochs": 3}, {"acc": 0.7}),
    # 51 plain tanh convolutions: learns only thanks to its delta-orthogonal init
    # (tests/runtime/test_deep_init.py trains the default-init variant too)
    "deep_plain_cnn_digits": ({"epochs": 2}, {"acc": 0.6}),
    "autoencoder_digits": ({"epochs": 8}, {"mse": 0.5}),
    # The adding problem sits on the "predict the mean" plateau until the LSTM
    # finds the markers: epoch 14-20 over seeds 0-5, so the budget leaves room.
    "lstm_adding": ({"epochs": 30}, {"mse": 0.3}),
    "bigru_majority": ({"epochs": 3, "n": 1000}, {"acc": 0.6}),
    "transformer_majority": ({"epochs": 3, "n": 1000}, {"acc": 0.6}),
    "gpt_next_token": ({"epochs": 8, "n": 1000}, {"acc": 0.3}),
    "lstm_attention_reverse": ({"epochs": 2, "n": 2000}, {"acc": 0.4}),
    "transformer_reverse": ({"epochs": 3, "n": 2000}, {"acc": 0.4}),
    # masked-token pretraining: past the bag-of-tokens plateau only after ~2,000
    # steps (bench/templates.py); the reduced budget shows it starts learning
    "bert_masked_tokens": ({"epochs": 3, "n": 3000}, {"acc": 0.15}),
    # the fine-tuning template's encoder is frozen and meant for pretrained weights
    # (tests/runtime/test_bert_templates.py loads them); from fresh frozen weights
    # its head cannot learn, so here every block trains and must fit the 320
    # training sequences: its settings optimise
    "bert_finetune_period": ({"epochs": 15}, {"train_acc": 0.8, "unfreeze": True}),
}

#: The sequence-to-sequence templates (two Inputs, src and tgt, on the built-in
#: reverse task) and the validation token accuracy their full settings reach.
SEQ2SEQ = ("lstm_attention_reverse", "transformer_reverse")
SEQ2SEQ_BAR = 0.95


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.json"))


def constant_guess(ds) -> float:
    """Validation accuracy (classification) or MSE (regression) of the best constant."""
    if ds.task == "classification":
        # negative labels are the loss's ignore_index (masked tokens): not scored
        train, val = ds.y_train.reshape(-1), ds.y_val.reshape(-1)
        train, val = train[train >= 0], val[val >= 0]
        counts = np.bincount(train, minlength=ds.num_classes or 0)
        return float(np.mean(val == counts.argmax()))
    mean = ds.y_train.reshape(len(ds.y_train), -1).mean(axis=0)
    return float(np.mean((ds.y_val.reshape(len(ds.y_val), -1) - mean) ** 2))


def train_reduced(name: str, extra: dict | None = None):
    """Train a template on its reduced budget; returns (result, constant guess)."""
    project = load_project(TEMPLATES / f"{name}.json")
    budget, bar = BUDGETS[name]
    if bar.get("unfreeze"):
        for node in project.graph.nodes.values():
            node.frozen = False
    overrides = {k: v for k, v in budget.items() if k != "n"}
    if "n" in budget:
        overrides["dataset"] = {**project.training["dataset"], "n": budget["n"]}
    overrides.update(extra or {})
    trainer = Trainer.from_project(project, overrides=overrides)
    result = trainer.run()
    assert result.fault is None, result.fault.message
    return result, constant_guess(trainer.setup.dataset)


def learning_failure(name: str, result, guess: float) -> str | None:
    """Why a run does not count as learning (None when it does)."""
    _, bar = BUDGETS[name]
    m = result.metrics
    if "train_acc" in bar:
        if m["train_accuracy"] < bar["train_acc"]:
            return (f"{name}: training accuracy {m['train_accuracy']:.1%} < "
                    f"{bar['train_acc']:.1%}")
        return None
    if "acc" in bar:
        # The bar, and at least half-way from the guess to perfect (or twice it).
        need = max(bar["acc"], min(2 * guess, (1 + guess) / 2))
        if m["val_accuracy"] < need:
            return (f"{name}: validation accuracy {m['val_accuracy']:.1%} < {need:.1%} "
                    f"(constant guess {guess:.1%})")
        return None
    assert result.task == "regression" and m.get("val_mae") is not None
    first = result.history[0]["val_loss"]
    if m["val_loss"] > bar["mse"] * guess or m["val_loss"] >= first:
        return (f"{name}: validation MSE {m['val_loss']:.4g} is not below "
                f"{bar['mse']} × the constant guess's {guess:.4g} (first epoch: {first:.4g})")
    return None


def test_every_template_has_a_budget():
    assert template_names() == sorted(BUDGETS)


@pytest.mark.parametrize("name", template_names())
def test_template_opens_validates_and_exports(name):
    project = load_project(TEMPLATES / f"{name}.json")
    description = project.extra.get("description")
    assert isinstance(description, str) and len(description) > 40, name
    assert project.training.get("dataset", {}).get("name"), name
    problems = analyze(project.graph, project.training).problems()
    assert not problems, [p.message for p in problems]
    vocab = [n.params["num_embeddings"] for n in project.graph.nodes.values()
             if n.type == "Embedding"]
    # Builds the model from the exported source and checks shapes and
    # parameter counts against the graph's.
    built = run_and_compare(project.graph, int_high=min(vocab, default=10))
    assert f"class {built['code'].class_name}(nn.Module)" in built["code"].source


@pytest.mark.parametrize("name", template_names())
def test_template_learns_on_a_reduced_budget(name):
    result, guess = train_reduced(name)
    problem = learning_failure(name, result, guess)
    assert problem is None, problem


@pytest.mark.parametrize("name", ["lenet_digits", "mlp_sine"])
def test_a_template_that_cannot_learn_is_caught(name):
    project = load_project(TEMPLATES / f"{name}.json")
    frozen = {**project.training["optimizer"], "lr": 0.0}
    result, guess = train_reduced(name, {"optimizer": frozen, "epochs": 2})
    problem = learning_failure(name, result, guess)
    assert problem is not None and name in problem


@pytest.mark.parametrize("name", SEQ2SEQ)
def test_seq2seq_template_feeds_src_and_tgt_from_the_reverse_set(name):
    """Both Inputs take their arrays from the built-in set by id; the check of the
    dataset against the graph finds nothing, and a wrong Input shape is named."""
    project = load_project(TEMPLATES / f"{name}.json")
    assert [n.id for n in project.graph.ends("input")] == ["src", "tgt"]
    assert project.training["dataset"]["name"] == "reverse"
    from runtime.data.header import dataset_info

    info = dataset_info(project.training["dataset"])
    problems = analyze(project.graph, project.training, dataset=info).problems()
    assert not problems, [p.message for p in problems]
    project.graph.nodes["tgt"].params["shape"] = [3, 4]
    problems = analyze(project.graph, project.training, dataset=info).problems()
    assert any("gives samples of shape 8" in p.message and p.node == "tgt" for p in problems), \
        [p.message for p in problems]


@pytest.mark.slow
@pytest.mark.parametrize("name", SEQ2SEQ)
def test_seq2seq_template_reaches_the_bar_with_its_own_settings(name):
    """The full training section (no overrides) reaches 95% validation token
    accuracy: what ``bench/templates.py`` reports in RESULTS.md."""
    result = Trainer.from_project(load_project(TEMPLATES / f"{name}.json")).run()
    assert result.fault is None, result.fault.message
    assert result.metrics["val_accuracy"] >= SEQ2SEQ_BAR, result.metrics


def test_the_one_target_of_a_built_in_set_goes_to_the_one_output_whatever_its_id():
    """A user's own seq2seq network on ``reverse`` whose Output is not called
    ``y`` still trains: one target and one Output belong together."""
    import json

    from graph.project import project_from_dict

    data = json.loads((TEMPLATES / "transformer_reverse.json").read_text())
    for node in data["nodes"]:
        if node["id"] == "y":
            node["id"] = "tokens_out"
    for edge in data["edges"]:
        if edge["target"] == "y":
            edge["target"] = "tokens_out"
    data["training"]["dataset"]["n"] = 200
    data["training"]["epochs"] = 1
    project = project_from_dict(data)
    result = Trainer.from_project(project).run()
    assert result.fault is None, result.fault.message
    assert "val_accuracy" in result.metrics
