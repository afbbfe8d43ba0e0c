"""The gradient-norm plot of a network with units names each inner layer as
the canvas and the code do (``trunk.2.lin``, not the node id ``n7``): the
events of a real training process dispatched into the training view, its
legend, its diagnosis and the run's files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from test_training_parts import parts

from graph.project import load_project, project_to_dict
from gui.training.run_store import METRICS_FILE, save_run
from gui.training.runs import RunRecord
from runtime.remote import RemoteRun

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from test_grad_norm_names import LAYERS, project_file  # noqa: E402


def test_the_gradient_plot_legend_and_the_run_files_use_the_layer_names(qtbot, tmp_path):
    project = load_project(project_file(tmp_path))
    run = RemoteRun(dict(network=project_to_dict(project), training=project.training,
                         name=project.name))
    run.start()
    events = list(run.events())
    assert run.close() == 0
    live, _ = parts(qtbot)
    live.save = save_run
    rec = RunRecord("run 1", project.training, project.graph, tmp_path / "run1",
                    name=project.name)
    live.runs.add(rec)
    live.plots.add_run(rec.id, metrics=rec.metrics)
    live.begin(rec, None)
    live.view.show()
    for kind, payload in events:
        live.dispatch(kind, payload)
    live.plots.flush()
    legend = [label.text for _, label in
              live.plots.panels["grad_norm"].getPlotItem().legend.items]
    assert legend == LAYERS
    assert [k for k in rec.metrics.series if k.startswith("grad_norm/")] == \
        [f"grad_norm/{name}" for name in LAYERS]
    text = live.view.diagnosis.plain_text()
    assert '"trunk.2.lin": the gradient of trunk.2.lin has norm' in text and "n7" not in text
    lines = [json.loads(ln) for ln in (tmp_path / "run1" / METRICS_FILE).read_text().splitlines()]
    (row,) = [ln["epoch"] for ln in lines if "epoch" in ln]
    assert list(row["grad_norms"]) == LAYERS
