"""Per-layer gradient norms inside units are named as the user sees them: the
instance's name (as on the canvas and in the code), then the module path, as
in the state dict (``trunk.2.lin``), never by the instance's node id: in the
engine's run-start names, metrics.csv, the events the window receives, and
the diagnosis text."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import main
from graph.project import load_project, project_to_dict
from runtime.protocol import Kind
from runtime.remote import RemoteRun

#: a unit repeated three times under node id "n7" named "trunk"; the head's huge
#: initial weights make the last inner layer's gradient explode, so the
#: diagnosis has to name it
DOC = {
    "format": "netcanvas", "version": 2, "name": "explode",
    "units": {"Dense": {
        "params": {"width": 16},
        "nodes": [{"id": "x", "type": "Input"},
                  {"id": "l", "type": "Linear", "name": "lin",
                   "params": {"out_features": "$width", "init": "constant",
                              "init_scale": 0.1}},
                  {"id": "y", "type": "Output"}],
        "edges": [{"source": "x", "target": "l"}, {"source": "l", "target": "y"}]}},
    "nodes": [{"id": "in", "type": "Input", "name": "features", "params": {"shape": [4]}},
              {"id": "n7", "type": "Dense", "name": "trunk", "repeat": 3},
              {"id": "c9", "type": "Linear", "name": "head",
               "params": {"out_features": 3, "init": "normal", "init_scale": 1000.0}},
              {"id": "out", "type": "Output"}],
    "edges": [{"source": "in", "target": "n7"}, {"source": "n7", "target": "c9"},
              {"source": "c9", "target": "out"}],
    "training": {"dataset": {"name": "iris"}, "epochs": 1, "batch_size": 16, "device": "cpu"},
}
LAYERS = ["trunk.0.lin", "trunk.1.lin", "trunk.2.lin", "head"]


def project_file(tmp_path: Path) -> Path:
    path = tmp_path / "explode.json"
    path.write_text(json.dumps(DOC))
    return path


def test_metrics_csv_and_the_diagnosis_name_a_units_layers_by_state_dict_names(tmp_path,
                                                                               capsys):
    out = tmp_path / "run"
    assert main.main(["train", str(project_file(tmp_path)), "--out", str(out)]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert [h for h in header if h.startswith("grad_norm:")] == \
        [f"grad_norm:{name}" for name in LAYERS]
    (exploding,) = [d for d in last["diagnosis"] if "has norm" in d]
    assert exploding.startswith("the gradient of trunk.2.lin has norm")
    assert "n7" not in " ".join(last["diagnosis"])


def test_the_events_for_the_window_carry_the_names(tmp_path):
    project = load_project(project_file(tmp_path))
    run = RemoteRun(dict(network=project_to_dict(project), training=project.training,
                         name=project.name))
    run.start()
    events = list(run.events())
    assert run.close() == 0
    start = next(p for k, p in events if k == Kind.RUN_START)
    assert start.name_of("n7.2.lin") == "trunk.2.lin" and start.name_of("c9") == "head"
    (epoch,) = [p for k, p in events if k == Kind.EPOCH]
    assert list(epoch.grad_norms) == LAYERS
    (finding,) = [f for f in epoch.diagnosis if f["kind"] == "exploding_gradients"]
    assert "trunk.2.lin" in finding["message"] and start.name_of(finding["node"]) == "trunk.2.lin"
