"""Greedy decodes of validation samples after each epoch (issue 13 item 2):
a teacher-forced sequence-to-sequence run's ``on_epoch_end`` carries three,
as plain lists of token ids; every other run carries none."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.project import load_project
from runtime import Trainer

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


class Recorder:
    def __init__(self):
        self.epochs = []

    def on_epoch_end(self, metrics):
        self.epochs.append(metrics)


def _run(name: str, **training) -> list[dict]:
    project = load_project(TEMPLATES / f"{name}.json")
    project.training = {**project.training, "epochs": 1, "device": "cpu", **training}
    rec = Recorder()
    Trainer.from_project(project, callbacks=[rec]).run()
    return rec.epochs


@pytest.mark.parametrize("name", ["transformer_reverse", "lstm_attention_reverse"])
def test_seq2seq_epoch_carries_three_greedy_samples(name):
    project = load_project(TEMPLATES / f"{name}.json")
    ds = {**project.training["dataset"], "n": 200, "seq_len": 5}
    epochs = _run(name, dataset=ds, epochs=2)
    assert len(epochs) == 2
    for metrics in epochs:
        samples = metrics["samples"]
        assert len(samples) == 3
        for s in samples:
            assert len(s["input"]) == len(s["target"]) == len(s["prediction"]) == 5
            assert all(isinstance(t, int) for t in s["input"] + s["prediction"])
            # the reverse set: the target is the source reversed
            assert s["target"] == s["input"][::-1]
            assert s["correct"] == (s["prediction"] == s["target"])
    # the same fixed validation samples each epoch
    assert [s["input"] for s in epochs[0]["samples"]] == \
        [s["input"] for s in epochs[1]["samples"]]
    json.dumps(epochs[-1]["samples"])  # plain data, ready for the protocol


def test_other_run_carries_no_samples():
    epochs = _run("mlp_spirals")
    assert epochs and epochs[0]["samples"] is None


def test_samples_cross_the_protocol_but_stay_out_of_history_rows():
    from runtime.protocol import Epoch, Kind, decode, encode

    samples = _run("transformer_reverse",
                   dataset={"name": "reverse", "n": 100, "seq_len": 4, "val_fraction": 0.2})
    row = samples[0]
    # the child's bridge builds the event from the engine's metrics like this
    e = Epoch.from_row(row)
    kind, back = decode(*json.loads(json.dumps(encode(Kind.EPOCH, e))))
    assert back.samples == row["samples"] and len(back.samples) == 3
    assert "samples" not in back.row() and "samples" not in back.extra
