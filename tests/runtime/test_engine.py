"""The training engine through its public surface: Trainer, callbacks, results.

Learning (spirals, digits), determinism and exact resume (R7), stop/pause
from another thread (R5), callbacks' contents, per-step targets, regression,
early stopping, gradient accumulation, clipping, L1, AMP/compile fallbacks.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from runtime import ConfigError, Trainer
from runtime.checkpoint import load_checkpoint
from runtime.data import Dataset
from support import blobs, chain


def mlp(n_in=2, n_out=2, width=32, extra=(), input_shape=None):
    return chain(("Linear", {"out_features": width}), "ReLU", *extra,
                 ("Linear", {"out_features": n_out}), input_shape=input_shape or (n_in,))


class Recorder:
    def __init__(self):
        self.events = []

    def on_run_start(self, info):
        self.events.append(("start", info))

    def on_step(self, m):
        self.events.append(("step", m))

    def on_epoch_end(self, m):
        self.events.append(("epoch", m))

    def on_run_end(self, r):
        self.events.append(("end", r))

    def of(self, kind):
        return [p for k, p in self.events if k == kind]


def test_mlp_learns_spirals():
    g = mlp(width=64, extra=(("Linear", {"out_features": 64}), "ReLU"))
    r = Trainer(g, {"dataset": {"name": "spirals"}, "epochs": 80, "batch_size": 32,
                    "optimizer": {"type": "Adam", "lr": 0.01}}).run()
    assert r.stopped == "completed" and r.epochs == 80
    assert r.metrics["val_accuracy"] >= 0.95, r.metrics


def test_cnn_learns_digits():
    g = chain(("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}), "ReLU",
              ("MaxPool2d", {"kernel_size": 2}), "Flatten", ("Linear", {"out_features": 10}))
    r = Trainer(g, {"dataset": {"name": "digits"}, "epochs": 10, "batch_size": 32,
                    "optimizer": {"type": "Adam", "lr": 0.003}}).run()
    assert r.metrics["val_accuracy"] >= 0.95, r.metrics
    assert len(r.confusion) == 10 and sum(map(sum, r.confusion)) == 360
    assert r.class_names == [str(k) for k in range(10)]
    assert all(0.0 <= a <= 1.0 for a in r.per_class_accuracy)


def test_seeded_cpu_runs_give_identical_loss_curves():
    g = mlp(extra=(("Dropout", {"p": 0.3}),))
    tr = {"epochs": 3, "batch_size": 16, "seed": 7}
    a = Trainer(g, tr, dataset=blobs()).run()
    b = Trainer(g, tr, dataset=blobs()).run()
    c = Trainer(g, {**tr, "seed": 8}, dataset=blobs()).run()
    assert len(a.step_losses) == 3 * 6
    assert a.step_losses == b.step_losses
    assert [h["val_loss"] for h in a.history] == [h["val_loss"] for h in b.history]
    assert a.step_losses != c.step_losses


class StopAfterEpoch:
    def __init__(self, k):
        self.k = k
        self.trainer = None

    def on_epoch_end(self, m):
        if m["epoch"] == self.k:
            self.trainer.stop()


def test_resume_gives_the_same_final_weights_as_an_uninterrupted_run(tmp_path):
    g = mlp(extra=(("Dropout", {"p": 0.2}),))
    tr = {"epochs": 4, "batch_size": 16, "seed": 3,
          "optimizer": {"type": "AdamW", "lr": 0.01, "weight_decay": 0.01},
          "scheduler": {"type": "StepLR", "step_size": 1, "gamma": 0.7}}
    full = Trainer(g, tr, dataset=blobs(), out_dir=tmp_path / "full").run()
    stopper = StopAfterEpoch(2)
    t = Trainer(g, tr, dataset=blobs(), out_dir=tmp_path / "part", callbacks=[stopper])
    stopper.trainer = t
    part = t.run()
    assert part.stopped == "stopped" and part.epochs == 2
    assert not load_checkpoint(tmp_path / "part" / "last.pt")["partial"]
    resumed = Trainer(g, tr, dataset=blobs(), out_dir=tmp_path / "part",
                      resume=tmp_path / "part" / "last.pt").run()
    assert resumed.epochs == 4 and len(resumed.history) == 4
    a = load_checkpoint(tmp_path / "full" / "last.pt")
    b = load_checkpoint(tmp_path / "part" / "last.pt")
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert full.step_losses == resumed.step_losses


class Gate:
    """Patches a layer so that its k-th training call waits for the test."""

    def __init__(self, module, k):
        self.calls = 0
        self.k = k
        self.reached = threading.Event()
        self.go = threading.Event()
        self.orig = module.forward
        module.forward = self

    def __call__(self, x):
        if torch.is_grad_enabled():
            self.calls += 1
            if self.calls == self.k:
                self.reached.set()
                assert self.go.wait(10)
        return self.orig(x)


def test_stop_from_another_thread_takes_effect_within_one_step(tmp_path):
    t = Trainer(mlp(), {"epochs": 50, "batch_size": 8}, dataset=blobs(), out_dir=tmp_path)
    t.prepare()
    gate = Gate(getattr(t.model, t.setup.code.attrs["l1"]), k=3)
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("r", t.run()))
    th.start()
    assert gate.reached.wait(10)
    t.stop()
    gate.go.set()
    th.join(10)
    r = out["r"]
    assert gate.calls == 3  # the step under way finished; no other began
    assert r.stopped == "stopped" and r.epochs == 0
    assert len(r.step_losses) == 3 and r.metrics["train_loss"] > 0
    ck = load_checkpoint(tmp_path / "last.pt")
    assert ck["partial"] and ck["epoch"] == 0
    assert r.checkpoints["last"] == str(tmp_path / "last.pt")


def test_stop_during_validation_ends_the_run_without_counting_the_epoch(tmp_path):
    t = Trainer(mlp(), {"epochs": 3, "batch_size": 8}, dataset=blobs(val=80), out_dir=tmp_path)
    t.prepare()
    layer = getattr(t.model, t.setup.code.attrs["l1"])
    orig, val_calls = layer.forward, []

    def forward(x):
        if not torch.is_grad_enabled():
            val_calls.append(len(x))
            t.stop()
        return orig(x)

    layer.forward = forward
    r = t.run()
    assert val_calls == [32]  # the first of three validation batches, then no more
    assert r.stopped == "stopped" and r.epochs == 0 and r.history == []
    assert len(r.step_losses) == 12 and load_checkpoint(tmp_path / "last.pt")["partial"]


def test_pause_holds_training_until_resume():
    seen_paused = []

    class PauseOnce:
        def on_step(self, m):
            if m["step"] == 2 and not hasattr(self, "done"):
                self.done = True
                t.pause()
                assert t.paused

                def later():
                    flag.set()
                    t.resume()

                threading.Timer(0.05, later).start()

    flag = threading.Event()
    t = Trainer(mlp(), {"epochs": 1, "batch_size": 8}, dataset=blobs(), callbacks=[PauseOnce()],
                report_every=0)
    t.prepare()
    layer = getattr(t.model, t.setup.code.attrs["l1"])
    orig = layer.forward

    def watch(x):
        if torch.is_grad_enabled() and len(seen_paused) >= 2:
            assert flag.is_set(), "a step ran while paused"
        seen_paused.append(x.shape[0])
        return orig(x)

    layer.forward = watch
    r = t.run()
    assert r.stopped == "completed" and flag.is_set() and len(r.step_losses) == 12


def test_callbacks_report_steps_epochs_grad_norms_and_dead_units():
    rec = Recorder()
    g = mlp(extra=(("Linear", {"out_features": 16}), "ReLU"))
    r = Trainer(g, {"epochs": 2, "batch_size": 16}, dataset=blobs(), callbacks=[rec],
                report_every=0).run()
    (info,) = rec.of("start")
    assert info["steps_per_epoch"] == 6 and info["device"] == "cpu"
    assert info["nodes"]["l1"] == {"name": "linear_1", "label": 'Linear "linear_1"'}
    steps = rec.of("step")
    assert [m["step"] for m in steps] == list(range(1, 13))
    assert sum(len(m["losses"]) for m in steps) == 12 == len(r.step_losses)
    assert all(m["samples_per_s"] and m["lr"] == 1e-3 for m in steps)
    e1, e2 = rec.of("epoch")
    assert (e1["epoch"], e2["epoch"]) == (1, 2)
    for k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "dead_fraction"):
        assert isinstance(e2[k], float), k
    assert set(e2["grad_norms"]) == {"l1", "l3", "l5"} and all(v > 0 for v in e2["grad_norms"].values())
    assert set(e2["dead_by_node"]) == {"l2", "l4"}
    assert len(e2["confusion"]) == 2
    assert rec.events[-1] == ("end", r)


def test_per_step_targets_are_flattened():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5, 3)).astype(np.float32)
    y = (X[..., 0] > 0).astype(np.int64)  # one label per step
    ds = Dataset("steps", "classification", X[:64], y[:64], X[64:], y[64:], (5, 3), "float32",
                 2, ["a", "b"], (5,), "per-step labels")
    g = chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 2}),
              input_shape=(5, 3))
    r = Trainer(g, {"epochs": 15, "batch_size": 16, "optimizer": {"type": "Adam", "lr": 0.02}},
                dataset=ds).run()
    assert r.metrics["val_accuracy"] > 0.9
    assert sum(map(sum, r.confusion)) == 16 * 5


def test_next_token_dataset_trains_with_embedding():
    g = chain(("Embedding", {"num_embeddings": 16, "embedding_dim": 16}),
              ("Linear", {"out_features": 16}), input_shape=("T",), dtype="int64")
    r = Trainer(g, {"dataset": {"name": "next_token", "n": 200}, "epochs": 1}).run()
    assert r.stopped == "completed" and 0 <= r.metrics["val_accuracy"] <= 1


def test_regression_reports_mae_and_rmse():
    g = chain(("Linear", {"out_features": 32}), "Tanh", ("Linear", {"out_features": 1}),
              input_shape=(1,))
    r = Trainer(g, {"dataset": {"name": "sine"}, "epochs": 30, "batch_size": 32,
                    "optimizer": {"type": "Adam", "lr": 0.01}}).run()
    assert r.task == "regression" and r.confusion is None
    assert r.metrics["val_mae"] < 0.2 and r.metrics["val_rmse"] >= r.metrics["val_mae"]
    assert "val_accuracy" not in r.summary()


def test_early_stopping_stops_when_the_monitor_does_not_improve():
    r = Trainer(mlp(), {"epochs": 20, "optimizer": {"type": "SGD", "lr": 0.0},
                        "early_stopping": {"patience": 2}}, dataset=blobs()).run()
    assert r.stopped == "early_stopping" and r.epochs == 3


def test_gradient_accumulation_equals_a_larger_batch():
    ds = blobs(n=64)
    sgd = {"type": "SGD", "lr": 0.1}
    a = Trainer(mlp(), {"epochs": 2, "batch_size": 16, "optimizer": sgd}, dataset=ds)
    b = Trainer(mlp(), {"epochs": 2, "batch_size": 8, "grad_accum_steps": 2, "optimizer": sgd},
                dataset=ds)
    a.run(), b.run()
    for (k, va), vb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.allclose(va, vb, atol=1e-5), k


def test_a_partial_accumulation_group_is_stepped_at_the_end_of_the_epoch():
    # 48 samples in batches of 16: 3 batches per epoch, fewer than the 4 to
    # accumulate, so every update is the end-of-epoch step of a partial group.
    # Its loss is averaged over the 3 batches it really has, so the step is the
    # whole-set gradient: one batch of 48 at the same rate.
    ds = blobs(n=48)
    a = Trainer(mlp(), {"epochs": 2, "batch_size": 48,
                        "optimizer": {"type": "SGD", "lr": 0.1}}, dataset=ds)
    b = Trainer(mlp(), {"epochs": 2, "batch_size": 16, "grad_accum_steps": 4,
                        "optimizer": {"type": "SGD", "lr": 0.1}}, dataset=ds)
    a.prepare()
    start = [v.clone() for v in a.model.state_dict().values()]
    a.run(), b.run()
    moved = False
    for (k, va), vb, v0 in zip(a.model.state_dict().items(), b.model.state_dict().values(),
                               start):
        assert torch.allclose(va, vb, atol=1e-6), k
        moved = moved or not torch.equal(vb, v0)
    assert moved  # the weights did change: a step was taken


@pytest.mark.parametrize("n, accum", [(80, 2), (72, 3)])
def test_accumulation_with_a_shorter_last_group_equals_a_larger_batch(n, accum):
    # 80 in 16s, groups of 2: the epoch's last group has one batch; 72 in 16s,
    # groups of 3: the last group is a batch of 16 and one of 8. Each group's
    # gradient is the mean over its own samples, as one batch of 16 * accum.
    ds = blobs(n=n)
    sgd = {"type": "SGD", "lr": 0.1}
    big = Trainer(mlp(), {"epochs": 2, "batch_size": 16 * accum, "optimizer": sgd}, dataset=ds)
    acc = Trainer(mlp(), {"epochs": 2, "batch_size": 16, "grad_accum_steps": accum,
                          "optimizer": sgd}, dataset=ds)
    rb, ra = big.run(), acc.run()
    for (k, va), vb in zip(big.model.state_dict().items(), acc.model.state_dict().values()):
        assert torch.allclose(va, vb, atol=1e-6), k
    assert ra.history[-1]["train_loss"] == pytest.approx(rb.history[-1]["train_loss"], rel=1e-4)


def test_grad_clip_norm_bounds_each_update():
    t = Trainer(mlp(), {"epochs": 1, "batch_size": 96, "grad_clip_norm": 1e-3,
                        "optimizer": {"type": "SGD", "lr": 1.0}}, dataset=blobs())
    t.prepare()
    before = torch.cat([p.detach().flatten().clone() for p in t.model.parameters()])
    t.run()
    after = torch.cat([p.detach().flatten() for p in t.model.parameters()])
    assert 0 < (after - before).norm() <= 1e-3 + 1e-7


def test_l1_penalty_shrinks_weights():
    def total(l1):
        t = Trainer(mlp(), {"epochs": 5, "l1": l1, "optimizer": {"type": "SGD", "lr": 0.05}},
                    dataset=blobs())
        t.run()
        return sum(p.abs().sum().item() for p in t.model.parameters())

    assert total(0.01) < total(0.0)


def test_amp_on_cpu_trains_in_float32_with_a_note():
    r = Trainer(mlp(), {"epochs": 1, "amp": "bf16"}, dataset=blobs()).run()
    assert r.stopped == "completed"
    assert any("mixed precision" in n for n in r.notes)


def test_compile_falls_back_to_eager_when_unavailable(monkeypatch):
    def broken(model, **kw):
        raise RuntimeError("no C compiler found")

    monkeypatch.setattr(torch, "compile", broken)
    r = Trainer(mlp(), {"epochs": 1, "compile": True}, dataset=blobs()).run()
    assert r.stopped == "completed"
    assert any("torch.compile" in n and "no C compiler" in n for n in r.notes)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_a_gpu_is_a_config_error():
    with pytest.raises(ConfigError, match="training.device: CUDA was asked for"):
        Trainer(mlp(), {"epochs": 1, "device": "cuda"}, dataset=blobs()).run()


def test_init_weights_starts_from_a_finished_runs_model(tmp_path):
    first = Trainer(mlp(), {"epochs": 2, "optimizer": {"type": "Adam", "lr": 0.01}},
                    dataset=blobs(), out_dir=tmp_path / "a")
    first.run()
    saved = load_checkpoint(tmp_path / "a" / "last.pt")["model"]
    again = Trainer(mlp(), {"epochs": 1}, dataset=blobs(), init_weights=tmp_path / "a" / "last.pt")
    again.prepare()
    assert again.epoch == 0
    for k, v in again.model.state_dict().items():
        assert torch.equal(v, saved[k]), k


def test_init_weights_load_what_matches_and_name_what_does_not(tmp_path):
    # issue 17: by name and shape (fine-tuning), no longer all or nothing
    Trainer(mlp(width=8), {"epochs": 1}, dataset=blobs(), out_dir=tmp_path).run()
    saved = load_checkpoint(tmp_path / "last.pt")["model"]
    other = Trainer(mlp(width=16), {"epochs": 1}, dataset=blobs(), init_weights=tmp_path / "last.pt")
    other.prepare()
    rep = other.weights_report
    (first_w, first_b, last_w, last_b) = list(other.model.state_dict())
    assert rep.loaded == [(last_b, "2")]
    assert rep.mismatched == [(first_w, "16×2", "8×2"), (first_b, "16", "8"),
                              (last_w, "2×16", "2×8")]
    assert rep.missing == [] and rep.unexpected == []
    assert torch.equal(other.model.state_dict()[last_b], saved[last_b])
    assert any("1 of 4 tensors" in n for n in other.notes)


def test_a_last_batch_of_one_sample_is_left_out_so_batchnorm_trains():
    """97 samples in batches of 8: a lone 97th sample would stop BatchNorm every epoch."""
    g = mlp(extra=(("BatchNorm1d", {}),))
    rec = Recorder()
    r = Trainer(g, {"epochs": 2, "batch_size": 8, "optimizer": {"type": "Adam", "lr": 0.01}},
                dataset=blobs(n=97), callbacks=[rec]).run()
    assert r.stopped == "completed" and r.fault is None, r.fault
    assert rec.of("start")[0]["steps_per_epoch"] == 12 and len(r.step_losses) == 24
    r = Trainer(g, {"epochs": 1, "batch_size": 8}, dataset=blobs(n=98)).run()
    assert r.stopped == "completed" and len(r.step_losses) == 13  # a last batch of two is kept
