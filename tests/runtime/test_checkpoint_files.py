"""Checkpoint files that ``torch.load(weights_only=True)`` reads but that are not laid
out as checkpoints (bad-input issue, item 2), through ``train --resume`` and
``train --init-weights`` as a user runs them (``main.main``, in-process).

Each crafted file is a real checkpoint with one thing changed; each is refused
before training with ``error: checkpoint '...' cannot be used: FIELD: PROBLEM``
and the refusal's JSON line; never a traceback, never torch's advice to load
with ``weights_only=False``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

import main
from graph.project import load_project
from runtime import Trainer
from runtime.checkpoint import load_checkpoint
from support import StopAtStep, chain_file

NET = [
    {"id": "x", "type": "Input", "params": {"shape": [2], "dtype": "float32"}},
    {"id": "h", "type": "Linear", "name": "hidden", "params": {"out_features": 8}},
    {"id": "a", "type": "ReLU", "params": {}},
    {"id": "o", "type": "Linear", "name": "classifier", "params": {"out_features": 2}},
    {"id": "y", "type": "Output", "params": {}},
]
#: 96 training samples, 6 steps of 16 per epoch; AdamW and a length-bound schedule
#: (so the schedule's state is there); a gradient accumulation a stop can interrupt.
TRAINING = {"dataset": {"name": "moons", "n": 120, "val_fraction": 0.2},
            "optimizer": {"type": "AdamW", "lr": 0.01},
            "scheduler": {"type": "OneCycleLR", "max_lr": 0.05},
            "epochs": 3, "batch_size": 16, "grad_accum_steps": 4, "seed": 1}


def write_project(folder: Path) -> Path:
    return chain_file(folder / "moons.json", NET, TRAINING, "Moons")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The project and a checkpoint stopped in epoch 2 inside a gradient accumulation
    (so it holds everything: epoch_state, grads, optimizer and schedule state)."""
    folder = tmp_path_factory.mktemp("ckpt")
    proj = write_project(folder)
    stopper = StopAtStep(9)
    t = Trainer.from_project(load_project(proj), callbacks=[stopper], out_dir=folder / "run",
                             report_every=0)
    stopper.trainer = t
    assert t.run().stopped == "stopped"
    ck = load_checkpoint(folder / "run" / "last.pt")
    assert ck["partial"] and ck["grads"] and ck["epoch_state"]["step"] == 3
    return proj, ck


def run_cli(argv, capsys):
    code = main.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def crafted(ck: dict, change) -> dict:
    doc = copy.deepcopy(ck)
    change(doc)
    return doc


def pop(*path):
    def change(doc):
        for k in path[:-1]:
            doc = doc[k]
        del doc[path[-1]]
    return change


def put(*path_and_value):
    *path, value = path_and_value

    def change(doc):
        for k in path[:-1]:
            doc = doc[k]
        doc[path[-1]] = value() if callable(value) else value
    return change


BYTES = torch.uint8
# (id, change, field, problem) — problem is the message after "FIELD: "
CASES = [
    ("no model", pop("model"), "checkpoint.model", "missing"),
    ("model a list", put("model", []), "checkpoint.model",
     "expected a dict, got a list of 0 items"),
    ("weight a string", put("model", "hidden.weight", "abc"), "checkpoint.model['hidden.weight']",
     "expected a tensor of numbers, got 'abc'"),
    ("weight complex", put("model", "hidden.bias", lambda: torch.zeros(8, dtype=torch.complex64)),
     "checkpoint.model['hidden.bias']", "expected a tensor of numbers, got a tensor of shape (8,) "
     "(complex64)"),
    ("weight NaN", put("model", "classifier.bias", lambda: torch.tensor([0.0, float("nan")])),
     "checkpoint.model['classifier.bias']", "holds NaN or infinite values"),
    ("version a string", put("version", "2"), "checkpoint.version",
     "expected a positive integer, got '2'"),
    ("epoch a word", put("epoch", "one"), "checkpoint.epoch",
     "expected a non-negative integer, got 'one'"),
    ("epoch negative", put("epoch", -5), "checkpoint.epoch",
     "expected a non-negative integer, got -5"),
    ("epoch a bool", put("epoch", True), "checkpoint.epoch",
     "expected a non-negative integer, got True"),
    ("step a fraction", put("step", 1.5), "checkpoint.step",
     "expected a non-negative integer, got 1.5"),
    ("partial a word", put("partial", "yes"), "checkpoint.partial",
     "expected True or False, got 'yes'"),
    ("planned epochs 0", put("planned_epochs", 0), "checkpoint.planned_epochs",
     "expected an integer of at least 1 or None, got 0"),
    ("rng of 3 bytes", put("rng", "torch", lambda: torch.zeros(3, dtype=BYTES)),
     "checkpoint.rng.torch", "expected a random-number generator state of 5,056 bytes, got a "
     "tensor of shape (3,) (uint8)"),
    ("rng of garbage", put("rng", "torch", lambda: torch.full((5056,), 7, dtype=BYTES)),
     "checkpoint.rng.torch", "is not a valid random-number generator state (Invalid mt19937 "
     "state)"),
    ("rng of floats", put("rng", "shuffle", lambda: torch.zeros(5056)), "checkpoint.rng.shuffle",
     "expected a random-number generator state (a 1-D uint8 tensor), got a tensor of shape "
     "(5056,) (float32)"),
    ("optimizer missing", pop("optimizer"), "checkpoint.optimizer",
     "missing (a checkpoint to resume from holds the optimizer's state; start from its "
     "weights with --init-weights instead)"),
    ("optimizer state of another shape",
     put("optimizer", "state", 0, "exp_avg", lambda: torch.zeros(3)),
     "checkpoint.optimizer.state[0].exp_avg", "expected a tensor of shape (8, 2) (its "
     "parameter's), got a tensor of shape (3,) (float32)"),
    ("optimizer step a vector", put("optimizer", "state", 1, "step", lambda: torch.ones(4)),
     "checkpoint.optimizer.state[1].step", "expected a non-negative number (or a one-element "
     "tensor), got a tensor of shape (4,) (float32)"),
    ("learning rate a word", put("optimizer", "param_groups", 0, "lr", "fast"),
     "checkpoint.optimizer.param_groups[0].lr", "expected a finite number, got 'fast' (was the "
     "checkpoint saved with other optimizer or schedule settings?)"),
    ("schedule position a word", put("scheduler", "scheduler", "last_epoch", "x"),
     "checkpoint.scheduler.scheduler.last_epoch", "expected a finite number, got 'x' (was the "
     "checkpoint saved with other optimizer or schedule settings?)"),
    ("schedule overrides its optimizer", put("scheduler", "scheduler", "optimizer", 5),
     "checkpoint.scheduler.scheduler.optimizer", "is not a setting this object has (was the "
     "checkpoint saved with other optimizer or schedule settings?)"),
    ("schedule steps negative", put("scheduler", "steps", -1), "checkpoint.scheduler.steps",
     "expected a non-negative integer, got -1"),
    ("history not a list", put("history", "abc"), "checkpoint.history",
     "expected a list of per-epoch metrics, got 'abc'"),
    ("history value a word", put("history", 0, "val_loss", "low"),
     "checkpoint.history[0].val_loss", "expected a number, None, or numbers by name, got 'low'"),
    ("step loss a word", put("step_losses", 2, "x"), "checkpoint.step_losses[2]",
     "expected a number, got 'x'"),
    ("best without bad_epochs", pop("best", "bad_epochs"), "checkpoint.best.bad_epochs",
     "missing"),
    ("epoch_state without perm", pop("epoch_state", "perm"), "checkpoint.epoch_state.perm",
     "missing"),
    ("perm of other indices", put("epoch_state", "perm", lambda: torch.arange(96) + 5),
     "checkpoint.epoch_state.perm", "expected an ordering of the 96 training samples (each "
     "index from 0 once), got other indices"),
    ("perm of floats", put("epoch_state", "perm", lambda: torch.arange(96.0)),
     "checkpoint.epoch_state.perm", "expected a 1-D tensor of sample indices (int64), got a "
     "tensor of shape (96,) (float32)"),
    ("epoch step past the epoch", put("epoch_state", "step", 99),
     "checkpoint.epoch_state.step", "expected at most 6 (the steps of an epoch), got 99"),
    ("running count a vector", put("epoch_state", "meter_total", lambda: torch.zeros(3)),
     "checkpoint.epoch_state.meter_total", "expected a finite number (or a scalar tensor), got "
     "a tensor of shape (3,) (float32)"),
    ("gradient of another shape", put("grads", 0, lambda: torch.zeros(3)), "checkpoint.grads[0]",
     "expected a tensor of shape (8, 2), got a tensor of shape (3,) (float32)"),
    ("gradients missing one", lambda doc: doc["grads"].pop(), "checkpoint.grads",
     "expected 4 gradients (one per parameter), got 3"),
]


@pytest.mark.parametrize("change, field, problem", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_resume_from_a_crafted_checkpoint_names_the_field(made, tmp_path, capsys, change,
                                                            field, problem):
    proj, ck = made
    bad = tmp_path / "crafted.pt"
    torch.save(crafted(ck, change), bad)
    code, out, err = run_cli(["train", proj, "--resume", bad, "--epochs", 3], capsys)
    message = f"checkpoint {str(bad)!r} cannot be used: {field}: {problem}"
    assert code == 1, err
    assert f"error: {message}\n" in err, err
    assert json.loads(out.splitlines()[-1]) == {"epochs": 0, "stopped": "refused",
                                                "error": message}
    assert "Traceback" not in err and "weights_only" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crafted.pt"]  # nothing trained


INIT_CASES = [c for c in CASES if c[2].startswith(("checkpoint.model", "checkpoint.version",
                                                   "checkpoint.epoch", "checkpoint.history"))
              and "epoch_state" not in c[2]]


@pytest.mark.parametrize("change, field, problem", [c[1:] for c in INIT_CASES],
                         ids=[c[0] for c in INIT_CASES])
def test_init_weights_from_a_crafted_checkpoint_names_the_field(made, tmp_path, capsys, change,
                                                                  field, problem):
    proj, ck = made
    bad = tmp_path / "crafted.pt"
    torch.save(crafted(ck, change), bad)
    code, out, err = run_cli(["train", proj, "--init-weights", bad, "--epochs", 1,
                              "--out", tmp_path / "run"], capsys)
    assert code == 1
    assert f"error: checkpoint {str(bad)!r} cannot be used: {field}: {problem}\n" in err, err
    assert json.loads(out.splitlines()[-1])["stopped"] == "refused"
    assert not (tmp_path / "run").exists()


def test_init_weights_of_integers_for_float_weights_says_so(made, tmp_path, capsys):
    proj, ck = made
    bad = tmp_path / "ints.pt"
    torch.save(crafted(ck, put("model", "hidden.weight",
                               lambda: torch.zeros(8, 2, dtype=torch.int64))), bad)
    code, out, err = run_cli(["train", proj, "--init-weights", bad, "--epochs", 1,
                              "--out", tmp_path / "run"], capsys)
    assert code == 1
    assert (f"error: checkpoint {str(bad)!r} cannot be used: checkpoint.model['hidden.weight']: "
            "expected floating-point values, got a tensor of shape (8, 2) (int64)") in err, err


def test_a_number_the_safe_loader_refuses_is_said_without_torchs_advice(made, tmp_path, capsys):
    proj, ck = made
    bad = tmp_path / "huge.pt"
    torch.save(crafted(ck, put("epoch", 10 ** 5000)), bad)  # pickled as LONG4: not read
    code, out, err = run_cli(["train", proj, "--resume", bad], capsys)
    assert code == 1
    assert (f"error: checkpoint {str(bad)!r} was refused: it holds data the safe loader does "
            "not read (Unsupported operand 139)") in err, err
    assert "weights_only" not in err and "trusted source" not in err


def test_a_device_is_not_read_as_a_checkpoint(made, tmp_path, capsys):
    proj, _ck = made
    code, out, err = run_cli(["train", proj, "--init-weights", "/dev/zero", "--out",
                              tmp_path / "run"], capsys)
    assert code == 1
    assert ("error: checkpoint '/dev/zero' is not a regular file (a device or a pipe); choose "
            "a .pt file") in err, err


def test_every_optimizer_and_schedule_checkpoint_is_still_accepted(tmp_path):
    """The checks refuse only what is wrong: a stop-and-resume with each optimizer and
    schedule (state of every kind) goes on, and gives the uninterrupted run's losses."""
    from runtime.optim import OPTIMIZERS
    from support import blobs, chain

    g = chain(("Linear", {"out_features": 8}), ("BatchNorm1d", {}), "ReLU",
              ("Linear", {"out_features": 2}), input_shape=(2,))
    schedules = [None, {"type": "ReduceLROnPlateau"}, {"type": "CyclicLR", "base_lr": 0.001,
                                                        "max_lr": 0.01},
                 {"type": "LinearWarmup", "warmup_steps": 3,
                  "then": {"type": "CosineAnnealingLR"}}]
    for k, opt in enumerate(OPTIMIZERS):
        sched = schedules[k % len(schedules)]
        if sched and sched["type"] == "CyclicLR" and opt in ("Adagrad", "Adadelta"):
            sched = None  # CyclicLR needs momentum
        tr = {"epochs": 2, "batch_size": 16, "seed": 1, "grad_accum_steps": 2,
              "optimizer": {"type": opt, "lr": 0.01}, "scheduler": sched}
        full = Trainer(g, tr, dataset=blobs(), report_every=0).run()
        stopper = StopAtStep(8)
        t = Trainer(g, tr, dataset=blobs(), out_dir=tmp_path / opt, callbacks=[stopper],
                    report_every=0)
        stopper.trainer = t
        assert t.run().stopped == "stopped"
        r = Trainer(g, tr, dataset=blobs(), out_dir=tmp_path / opt,
                    resume=tmp_path / opt / "last.pt", report_every=0).run()
        assert r.stopped == "completed", (opt, sched, r.fault)
        assert r.step_losses == full.step_losses, (opt, sched)
