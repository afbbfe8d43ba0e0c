"""Per-output metrics in the training protocol (issue 13): the run start lists
the trained outputs and an epoch carries each one's metrics in ``outputs``,
which a history row (the run folder, the CLI) holds flat as ``<metric>_<id>``."""

from __future__ import annotations

from runtime.protocol import Epoch, Kind, RunStart, decode, encode


def test_an_epochs_output_metrics_cross_the_process_boundary_and_flatten_back():
    row = {"epoch": 2, "val_loss": 3.0, "train_loss": 4.0, "val_loss_cls": 1.0,
           "val_accuracy_cls": 0.6, "train_accuracy_cls": 0.5, "val_loss_reg": 2.0,
           "val_mae_reg": 1.1, "val_rmse_reg": 1.4, "dead_by_node": {"r": 0.0}}
    e = Epoch.from_row(row, ["cls", "reg"])
    assert e.outputs == {"cls": {"val_loss": 1.0, "val_accuracy": 0.6, "train_accuracy": 0.5},
                         "reg": {"val_loss": 2.0, "val_mae": 1.1, "val_rmse": 1.4}}
    assert e.val_loss == 3.0 and e.val_accuracy is None
    kind, back = decode(*encode(Kind.EPOCH, e))
    assert back.outputs == e.outputs
    assert back.row() == row


def test_ids_that_end_alike_and_other_suffixed_keys_are_told_apart():
    row = {"epoch": 1, "val_loss_a_b": 1.0, "val_loss_b": 2.0, "dead_by_node": {},
           "val_accuracy_node": 0.5}
    e = Epoch.from_row(row, ["b", "a_b", "node"])
    assert e.outputs == {"a_b": {"val_loss": 1.0}, "b": {"val_loss": 2.0},
                         "node": {"val_accuracy": 0.5}}
    assert e.extra == {"dead_by_node": {}}
    assert Epoch.from_row(row, []).outputs is None  # one Output: plain names, nothing split


def test_the_run_start_lists_the_outputs_with_a_suffix():
    info = {"task": "classification", "outputs": [
        {"id": "cls", "name": "label", "task": "classification", "suffix": "_cls"},
        {"id": "reg", "name": "value", "task": "regression", "suffix": "_reg"}]}
    _kind, start = decode(*encode(Kind.RUN_START, RunStart.from_plain(info)))
    assert [o["name"] for o in start.per_output()] == ["label", "value"]
    one = RunStart.from_plain({"outputs": [{"id": "y", "suffix": ""}]})
    assert one.per_output() == []
