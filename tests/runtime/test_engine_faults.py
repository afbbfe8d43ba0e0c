"""R5: faults during training are explained with the node, and the run keeps
its metrics and last checkpoint; refusals before training name both shapes;
R8: checkpoints that are not plain data are refused."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from runtime import CheckpointError, DataMismatchError, Trainer, TrainingError
from runtime.checkpoint import load_checkpoint
from runtime.data import Dataset
from support import blobs, chain


def net(n_in=2, n_out=2):
    g = chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 8}), "ReLU",
              ("Linear", {"out_features": n_out}), input_shape=(n_in,))
    g.rename("l3", "hidden")
    return g


def inject(trainer, node, at_step, action):
    """Replace a layer's forward so that from its ``at_step``-th training call on
    it runs ``action`` on its output."""
    mod = getattr(trainer.model, trainer.setup.code.attrs[node])
    orig = mod.forward
    calls = [0]

    def forward(x):
        y = orig(x)
        if torch.is_grad_enabled():
            calls[0] += 1
        # from then on the layer stays broken, as a real fault would be
        return action(y) if calls[0] >= at_step else y

    mod.forward = forward


def run_with(action, tmp_path, at_step=8, node="l3", batch_size=16):
    t = Trainer(net(), {"epochs": 3, "batch_size": batch_size}, dataset=blobs(), out_dir=tmp_path)
    t.prepare()
    inject(t, node, at_step, action)
    return t.run()


def test_nan_loss_stops_and_names_the_first_layer_with_nan(tmp_path):
    r = run_with(lambda y: y * float("nan"), tmp_path)  # step 8 = epoch 2, 6 steps per epoch
    assert r.stopped == "error" and r.fault.kind == "nan"
    assert r.fault.node == "l3"
    assert r.fault.message.startswith("the training loss became NaN at epoch 2, step 8: "
                                      'Linear "hidden" is the first layer whose output holds NaN')
    assert "lower the learning rate" in r.fault.message
    assert r.epochs == 1 and len(r.history) == 1 and len(r.step_losses) == 7
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1  # the last good one is kept
    assert r.summary()["error"] == r.fault.message


def test_off_the_cpu_a_nan_loss_seen_late_names_its_step_and_why_no_layer(tmp_path):
    """The GPU path, run on the CPU: losses stay tensors and are checked when reported
    (here once, at the epoch's end); the fault names the step that went bad and does not
    blame a layer whose weights were spoilt by the updates since."""
    t = Trainer(net(), {"epochs": 3, "batch_size": 16}, dataset=blobs(), out_dir=tmp_path,
                report_every=1e9)
    t.prepare()
    t.sync_loss = False  # what every device but the CPU does
    inject(t, "l3", 8, lambda y: y * float("nan"))
    r = t.run()
    assert r.stopped == "error" and r.fault.kind == "nan"
    assert (r.fault.epoch, r.fault.step) == (2, 8)
    assert r.fault.message == (
        "the training loss became NaN at epoch 2, step 8: it was noticed at step 12 (on cpu "
        "the losses are read a few times per second, not every step), when the updates had "
        "already made the weights NaN/Inf, so the layer that produced it cannot be named; "
        "lower the learning rate or set grad_clip_norm, or train briefly on the CPU to find "
        "the layer")
    assert r.fault.node is None
    assert len(r.step_losses) == 7 and all(v == v for v in r.step_losses)
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1


def test_an_infinite_loss_from_finite_outputs_blames_the_loss(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    y = X[:, :1].copy()
    ds = Dataset("line", "regression", X[:48], y[:48], X[48:], y[48:], (2,), "float32", None,
                 None, (1,), "")
    t = Trainer(net(n_out=1), {"epochs": 2, "batch_size": 16}, dataset=ds)
    t.prepare()
    inject(t, "l5", 2, lambda y: y * 1e30)  # finite in float32; its square is not
    r = t.run()
    assert r.fault.kind == "nan" and r.fault.node is None
    assert r.fault.message.startswith("the training loss became infinite at epoch 1, step 2: "
                                      "every layer's output is finite, so the loss function "
                                      "itself produced NaN/Inf")
    assert len(r.step_losses) == 1


def test_diverging_weights_are_named():
    t = Trainer(net(), {"epochs": 5, "optimizer": {"type": "SGD", "lr": 1e30}}, dataset=blobs())
    r = t.run()
    assert r.stopped == "error" and r.fault.kind == "nan"
    assert r.fault.node is not None and 'Linear "' in r.fault.message


def test_exception_inside_a_layer_names_the_node_and_the_error(tmp_path):
    def boom(y):
        raise RuntimeError("kernel exploded\nmore detail")

    r = run_with(boom, tmp_path, at_step=3)
    assert r.stopped == "error" and r.fault.kind == "exception" and r.fault.node == "l3"
    assert r.fault.message == 'Linear "hidden" failed during training: RuntimeError: kernel exploded'
    assert r.fault.error == "RuntimeError: kernel exploded"


def test_out_of_memory_suggests_a_smaller_batch(tmp_path):
    def oom(y):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    r = run_with(oom, tmp_path, at_step=2, batch_size=64)
    assert r.stopped == "error" and r.fault.kind == "oom"
    assert r.fault.suggested_batch_size == 32
    assert r.fault.message == ("out of memory on cpu with batch_size 64; try batch_size 32 "
                               "(or a smaller model, or amp)")


def test_an_error_in_the_first_test_pass_is_refused_before_training():
    g = chain(("Embedding", {"num_embeddings": 4, "embedding_dim": 4}),
              ("Linear", {"out_features": 2}), input_shape=(3,), dtype="int64")
    X = np.full((40, 3), 7, dtype=np.int64)  # token 7 but only 4 embeddings
    y = np.zeros((40, 3), dtype=np.int64)
    ds = Dataset("tok", "classification", X[:32], y[:32], X[32:], y[32:], (3,), "int64", 2,
                 ["a", "b"], (3,), "")
    with pytest.raises(TrainingError) as err:
        Trainer(g, {"epochs": 1}, dataset=ds).prepare()
    assert str(err.value).startswith('Embedding "embedding_1" failed during a first test pass: '
                                     "IndexError: index out of range")


def test_dataset_shape_not_fitting_the_input_names_both_shapes():
    with pytest.raises(DataMismatchError) as err:
        Trainer(net(n_in=3), {"epochs": 1}, dataset=blobs()).prepare()
    msg = str(err.value)
    assert msg.startswith('Input "x_1": ') and "3" in msg and "2" in msg, msg


def test_output_smaller_than_the_number_of_classes_is_refused():
    with pytest.raises(DataMismatchError) as err:
        Trainer(net(n_in=4, n_out=2), {"dataset": {"name": "iris"}}).prepare()
    assert str(err.value) == ('Linear "linear_3" gives 2 scores per prediction (N×2) but the '
                              "dataset has 3 classes; set its size to 3")


def test_multiple_inputs_need_an_array_per_input():
    g = chain(("Linear", {"out_features": 2}), input_shape=(2,))
    g.add_node("Input", {"shape": [2]}, id="x2")
    with pytest.raises(TrainingError) as err:
        Trainer(g, {"epochs": 1}, dataset=blobs()).prepare()
    assert str(err.value) == (
        "the network has 2 Input(s) and 1 Output(s), but dataset 'blobs' gives one input "
        "array and one target array; train it on an .npz file with one array per Input and "
        "per Output (X_<input id>, y_<output id>)")


def test_an_invalid_graph_is_refused_with_its_problems():
    g = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), input_shape=(2,))
    with pytest.raises(TrainingError, match=r"the network has \d+ error\(s\)"):
        Trainer(g, {"epochs": 1}, dataset=blobs()).prepare()


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_checkpoint_with_code_objects_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "netcanvas-checkpoint", "model": Evil()}, path)
    with pytest.raises(CheckpointError, match="refused: it holds objects other than tensors"):
        load_checkpoint(path)
    assert "pwned" not in capsys.readouterr().out


@pytest.mark.parametrize("content,message", [
    (None, "does not exist"),
    (b"not a zip at all", "cannot be read: it is not a PyTorch checkpoint file"),
    (pickle.dumps([1, 2]), "cannot be read: it is not a PyTorch checkpoint file"),
])
def test_unreadable_checkpoints_are_refused(tmp_path, content, message):
    path = tmp_path / "c.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_a_plain_torch_file_is_not_a_netcanvas_checkpoint(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match="is not a NetCanvas checkpoint"):
        load_checkpoint(tmp_path / "c.pt")


def test_resuming_with_another_graph_is_refused(tmp_path):
    Trainer(net(), {"epochs": 1}, dataset=blobs(), out_dir=tmp_path).run()
    other = chain(("Linear", {"out_features": 5}), ("Linear", {"out_features": 2}),
                  input_shape=(2,))
    with pytest.raises(CheckpointError, match="do not fit this network: missing ") as err:
        Trainer(other, {"epochs": 2}, dataset=blobs(), resume=tmp_path / "last.pt").prepare()
    assert "; unexpected " in str(err.value)  # the keys are named, with their shapes
