"""Several inputs and outputs in training (``project-format.md``, "Several inputs
and outputs in training"): an ``.npz`` with ``X_<input id>`` and ``y_<output id>``,
a loss per Output (``loss`` by Output id, ``loss_weights``), metrics per Output,
and everything a one-output run does (accumulation, clipping, early stopping,
checkpoints and exact resume, diagnosis) for several.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from graph.project import load_project
from runtime import DataMismatchError, Trainer, TrainingError
from runtime.checkpoint import load_checkpoint
from two_heads import N, arrays, write

def trainer(path: Path, **kw) -> Trainer:
    return Trainer.from_project(load_project(path), **kw)


def weights(t: Trainer, node: str) -> torch.Tensor:
    layer = getattr(t.model, t.setup.code.attrs[node])
    return torch.cat([p.detach().flatten().clone() for p in layer.parameters()])


def test_each_output_has_its_metrics_and_val_loss_is_the_weighted_sum(tmp_path):
    t = trainer(write(tmp_path, {"loss_weights": {"cls": 1.0, "reg": 0.5}}))
    r = t.run()
    m = r.metrics
    assert r.stopped == "completed" and r.epochs == 4
    assert 0.0 <= m["val_accuracy_cls"] <= 1.0 and m["val_mae_reg"] > 0
    assert m["val_loss"] == pytest.approx(m["val_loss_cls"] + 0.5 * m["val_loss_reg"])
    assert "val_accuracy" not in m and "val_mae" not in m
    assert r.class_names == ["0", "1", "2"] and len(r.confusion) == 3  # the class head's
    s = r.summary()
    assert {"val_loss", "val_accuracy_cls", "val_mae_reg"} <= set(s)
    assert r.history[-1]["val_accuracy_cls"] > r.history[0]["val_accuracy_cls"] - 0.05
    assert r.history[-1]["train_loss"] < r.history[0]["train_loss"]


def test_run_start_names_the_trained_outputs(tmp_path):
    seen = {}

    class Rec:
        def on_run_start(self, info):
            seen.update(info)

    trainer(write(tmp_path, {"epochs": 1}, data=arrays(**{"y_reg": 1})),
            callbacks=[Rec()]).run()
    assert [(o["id"], o["task"], o["suffix"], o["loss"]) for o in seen["outputs"]] == [
        ("cls", "classification", "_cls", "CrossEntropyLoss")]


def test_a_loss_weight_of_zero_leaves_that_head_untrained(tmp_path):
    t = trainer(write(tmp_path, {"loss_weights": {"reg": 0}}))
    t.prepare()
    before_reg, before_cls = weights(t, "hr"), weights(t, "hc")
    t.run()
    assert torch.equal(weights(t, "hr"), before_reg)
    assert not torch.equal(weights(t, "hc"), before_cls)


def test_an_output_without_a_target_takes_no_loss(tmp_path):
    t = trainer(write(tmp_path, data=arrays(**{"y_reg": 1})))
    t.prepare()
    before = weights(t, "hr")
    r = t.run()
    assert torch.equal(weights(t, "hr"), before)
    assert "val_accuracy_cls" in r.metrics and not any(k.endswith("_reg") for k in r.metrics)
    assert r.metrics["val_loss"] == pytest.approx(r.metrics["val_loss_cls"])


def test_each_output_takes_its_own_loss(tmp_path):
    # L1Loss on the value head: its validation loss is its mean absolute error
    r = trainer(write(tmp_path, {"loss": {"reg": {"type": "L1Loss"}}})).run()
    assert r.metrics["val_loss_reg"] == pytest.approx(r.metrics["val_mae_reg"], rel=1e-5)
    mse = trainer(write(tmp_path, {})).run()  # the default for values: MSELoss
    assert mse.metrics["val_loss_reg"] == pytest.approx(mse.metrics["val_rmse_reg"] ** 2,
                                                        rel=1e-4)


def test_stop_and_resume_equals_one_run_with_accumulation_and_clipping(tmp_path):
    tr = {"epochs": 3, "grad_accum_steps": 2, "grad_clip_norm": 0.5, "batch_size": 16}
    path = write(tmp_path, tr)
    full = trainer(path, out_dir=tmp_path / "full", report_every=0)
    rf = full.run()

    class StopAt:
        def __init__(self, t):
            self.t = t

        def on_step(self, m):
            if m["step"] >= 15:
                self.t.stop()

    part = trainer(path, out_dir=tmp_path / "part", report_every=0)
    part.callbacks.append(StopAt(part))
    assert part.run().stopped == "stopped"
    ck = load_checkpoint(tmp_path / "part" / "last.pt")
    assert ck["partial"] and ck["epoch_state"]["step"] % 10 != 0
    resumed = trainer(path, out_dir=tmp_path / "part", resume=tmp_path / "part" / "last.pt",
                      report_every=0)
    rr = resumed.run()
    assert rr.epochs == 3 and rr.step_losses == rf.step_losses
    for (k, va), vb in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(va, vb), k
    assert rr.metrics["val_accuracy_cls"] == rf.metrics["val_accuracy_cls"]


def test_early_stopping_watches_the_weighted_val_loss(tmp_path):
    r = trainer(write(tmp_path, {"epochs": 20, "optimizer": {"type": "SGD", "lr": 0.0},
                                 "early_stopping": {"patience": 2}})).run()
    assert r.stopped == "early_stopping" and r.epochs == 3
    kinds = {d["kind"] for d in r.diagnosis}
    assert "underfitting" in kinds  # the diagnosis reads the summed losses


def test_a_single_output_loss_weight_scales_its_loss(tmp_path):
    from support import blobs, chain

    def run(training):
        g = chain(("Linear", {"out_features": 3}), input_shape=(2,))
        return Trainer(g, {"epochs": 1, "optimizer": {"type": "SGD", "lr": 0.0}, **training},
                       dataset=blobs()).run()

    one, two = run({}), run({"loss_weights": {"y": 2}})
    assert two.metrics["train_loss"] == pytest.approx(2 * one.metrics["train_loss"], rel=1e-5)
    assert two.metrics["val_loss"] == pytest.approx(2 * one.metrics["val_loss"], rel=1e-5)
    assert two.metrics["val_accuracy"] == one.metrics["val_accuracy"]


@pytest.mark.parametrize("data, message", [
    (arrays(**{"X_b": 1}),
     "pairs.npz: has no array X_b for the network's Input(s) (arrays in the file: X_a, y_cls, "
     "y_reg); save one array per Input with numpy.savez(path, X_<input id>=..., "
     "y_<output id>=...)"),
    ({**arrays(), "y_other": np.zeros(N)},
     "pairs.npz: array y_other belongs to no node of the network (its Inputs: a, b; its "
     "Outputs: cls, reg); name the arrays X_<input id> and y_<output id>"),
    ({**arrays(), "y_reg": np.zeros(N - 1, np.float32)},
     "pairs.npz: X_a has 200 samples but y_reg has 199; all arrays must have the same "
     "length"),
    (arrays(**{"y_cls": 1, "y_reg": 1}),
     "pairs.npz: has no target array (y_<output id>) for any of the network's Outputs "
     "(cls, reg); arrays in the file: X_a, X_b"),
    ({**arrays(), "X_a": np.full((N, 4), np.nan, np.float32)},
     "pairs.npz: X_a contains NaN or infinite values (first at sample 0); remove or fill "
     "them first"),
])
def test_bad_arrays_are_refused_with_their_names(tmp_path, data, message):
    with pytest.raises(TrainingError) as err:
        trainer(write(tmp_path, data=data)).prepare()
    assert str(err.value) == message


def test_an_input_array_of_the_wrong_shape_names_the_input(tmp_path):
    with pytest.raises(DataMismatchError) as err:
        trainer(write(tmp_path, data={**arrays(), "X_b": np.zeros((N, 5), np.float32)})
                ).prepare()
    assert str(err.value) == ('Input "x_2": dataset "pairs.npz" gives samples of shape 5 '
                              "(float32) but the Input expects 3 (float32); set the Input "
                              "shape to [5]")


def test_the_mixed_precision_step_trains_several_outputs(tmp_path):
    # AMP runs on CUDA only; the same step under CPU autocast (bfloat16) shows that
    # the heads' losses and metrics are taken inside the autocast region too
    t = trainer(write(tmp_path, {"epochs": 2}))
    t.prepare()
    t.session.autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16)
    r = t.run()
    assert r.stopped == "completed" and r.fault is None
    assert np.isfinite(r.metrics["val_loss"]) and 0 <= r.metrics["val_accuracy_cls"] <= 1
    assert r.metrics["val_loss"] == pytest.approx(r.metrics["val_loss_cls"]
                                                  + r.metrics["val_loss_reg"])
