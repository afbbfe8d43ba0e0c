"""The training event protocol (runtime.protocol): one definition of every event,
its payload type and its plain form; bad events are refused with a message."""

from __future__ import annotations

import ast
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runtime.protocol import (EMIT_EVERY, FINAL, PAYLOADS, Epoch, Grid, Histogram, Kind, Paused,
                              Points, ProtocolError, Refused, RunStart, Steps, decode, encode)

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_has_one_payload_type_and_a_plain_name():
    assert {k.value for k in Kind} == {"run_start", "points", "steps", "epoch", "grid",
                                       "histogram", "paused", "run_end", "refused"}
    assert set(PAYLOADS) == set(Kind) - {Kind.RUN_END}  # RUN_END carries a RunResult
    assert FINAL == {Kind.RUN_END, Kind.REFUSED} and Kind.STEPS == "steps"
    assert 0 < EMIT_EVERY < 0.1  # 10-30 updates a second, what a person can see
    from runtime.protocol import RunResult
    from runtime.result import RunResult as engine_result

    assert RunResult is engine_result  # the one result type, named by the protocol


@pytest.mark.parametrize("kind, payload", [
    (Kind.RUN_START, RunStart(task="regression", device="cpu", epochs=4, steps_per_epoch=7,
                              nodes={"l1": {"name": "hidden", "label": 'Linear "hidden"'}},
                              extra={"params": 123, "dataset": "sine"})),
    (Kind.STEPS, Steps([5, 6], [0.5, 0.25], epoch=1, step=6, lr=0.1, samples_per_s=1e4,
                       extra={"epoch_progress": 0.5})),
    (Kind.EPOCH, Epoch(epoch=2, step=14, train_loss=0.4, val_loss=0.5, val_mae=0.3,
                       grad_norms={"hidden": 0.2}, diagnosis=[{"kind": "x", "message": "m"}],
                       extra={"val_rmse": 0.6, "seconds": 1.5})),
    (Kind.PAUSED, Paused(True)),
    (Kind.REFUSED, Refused("no data")),
])
def test_events_survive_their_plain_form_as_json_and_pickle(kind, payload):
    name, plain = encode(kind, payload)
    assert name == kind.value and isinstance(plain, dict)
    assert decode(*json.loads(json.dumps([name, plain]))) == (kind, payload)
    assert decode(*pickle.loads(pickle.dumps((name, plain)))) == (kind, payload)


def test_array_payloads_cross_as_numpy():
    grid = Grid(np.zeros((4, 4, 2)), (0.0, 1.0, 0.0, 1.0))
    kind, back = decode(*pickle.loads(pickle.dumps(encode(Kind.GRID, grid))))
    assert kind is Kind.GRID and back.probabilities.shape == (4, 4, 2)
    h = Histogram("l1", "gradients", np.arange(3.0), np.array([1, 2]))
    assert decode(*encode("histogram", h))[1].counts.tolist() == [1, 2]
    p = decode(*encode(Kind.POINTS, Points(np.ones(3), np.zeros(3), np.arange(3), 3)))[1]
    assert p.num_classes == 3 and p.labels.tolist() == [0, 1, 2]


def test_metrics_a_payload_does_not_declare_are_kept_not_dropped():
    e = Epoch.from_plain({"epoch": 3, "val_loss": 0.5, "dead_fraction": 0.25, "seconds": 2.0})
    assert e.val_loss == 0.5 and e.extra == {"dead_fraction": 0.25, "seconds": 2.0}
    # a history row says what was measured, nothing more (no None for the unmeasured)
    assert e.row() == {"epoch": 3, "val_loss": 0.5, "dead_fraction": 0.25, "seconds": 2.0}
    assert "train_mae" not in Epoch(epoch=1, train_accuracy=0.5).row()


def test_a_node_id_is_named_by_its_layer():
    info = RunStart(nodes={"l1": {"name": "hidden"}})
    assert info.name_of("l1") == "hidden" and info.name_of("add") == "add"
    assert info.name_of(None) is None


@pytest.mark.parametrize("event, message", [
    (("stepz", {}), "unknown training event 'stepz'; events are run_start, points, steps"),
    (("steps", [1, 2]), "a Steps payload is a dict, got list"),
    (("run_end", "done"), "a RunResult payload is a dict, got str"),
    (("run_end", {"stopped": "completed"}), "bad RunResult payload: "),
])
def test_a_bad_event_is_refused_with_its_reason(event, message):
    with pytest.raises(ProtocolError, match=message.replace("(", r"\(")):
        decode(*event)


def test_an_event_with_another_kinds_payload_is_refused():
    with pytest.raises(ProtocolError, match="a steps event carries a Steps, got Epoch"):
        encode(Kind.STEPS, Epoch(epoch=1))
    with pytest.raises(ProtocolError, match="a run_end event carries a RunResult, got dict"):
        encode(Kind.RUN_END, {"stopped": "completed"})


def test_the_protocol_imports_neither_qt_nor_torch():
    code = ("import sys, runtime.protocol as p; p.Kind.STEPS; "
            "print(sorted(m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_child_side_does_not_import_the_parent_side():
    """The protocol's constants live in runtime.protocol: no remote <-> remote_child loop."""
    tree = ast.parse((ROOT / "runtime" / "remote_child.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "remote" not in imported and "runtime.remote" not in imported
    assert "protocol" in imported
