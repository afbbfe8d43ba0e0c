"""Early stopping on one output's metric (issue 13): in a network with several
Outputs, ``early_stopping.monitor`` may name ``val_accuracy_<id>``,
``val_mae_<id>``, ``val_loss_<id>`` or ``val_rmse_<id>`` of an Output of the
graph; any other name is refused with the valid choices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from graph.project import load_project
from graph.training_check import training_problems
from runtime import Trainer
from two_heads import write

ROOT = Path(__file__).resolve().parents[2]


def test_an_outputs_metric_is_a_valid_monitor_and_others_are_named(tmp_path):
    proj = load_project(write(tmp_path))
    ok = dict(proj.training, early_stopping={"patience": 2, "monitor": "val_mae_reg"})
    assert training_problems(ok, proj.graph) == []
    bad = dict(proj.training, early_stopping={"patience": 2, "monitor": "val_mae_head"})
    (p,) = training_problems(bad, proj.graph)
    assert p.location == "training.early_stopping.monitor"
    assert "got 'val_mae_head'" in p.message
    for name in ("val_loss", "val_accuracy_cls", "val_mae_reg", "val_loss_reg"):
        assert name in p.message, name


def test_the_engine_keeps_the_best_epoch_of_the_watched_output(tmp_path):
    seen = []

    class Rec:
        def on_epoch_end(self, m):
            seen.append(m)

    proj = load_project(write(tmp_path, {"epochs": 5, "early_stopping": {
        "patience": 5, "monitor": "val_mae_reg"}}))
    r = Trainer.from_project(proj, callbacks=[Rec()], out_dir=tmp_path / "run").run()
    assert r.stopped == "completed"
    maes = [row["val_mae_reg"] for row in r.history]
    best = seen[-1]["best"]
    assert best["monitor"] == "val_mae_reg"
    assert best["value"] == min(maes) and best["epoch"] == maes.index(min(maes)) + 1


def test_train_refuses_a_monitor_of_no_output_naming_the_choices(tmp_path):
    path = write(tmp_path, {"epochs": 1, "early_stopping": {"patience": 1,
                                                              "monitor": "val_accuracy_x"}})
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", str(path)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert p.returncode != 0
    assert "early_stopping.monitor" in p.stderr and "val_accuracy_x" in p.stderr, p.stderr
    assert "val_accuracy_cls" in p.stderr and "val_mae_reg" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    # the same file with an output's metric trains
    doc = json.loads(path.read_text())
    doc["training"]["early_stopping"]["monitor"] = "val_accuracy_cls"
    path.write_text(json.dumps(doc))
    p = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", str(path)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "val_accuracy_cls" in json.loads(p.stdout.strip().splitlines()[-1])
