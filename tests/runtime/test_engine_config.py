"""Every loss, optimizer and schedule of the training settings, and the
messages for settings that are wrong."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from runtime import ConfigError, DataMismatchError, Trainer
from runtime.checkpoint import load_checkpoint
from runtime.data import Dataset
from support import blobs, chain


def line(n=96, val=32, k=1) -> Dataset:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n + val, 2)).astype(np.float32)
    y = np.stack([X[:, 0] - 2 * X[:, 1] + j for j in range(k)], 1).astype(np.float32)
    return Dataset("line", "regression", X[:n], y[:n], X[n:], y[n:], (2,), "float32",
                   None, None, (k,), "")


def net(n_out, *tail):
    return chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": n_out}),
                 *tail, input_shape=(2,))


LOSSES = [
    ({"type": "CrossEntropyLoss", "label_smoothing": 0.1}, net(2), blobs()),
    ({"type": "NLLLoss"}, net(2, "LogSoftmax"), blobs()),
    ({"type": "BCEWithLogitsLoss"}, net(1), blobs()),
    ({"type": "BCEWithLogitsLoss", "pos_weight": [1.0, 2.0, 1.0]}, net(3), blobs(classes=3)),
    ({"type": "MSELoss"}, net(1), line()),
    ({"type": "MSELoss"}, net(3), blobs(classes=3)),
    ({"type": "L1Loss"}, net(2), line(k=2)),
    ({"type": "SmoothL1Loss", "beta": 0.5}, net(1), line()),
    ({"type": "HuberLoss", "delta": 0.5}, net(1), line()),
    ({"type": "MultiMarginLoss", "margin": 0.5}, net(3), blobs(classes=3)),
    ({"type": "KLDivLoss"}, net(3, "LogSoftmax"), blobs(classes=3)),
]


@pytest.mark.parametrize("loss,g,ds", LOSSES, ids=lambda v: v["type"] if isinstance(v, dict) else "")
def test_each_loss_trains(loss, g, ds):
    r = Trainer(g, {"epochs": 4, "batch_size": 16, "loss": loss,
                    "optimizer": {"type": "Adam", "lr": 0.02}}, dataset=ds).run()
    assert r.stopped == "completed", r.fault
    first, last = r.history[0]["train_loss"], r.history[-1]["train_loss"]
    assert math.isfinite(last) and last < first
    if ds.task == "classification":
        assert 0.0 <= r.metrics["val_accuracy"] <= 1.0
    else:
        assert r.metrics["val_mae"] >= 0.0


OPTIMIZERS = [
    {"type": "SGD", "lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"type": "Adagrad", "lr": 0.1},
    {"type": "Adadelta", "lr": 1.0},
    {"type": "RMSprop", "lr": 0.01, "momentum": 0.5},
    {"type": "Adam", "lr": 0.01, "amsgrad": True},
    {"type": "AdamW", "lr": 0.01, "weight_decay": 0.1},
    {"type": "Adamax", "lr": 0.01},
    {"type": "NAdam", "lr": 0.01},
    {"type": "RAdam", "lr": 0.01, "betas": [0.9, 0.99]},
]


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: o["type"])
def test_each_optimizer_steps_with_its_settings(opt):
    t = Trainer(net(2), {"epochs": 3, "batch_size": 16, "optimizer": opt}, dataset=blobs())
    r = t.run()
    assert type(t.optimizer).__name__ == opt["type"]
    group = t.optimizer.param_groups[0]
    for k, v in opt.items():
        if k != "type":
            assert group[k] == (tuple(v) if isinstance(v, list) else v), k
    assert r.history[-1]["train_loss"] < r.history[0]["train_loss"]


def lrs(schedule, epochs=3, lr=0.1, out_dir=None):
    t = Trainer(net(2), {"epochs": epochs, "batch_size": 16, "scheduler": schedule,
                         "optimizer": {"type": "SGD", "lr": lr}}, dataset=blobs(), out_dir=out_dir)
    r = t.run()
    return [h["lr"] for h in r.history]


@pytest.mark.parametrize("schedule,want", [
    ({"type": "StepLR", "step_size": 1, "gamma": 0.5}, [0.1, 0.05, 0.025]),
    ({"type": "MultiStepLR", "milestones": [1, 2], "gamma": 0.1}, [0.1, 0.01, 0.001]),
    ({"type": "ExponentialLR", "gamma": 0.5}, [0.1, 0.05, 0.025]),
    ({"type": "InverseTimeDecay", "decay": 1.0}, [0.1, 0.05, 0.1 / 3]),
    ({"type": "CosineAnnealingLR"}, [0.1, 0.075, 0.025]),
    ({"type": "LinearWarmup", "warmup_steps": 12}, [0.1 * 7 / 12, 0.1, 0.1]),
    ({"type": "LinearWarmup", "warmup_steps": 12, "then": {"type": "StepLR", "step_size": 1,
                                                           "gamma": 0.5}},
     [0.1 * 7 / 12, 0.1, 0.05]),
    ({"type": "ReduceLROnPlateau", "patience": 0, "threshold": 10.0}, [0.1, 0.05, 0.025]),
], ids=lambda v: v["type"] if isinstance(v, dict) else "")
def test_each_schedule_sets_the_learning_rate(schedule, want, tmp_path):
    assert lrs(schedule, out_dir=tmp_path) == pytest.approx(want)
    ck = load_checkpoint(tmp_path / "last.pt")  # weights_only: the state is plain data
    assert ck["scheduler"]["scheduler"] is not None or schedule["type"] == "LinearWarmup"


def test_one_cycle_rises_then_falls_per_step():
    seen = []

    class Lr:
        def on_step(self, m):
            seen.append(m["lr"])

    Trainer(net(2), {"epochs": 4, "batch_size": 16, "optimizer": {"type": "SGD", "lr": 0.1},
                     "scheduler": {"type": "OneCycleLR"}}, dataset=blobs(),
            callbacks=[Lr()], report_every=0).run()
    assert len(seen) == 24
    peak = seen.index(max(seen))
    assert 0 < peak < 23 and max(seen) == pytest.approx(0.1, rel=0.05)
    assert seen[-1] < seen[0] < max(seen)


@pytest.mark.parametrize("training,message", [
    ({"epoch": 3}, "training.epoch: unknown setting; did you mean 'epochs'?"),
    ({"epochs": "ten"}, "training.epochs: must be a whole number, got 'ten'"),
    ({"batch_size": 0}, "training.batch_size: must be at least 1, got 0"),
    ({"device": "gpu"}, "training.device: must be one of auto, cpu, cuda, mps, got 'gpu'"),
    ({"amp": "yes"}, 'training.amp: must be false, true, "bf16" or "fp16"'),
    ({"grad_clip_norm": -1}, "training.grad_clip_norm: must be greater than 0, got -1"),
    ({"optimizer": {"lr": 0.1}}, 'training.optimizer: must be an object with a "type" name'),
    ({"optimizer": {"type": "Adamm"}}, "training.optimizer.type: unknown optimizer 'Adamm'; "
                                        "did you mean 'Adam'?"),
    ({"optimizer": {"type": "SGD", "lr": 0.1, "momentun": 0.9}},
     "training.optimizer.momentun: SGD has no setting 'momentun'; did you mean 'momentum'?"),
    ({"optimizer": {"type": "SGD", "lr": -1}}, "training.optimizer.lr: must be at least 0, got -1"),
    ({"loss": {"type": "CrossEntropy"}}, "training.loss.type: unknown loss 'CrossEntropy'; "
                                         "did you mean 'CrossEntropyLoss'?"),
    ({"loss": {"type": "CrossEntropyLoss", "smoothing": 0.1}},
     "training.loss.smoothing: CrossEntropyLoss has no setting 'smoothing'; "
     "did you mean 'label_smoothing'?"),
    ({"scheduler": {"type": "StepLR"}}, "training.scheduler.step_size: StepLR needs the "
                                        "setting 'step_size'"),
    ({"scheduler": {"type": "Cosine"}}, "training.scheduler.type: unknown scheduler 'Cosine'"),
    ({"scheduler": {"type": "LinearWarmup", "warmup_steps": 0}},
     "training.scheduler.warmup_steps: must be at least 1, got 0"),
    ({"scheduler": {"type": "LinearWarmup", "then": {"type": "StepLR", "gama": 0.5}}},
     "training.scheduler.then.gama: StepLR has no setting 'gama'; did you mean 'gamma'?"),
    ({"scheduler": {"type": "InverseTimeDecay", "rate": 1}},
     "training.scheduler.rate: InverseTimeDecay has no setting 'rate'"),
    ({"early_stopping": {"patience": 2, "monitor": "val_mae"}},
     "training.early_stopping.monitor: val_mae is not measured in this run"),
    ({"early_stopping": {"patience": 2, "monitor": "accuracy"}},
     "training.early_stopping.monitor: must be one of val_loss"),
    ({"early_stopping": {"patience": 2, "mode": "max"}}, "training.early_stopping.mode: unknown"),
])
def test_bad_settings_name_the_key(training, message):
    with pytest.raises(ConfigError) as err:
        Trainer(net(2), {"epochs": 1, **training}, dataset=blobs()).prepare()
    assert message in str(err.value), str(err.value)


def test_no_dataset_is_a_config_error():
    with pytest.raises(ConfigError, match=r"training\.dataset: no dataset is chosen"):
        Trainer(net(2), {"epochs": 1}).prepare()


def test_classification_loss_on_regression_data_is_refused():
    with pytest.raises(DataMismatchError, match="CrossEntropyLoss is a classification loss"):
        Trainer(net(1), {"loss": {"type": "CrossEntropyLoss"}}, dataset=line()).prepare()


def test_checkpoints_hold_only_plain_data(tmp_path):
    Trainer(net(2), {"epochs": 1, "optimizer": {"type": "Adam", "amsgrad": True},
                     "scheduler": {"type": "OneCycleLR"}}, dataset=blobs(), out_dir=tmp_path).run()
    ck = torch.load(tmp_path / "best.pt", weights_only=True)
    assert ck["format"] == "netcanvas-checkpoint" and ck["epoch"] == 1
    assert set(ck) >= {"model", "optimizer", "scheduler", "rng", "history", "project", "best"}


def test_weights_also_written_as_safetensors_when_installed(tmp_path):
    pytest.importorskip("safetensors")
    Trainer(net(2), {"epochs": 1}, dataset=blobs(), out_dir=tmp_path).run()
    assert (tmp_path / "best.safetensors").exists()
