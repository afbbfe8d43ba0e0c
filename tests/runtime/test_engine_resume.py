"""Resuming (R7): a stop at any step, inside an epoch or during validation,
then a resume gives bit-for-bit the weights and step losses of one
uninterrupted seeded CPU run; schedules made for the run's length refuse a
resume with another number of epochs before training, length-free ones
resume fine; a failing schedule is never blamed on the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from runtime import ConfigError, ResumeError, Trainer
from runtime.checkpoint import load_checkpoint
from runtime.data import Dataset
from support import StopAtStep, blobs, chain


def line(n=96, val=32) -> Dataset:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n + val, 2)).astype(np.float32)
    y = (X[:, :1] - 2 * X[:, 1:]).astype(np.float32)
    return Dataset("line", "regression", X[:n], y[:n], X[n:], y[n:], (2,), "float32", None,
                   None, (1,), "a line")


def net(n_out=2):
    return chain(("Linear", {"out_features": 16}), "ReLU", ("Dropout", {"p": 0.2}),
                 ("Linear", {"out_features": n_out}), input_shape=(2,))


def same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def comparable(history):
    """Epoch rows without the wall-clock timings."""
    return [{k: v for k, v in row.items() if k not in ("seconds", "samples_per_s")}
            for row in history]


ONE_CYCLE = {"type": "OneCycleLR", "max_lr": 0.05}


@pytest.mark.parametrize("extra, stop_at, ds", [
    ({"scheduler": ONE_CYCLE}, 9, blobs),            # epoch 2, step 3 of 6
    ({"grad_accum_steps": 4}, 11, blobs),            # inside a gradient accumulation
    ({"scheduler": {"type": "StepLR", "step_size": 1, "gamma": 0.5}}, 7, line),  # regression
])
def test_a_stop_inside_an_epoch_resumes_exactly(tmp_path, extra, stop_at, ds):
    tr = {"epochs": 4, "batch_size": 16, "seed": 5,
          "optimizer": {"type": "AdamW", "lr": 0.01, "weight_decay": 0.01}, **extra}
    g = net(1 if ds is line else 2)
    full = Trainer(g, tr, dataset=ds(), out_dir=tmp_path / "full", report_every=0).run()
    stopper = StopAtStep(stop_at)
    t = Trainer(g, tr, dataset=ds(), out_dir=tmp_path / "part", callbacks=[stopper],
                report_every=0)
    stopper.trainer = t
    part = t.run()
    assert part.stopped == "stopped" and len(part.step_losses) == stop_at
    ck = load_checkpoint(tmp_path / "part" / "last.pt")
    assert ck["partial"] and ck["epoch_state"]["step"] == stop_at - 6 * ck["epoch"]
    resumed = Trainer(g, tr, dataset=ds(), out_dir=tmp_path / "part",
                      resume=tmp_path / "part" / "last.pt", report_every=0)
    r = resumed.run()
    assert any(f"after step {stop_at % 6} of 6" in n for n in r.notes), r.notes
    assert r.stopped == "completed" and r.epochs == 4
    assert r.step_losses == full.step_losses and len(r.step_losses) == 24
    assert comparable(r.history) == comparable(full.history)
    same_weights(load_checkpoint(tmp_path / "full" / "last.pt")["model"],
                 load_checkpoint(tmp_path / "part" / "last.pt")["model"])


def test_a_stop_inside_an_epoch_resumed_on_another_number_of_samples_restarts_the_epoch(tmp_path):
    tr = {"epochs": 3, "batch_size": 16, "seed": 5}
    stopper = StopAtStep(8)  # epoch 2, step 2 of 6
    t = Trainer(net(), tr, dataset=blobs(), out_dir=tmp_path, callbacks=[stopper],
                report_every=0)
    stopper.trainer = t
    assert t.run().stopped == "stopped"
    # 40 samples now: the saved shuffle of 96 would index past the end
    r = Trainer(net(), tr, dataset=blobs(n=40), out_dir=tmp_path,
                resume=tmp_path / "last.pt", report_every=0).run()
    assert r.stopped == "completed" and r.epochs == 3, (r.stopped, r.message)
    assert any("trained again from its start" in n and "training samples" in n
               for n in r.notes), r.notes
    # the 8 steps trained before the stop, then epochs 2 (again) and 3 of 3 steps each
    assert len(r.step_losses) == 8 + 3 * 2


def test_a_stop_during_validation_resumes_exactly(tmp_path):
    tr = {"epochs": 3, "batch_size": 16, "seed": 2, "scheduler": ONE_CYCLE}
    full = Trainer(net(), tr, dataset=blobs(val=80), out_dir=tmp_path / "full").run()
    t = Trainer(net(), tr, dataset=blobs(val=80), out_dir=tmp_path / "part")
    t.prepare()
    layer = getattr(t.model, t.setup.code.attrs["l1"])
    orig = layer.forward

    def forward(x):
        if not torch.is_grad_enabled() and t.step == 12:  # epoch 2's validation
            t.stop()
        return orig(x)

    layer.forward = forward
    part = t.run()
    assert part.stopped == "stopped" and part.epochs == 1 and len(part.step_losses) == 12
    r = Trainer(net(), tr, dataset=blobs(val=80), resume=tmp_path / "part" / "last.pt",
                out_dir=tmp_path / "part").run()
    assert r.step_losses == full.step_losses
    assert comparable(r.history) == comparable(full.history)
    same_weights(load_checkpoint(tmp_path / "full" / "last.pt")["model"],
                 load_checkpoint(tmp_path / "part" / "last.pt")["model"])


LENGTH_BOUND = [
    ({"type": "OneCycleLR"}, "OneCycleLR", "total_steps 12, would be 24"),
    ({"type": "CosineAnnealingLR"}, "CosineAnnealingLR", "T_max 2, would be 4"),
    ({"type": "LinearWarmup", "warmup_steps": 3, "then": {"type": "OneCycleLR"}},
     "LinearWarmup then OneCycleLR", "total_steps 12, would be 24"),
]


@pytest.mark.parametrize("schedule, name, lengths", LENGTH_BOUND)
def test_resuming_a_length_bound_schedule_with_more_epochs_is_refused(tmp_path, schedule,
                                                                       name, lengths):
    tr = {"epochs": 2, "batch_size": 16, "scheduler": schedule}
    Trainer(net(), tr, dataset=blobs(), out_dir=tmp_path).run()
    ck = tmp_path / "last.pt"
    t = Trainer(net(), tr, dataset=blobs(), resume=ck, overrides={"epochs": 4})
    with pytest.raises(ResumeError) as err:
        t.prepare()
    assert str(err.value) == (
        f"cannot resume from {str(ck)!r}: the schedule {name} was made for 2 epochs and this "
        f"run asks for 4; its learning rate follows the run's length ({lengths}), so it "
        "cannot be continued for another length. Either resume with 2 epochs (--epochs 2), "
        f"or start a new run from these weights with --init-weights {ck}")
    # what the message offers works: the same length resumes, the weights start a new run
    with pytest.raises(ResumeError, match="nothing left to do"):
        Trainer(net(), tr, dataset=blobs(), resume=ck).prepare()
    fresh = Trainer(net(), {**tr, "epochs": 4}, dataset=blobs(), init_weights=ck).run()
    assert fresh.stopped == "completed" and fresh.epochs == 4


def test_a_length_free_schedule_resumes_with_more_epochs_exactly(tmp_path):
    tr = {"epochs": 4, "batch_size": 16, "seed": 1,
          "scheduler": {"type": "StepLR", "step_size": 1, "gamma": 0.7}}
    full = Trainer(net(), tr, dataset=blobs(), out_dir=tmp_path / "full").run()
    Trainer(net(), {**tr, "epochs": 2}, dataset=blobs(), out_dir=tmp_path / "part").run()
    r = Trainer(net(), tr, dataset=blobs(), out_dir=tmp_path / "part",
                resume=tmp_path / "part" / "last.pt").run()
    assert r.stopped == "completed" and r.epochs == 4
    assert r.step_losses == full.step_losses
    same_weights(load_checkpoint(tmp_path / "full" / "last.pt")["model"],
                 load_checkpoint(tmp_path / "part" / "last.pt")["model"])


def test_resuming_with_nothing_left_to_do_says_so(tmp_path):
    Trainer(net(), {"epochs": 2}, dataset=blobs(), out_dir=tmp_path).run()
    ck = tmp_path / "last.pt"
    with pytest.raises(ResumeError) as err:
        Trainer(net(), {"epochs": 2}, dataset=blobs(), resume=ck).prepare()
    assert str(err.value) == (f"nothing left to do: checkpoint {str(ck)!r} has already trained "
                              "2 epochs and this run asks for 2; ask for more epochs than 2 "
                              "(--epochs)")


def test_a_one_cycle_shorter_than_the_run_is_refused_before_training():
    t = Trainer(net(), {"epochs": 3, "batch_size": 16,
                        "scheduler": {"type": "OneCycleLR", "total_steps": 10}}, dataset=blobs())
    with pytest.raises(ConfigError) as err:
        t.prepare()
    assert str(err.value) == (
        "training.scheduler: OneCycleLR lasts 10 optimizer steps (total_steps) but this run "
        "makes 18 (3 epochs × 6 optimizer steps); leave out total_steps, epochs and "
        "steps_per_epoch so it fits the run, or make it at least 18")


def test_a_failing_schedule_is_reported_as_the_schedules_fault_not_the_models():
    t = Trainer(net(), {"epochs": 2, "batch_size": 16, "scheduler": ONE_CYCLE}, dataset=blobs())
    t.prepare()
    sched = t.schedule.scheduler
    orig, calls = sched.step, []

    def step():
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("Tried to step 4 times. The specified number of total steps is 3")
        orig()

    sched.step = step
    r = t.run()
    assert r.stopped == "error" and r.fault.kind == "schedule" and r.fault.node is None
    assert r.fault.message == (
        "the learning-rate schedule OneCycleLR failed at epoch 1, step 3: ValueError: Tried to "
        "step 4 times. The specified number of total steps is 3; check its settings (a schedule "
        "made for a shorter run cannot go on past its end)")
