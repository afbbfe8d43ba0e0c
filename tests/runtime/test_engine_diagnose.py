"""Diagnosis in words from synthetic metric histories (pure functions)."""

from __future__ import annotations

from runtime.diagnose import diagnose


def hist(train, val=None, tacc=None, vacc=None, **extra):
    rows = []
    for k, tl in enumerate(train):
        row = {"epoch": k + 1, "train_loss": tl}
        if val:
            row["val_loss"] = val[k]
        if tacc:
            row["train_accuracy"] = tacc[k]
        if vacc:
            row["val_accuracy"] = vacc[k]
        row.update({key: v[k] for key, v in extra.items()})
        rows.append(row)
    return rows


def kinds(history, labels=None):
    return [f.kind for f in diagnose(history, labels)]


def test_a_healthy_run_has_no_findings():
    h = hist([1.0, 0.5, 0.3, 0.2], [1.0, 0.55, 0.35, 0.25], [0.6, 0.85, 0.93, 0.96],
             [0.6, 0.84, 0.92, 0.95], grad_norms=[{"a": 0.5, "b": 0.8}] * 4,
             dead_by_node=[{"r": 0.1}] * 4)
    assert diagnose(h) == []


def test_overfitting_from_rising_validation_loss():
    h = hist([1.0, 0.5, 0.3, 0.1, 0.05], [1.0, 0.6, 0.5, 0.7, 0.9])
    (f,) = diagnose(h)
    assert f.kind == "overfitting"
    assert f.message == ("the validation loss was lowest at epoch 3 (0.5) and rose to 0.9 while "
                         "the training loss kept falling")
    assert "Dropout" in f.suggestion and "early_stopping" in f.suggestion


def test_overfitting_from_an_accuracy_gap():
    h = hist([1.0, 0.5, 0.2], [1.0, 0.7, 0.6], [0.6, 0.9, 0.99], [0.6, 0.7, 0.75])
    (f,) = diagnose(h)
    assert f.kind == "overfitting" and "99%" in f.message and "75%" in f.message


def test_underfitting_when_training_itself_stays_poor():
    h = hist([0.70, 0.69, 0.69, 0.69], [0.70, 0.69, 0.69, 0.69], [0.5, 0.52, 0.55, 0.55],
             [0.5, 0.5, 0.52, 0.53])
    (f,) = diagnose(h)
    assert f.kind == "underfitting"
    assert f.message == "training accuracy is only 55% and has stopped improving"
    assert "larger" in f.suggestion and "learning rate" in f.suggestion


def test_learning_rate_too_high_when_the_loss_rises():
    (f,) = diagnose(hist([0.7, 1.5, 3.0, 9.0]))
    assert f.kind == "lr_too_high" and "rose from 0.7 to 9" in f.message
    assert "lower the learning rate" in f.suggestion


def test_learning_rate_too_high_when_the_loss_diverges():
    (f,) = diagnose(hist([0.7, float("nan")]))
    assert f.kind == "lr_too_high" and "NaN/Inf" in f.message


def test_vanishing_gradients_name_the_first_layer():
    g = {"l1": 1e-7, "l2": 1e-4, "l3": 0.5}
    fs = diagnose(hist([0.7, 0.6, 0.5], grad_norms=[g] * 3), {"l1": 'Linear "first"'})
    (f,) = [f for f in fs if f.kind == "vanishing_gradients"]
    assert f.node == "l1" and 'Linear "first"' in f.message and "× smaller" in f.message
    assert "BatchNorm" in f.suggestion


def test_exploding_gradients():
    g = {"l1": 5e4, "l2": 10.0}
    fs = diagnose(hist([0.7, 0.6, 0.5], grad_norms=[g] * 3))
    (f,) = [f for f in fs if f.kind == "exploding_gradients"]
    assert f.node == "l1" and "grad_clip_norm" in f.suggestion


def test_dead_units():
    fs = diagnose(hist([0.7, 0.6, 0.5], dead_by_node=[{"r1": 0.2, "r2": 0.8}] * 3),
                  {"r2": 'ReLU "relu_2"'})
    (f,) = [f for f in fs if f.kind == "dead_units"]
    assert f.node == "r2" and f.message == '80% of the units of ReLU "relu_2" never activate (dead ReLUs)'
    assert "LeakyReLU" in f.suggestion


def test_short_or_empty_histories_give_nothing():
    assert diagnose([]) == []
    assert diagnose(hist([0.5])) == []
