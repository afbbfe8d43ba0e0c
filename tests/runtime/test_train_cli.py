"""``python main.py train`` as a user runs it: a subprocess, the last stdout
line one JSON object, files in the run folder, exit codes."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import chain_file

ROOT = Path(__file__).resolve().parents[2]


def project(tmp_path: Path, training: dict, nodes=None, name="Blobs net") -> Path:
    nodes = nodes or [
        {"id": "x", "type": "Input", "params": {"shape": [4], "dtype": "float32"}},
        {"id": "h", "type": "Linear", "name": "hidden", "params": {"out_features": 16}},
        {"id": "a", "type": "ReLU", "params": {}},
        {"id": "o", "type": "Linear", "name": "classifier", "params": {"out_features": 3}},
        {"id": "y", "type": "Output", "params": {}},
    ]
    return chain_file(tmp_path / "proj.json", nodes, training, name)


def train(*args, cwd=ROOT):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "train", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


IRIS = {"dataset": {"name": "iris"}, "optimizer": {"type": "Adam", "lr": 0.02},
        "epochs": 5, "batch_size": 16}


def test_train_prints_json_last_and_writes_metrics_and_checkpoints(tmp_path):
    out = tmp_path / "run"
    p = train(project(tmp_path, IRIS), "--epochs", 3, "--out", out, "--seed", 1)
    assert p.returncode == 0, p.stderr
    last = json.loads(p.stdout.strip().splitlines()[-1])
    assert last["epochs"] == 3 and last["stopped"] == "completed"
    for k in ("train_loss", "val_loss", "val_accuracy"):
        assert isinstance(last[k], float), k
    assert 0.0 <= last["val_accuracy"] <= 1.0
    assert "epoch 3/3" in p.stderr and "samples/s" in p.stderr
    # the bar shows the epoch's running training accuracy from epoch 1 on
    assert re.search(r"epoch=1/3, loss=[0-9.]+, acc=\d+\.\d%", p.stderr), p.stderr
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert {"train_loss", "val_loss", "val_accuracy", "lr", "grad_norm:hidden",
            "grad_norm:classifier"} <= set(rows[0])
    assert (out / "best.pt").exists() and (out / "last.pt").exists()
    assert last["checkpoints"]["last"] == str(out / "last.pt")


def test_resume_continues_from_a_checkpoint(tmp_path):
    out = tmp_path / "run"
    assert train(project(tmp_path, IRIS), "--epochs", 2, "--out", out).returncode == 0
    p = train(tmp_path / "proj.json", "--epochs", 4, "--resume", out / "last.pt")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.splitlines()[-1])["epochs"] == 4
    assert len(list(csv.DictReader((out / "metrics.csv").open()))) == 4  # same folder
    again = train(tmp_path / "proj.json", "--epochs", 4, "--resume", out / "last.pt")
    assert again.returncode == 1
    msg = (f"nothing left to do: checkpoint {str(out / 'last.pt')!r} has already trained 4 "
           "epochs and this run asks for 4; ask for more epochs than 4 (--epochs)")
    assert f"error: {msg}" in again.stderr
    assert json.loads(again.stdout.splitlines()[-1]) == {"epochs": 0, "stopped": "refused",
                                                         "error": msg}


def test_regression_reports_val_mae_in_a_run_folder_next_to_the_project(tmp_path):
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [1]}},
             {"id": "h", "type": "Linear", "params": {"out_features": 16}},
             {"id": "a", "type": "Tanh", "params": {}},
             {"id": "o", "type": "Linear", "params": {"out_features": 1}},
             {"id": "y", "type": "Output", "params": {}}]
    p = train(project(tmp_path, {"dataset": {"name": "sine"}, "epochs": 2}, nodes,
                      name="My Net!"), "--batch-size", 32)
    assert p.returncode == 0, p.stderr
    last = json.loads(p.stdout.splitlines()[-1])
    assert isinstance(last["val_mae"], float) and "val_accuracy" not in last
    assert re.search(r"mae=[0-9.]+", p.stderr), p.stderr
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("my-net-") and (run / "metrics.csv").exists()
    assert (run / "last.pt").exists()


def test_unreadable_project_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    p = train(bad)
    assert p.returncode == 2
    assert "bad.json" in p.stderr and "not valid JSON" in p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize("training,args,message", [
    ({**IRIS, "optimizer": {"type": "Adamm"}}, (),
     "error: training.optimizer.type: unknown optimizer 'Adamm'; did you mean 'Adam'?"),
    ({**IRIS, "dataset": {"name": "spirals"}}, (),
     'error: Input "x_1": dataset "spirals" gives samples of shape 2'),
    (IRIS, ("--device", "tpu"), "error: training.device: must be one of auto"),
    ({**IRIS, "dataset": {"csv": "nope.csv", "target": "y"}}, (),
     "error: dataset file 'nope.csv' does not exist (looked in "),
])
def test_training_errors_exit_1_with_a_message_and_the_json_line(tmp_path, training, args,
                                                                  message):
    p = train(project(tmp_path, training), "--out", tmp_path / "r", *args)
    assert p.returncode == 1
    assert message in p.stderr, p.stderr
    error = next(ln for ln in p.stderr.splitlines() if ln.startswith("error: "))[7:]
    assert json.loads(p.stdout.splitlines()[-1]) == {"epochs": 0, "stopped": "refused",
                                                     "error": error}
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_a_fault_during_training_exits_1_and_still_prints_json(tmp_path):
    p = train(project(tmp_path, {**IRIS, "optimizer": {"type": "SGD", "lr": 1e30}}),
              "--out", tmp_path / "r")
    assert p.returncode == 1
    last = json.loads(p.stdout.splitlines()[-1])
    assert last["stopped"] == "error" and last["fault"]["kind"] == "nan"
    assert "error: the training loss became" in p.stderr


def test_train_init_weights_flag_names_a_missing_checkpoint(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    proj = root / "resources" / "templates" / "mlp_spirals.json"
    r = subprocess.run([sys.executable, str(root / "main.py"), "train", str(proj), "--epochs", "1",
                        "--init-weights", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "nope.pt" in r.stderr, r.stderr
    last = json.loads(r.stdout.strip().splitlines()[-1])
    assert last["stopped"] == "refused" and "nope.pt" in last["error"]


def test_a_model_too_large_for_the_machine_is_refused_before_allocating(tmp_path):
    # a Conv2d with 999,999,999 output channels: 10 G parameters, 40 GB of weights and
    # 160 GB with gradients and Adam's moments; it used to die in DefaultCPUAllocator
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [1, 8, 8]}},
             {"id": "c", "type": "Conv2d", "name": "wide",
              "params": {"out_channels": 999_999_999, "kernel_size": 3}},
             {"id": "p", "type": "AdaptiveAvgPool2d", "params": {"output_size": 1}},
             {"id": "f", "type": "Flatten", "params": {}},
             {"id": "y", "type": "Output", "params": {}}]
    p = train(project(tmp_path, {"dataset": {"name": "digits"}, "epochs": 1}, nodes), "--out",
              tmp_path / "run", "--device", "cpu")
    assert p.returncode == 1
    msg = json.loads(p.stdout.strip().splitlines()[-1])["error"]
    assert msg.startswith("the model is too large for the memory of cpu: one training step at "
                          "batch size 64 needs ≈ ")
    assert "(weights 40.0 GB, gradients 40.0 GB, optimizer 80.0 GB, activations " in msg
    assert msg.endswith('not even one sample fits — make Conv2d "wide" (10.0 G parameters) '
                        "smaller, or train on a device with more memory")
    assert f"error: {msg}" in p.stderr and "Traceback" not in p.stderr


def test_a_two_input_two_output_network_trains_with_metrics_per_output(tmp_path):
    from two_heads import write

    out = tmp_path / "run"
    p = train(write(tmp_path, {"loss_weights": {"reg": 0.5}}), "--epochs", 2, "--out", out)
    assert p.returncode == 0, p.stderr
    last = json.loads(p.stdout.strip().splitlines()[-1])
    assert last["epochs"] == 2 and last["stopped"] == "completed"
    for k in ("train_loss", "val_loss", "val_accuracy_cls", "val_mae_reg"):
        assert isinstance(last[k], float), k
    assert "val_accuracy" not in last and "val_mae" not in last
    assert re.search(r"epoch 2/2 .*val_accuracy_cls \d+\.\d% .*val_mae_reg [0-9.]+", p.stderr)
    assert (out / "last.pt").exists()
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert {"val_loss", "val_loss_cls", "val_accuracy_cls", "val_loss_reg",
            "val_mae_reg"} <= set(rows[0])


def test_a_missing_input_array_is_refused_with_its_name(tmp_path):
    from two_heads import arrays, write

    p = train(write(tmp_path, data=arrays(**{"X_b": 1})), "--out", tmp_path / "run")
    assert p.returncode == 1
    msg = ("pairs.npz: has no array X_b for the network's Input(s) (arrays in the file: X_a, "
           "y_cls, y_reg); save one array per Input with numpy.savez(path, X_<input id>=..., "
           "y_<output id>=...)")
    assert f"error: {msg}" in p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {
        "epochs": 0, "stopped": "refused", "error": msg}
