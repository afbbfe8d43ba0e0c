"""Hand-edited training sections through every command (the bad-input issue,
quality.md R9): ``check`` and ``summary`` report them with their location,
``export`` still writes the model but refuses a training script, ``train``
refuses with the message — never a traceback, never a hang."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import main

ROOT = Path(__file__).resolve().parents[2]
NODES = [{"id": "x", "type": "Input", "params": {"shape": [4]}},
         {"id": "fc", "type": "Linear", "name": "classifier", "params": {"out_features": 3}},
         {"id": "y", "type": "Output", "params": {}}]
EDGES = [{"source": "x", "target": "fc"}, {"source": "fc", "target": "y"}]
GOOD = {"dataset": {"name": "iris"}, "epochs": 1, "batch_size": 16, "device": "cpu"}

#: key → (bad value, the location, the start of the message after it)
BAD = {
    "loss": ("CrossEntropyLoss", "training.loss",
             'expected an object like {"type": "CrossEntropyLoss"}, got a string'),
    "dataset": ("iris", "training.dataset", 'expected an object like {"name": "digits"}'),
    "optimizer": ("Adam", "training.optimizer", 'expected an object like {"type": "Adam"}'),
    "scheduler": ("StepLR", "training.scheduler", 'expected an object like {"type": "StepLR"}'),
    "early_stopping": ("soon", "training.early_stopping", "expected null or an object"),
    "task": (["classification"], "training.task", "must be one of classification"),
    "device": (["cpu"], "training.device", "must be one of auto, cpu, cuda, mps, got a list"),
    "batch_size": ([16], "training.batch_size", "must be a whole number, got a list"),
    "optimizer.lr": ({"type": "Adam", "lr": "fast"}, "training.optimizer.lr",
                     "must be a number, got 'fast'"),
    "dataset.val_fraction": ({"name": "iris", "val_fraction": "x"},
                             "training.dataset.val_fraction", "must be a number, got 'x'"),
    "dataset.name": ({"name": ["iris"]}, "training.dataset.name",
                     "must be the name of a built-in dataset"),
    "seed": (2**32, "training.seed", "must be at most 4294967295"),
    "scheduler.max_lr": ({"type": "OneCycleLR", "max_lr": -0.1}, "training.scheduler.max_lr",
                         "must be a number > 0"),
    "scheduler.milestones": ({"type": "MultiStepLR", "milestones": [5, 5]},
                             "training.scheduler.milestones",
                             "must be a list of increasing whole numbers"),
}


def write(tmp_path, training, nodes=NODES, name="p.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"format": "netcanvas", "version": 1, "name": "Bad settings",
                                "nodes": nodes, "edges": EDGES, "training": training}), "utf-8")
    return path


def bad(tmp_path, key):
    value = BAD[key][0]
    top = key.split(".")[0]
    return write(tmp_path, {**GOOD, top: value})


@pytest.mark.parametrize("key", BAD)
def test_check_lists_the_mistake_at_its_location_and_exits_1(tmp_path, capsys, key):
    _, where, text = BAD[key]
    assert main.main(["check", str(bad(tmp_path, key))]) == 1
    out = capsys.readouterr().out
    assert f"error  {where}  {text}" in out
    assert "fc.out  N×3" in out  # the network is analysed as ever
    assert out.rstrip().endswith("invalid: 1 error, 0 warnings")


@pytest.mark.parametrize("key", BAD)
def test_check_json_gives_the_location(tmp_path, capsys, key):
    _, where, text = BAD[key]
    assert main.main(["check", str(bad(tmp_path, key)), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    (p,) = report["problems"]
    assert p["location"] == where and p["node"] is None and p["code"] == "bad_training"
    assert p["message"].startswith(f"{where}: {text}")
    assert report["valid"] is False and report["shapes"]["fc.out"] == ["N", 3]


def test_summary_counts_the_mistake_without_crashing(tmp_path, capsys):
    assert main.main(["summary", str(bad(tmp_path, "loss"))]) == 1
    out = capsys.readouterr().out
    assert "classifier" in out and "invalid: 1 error (0 warnings); run `check" in out


@pytest.mark.parametrize("key", ["loss", "dataset.name", "seed", "scheduler.milestones"])
def test_export_writes_the_model_but_refuses_the_training_script(tmp_path, capsys, key):
    path = bad(tmp_path, key)
    _, where, text = BAD[key]
    out = tmp_path / "model.py"
    assert main.main(["export", str(path), "-o", str(out)]) == 0  # the model is fine
    assert out.exists()
    out.unlink()
    assert main.main(["export", str(path), "-o", str(out), "--training-script"]) == 1
    err = capsys.readouterr().err
    assert f"error: cannot write the training script: {where}: {text}" in err
    assert not out.exists() and not (tmp_path / "model_train.py").exists()


@pytest.mark.parametrize("key", BAD)
def test_train_refuses_with_the_message(tmp_path, capsys, key):
    _, where, text = BAD[key]
    assert main.main(["train", str(bad(tmp_path, key)), "--out", str(tmp_path / "run")]) == 1
    captured = capsys.readouterr()
    assert f"error: {where}: {text}" in captured.err
    last = json.loads(captured.out.strip().splitlines()[-1])
    assert last["stopped"] == "refused" and last["error"].startswith(f"{where}: {text}")
    assert not (tmp_path / "run" / "last.pt").exists()


def test_a_bad_seed_on_the_command_line_is_refused(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert main.main(["train", str(path), "--seed", str(2**32), "--out",
                      str(tmp_path / "run")]) == 1
    assert "error: training.seed: must be at most 4294967295, got 4294967296" in \
        capsys.readouterr().err


def test_train_names_the_first_of_several_mistakes_and_counts_the_rest(tmp_path, capsys):
    path = write(tmp_path, {"loss": "MSELoss", "dataset": {"name": "iris"}, "batch_size": [1],
                            "lr": 0.1})
    assert main.main(["train", str(path)]) == 1
    assert ("error: training.loss: expected an object like {\"type\": \"CrossEntropyLoss\"}, "
            'got a string; write {"type": "MSELoss"} (and 2 more problems in the training '
            "settings)") in capsys.readouterr().err


def test_augment_noise_trains_and_an_image_key_on_a_vector_input_is_refused(tmp_path, capsys):
    path = write(tmp_path, {**GOOD, "augment": {"noise": 0.1}})
    assert main.main(["check", str(path)]) == 0  # a documented key, well formed
    assert main.main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    path = write(tmp_path, {**GOOD, "augment": {"noise": 0.1, "rotate": 10}})
    assert main.main(["train", str(path), "--out", str(tmp_path / "run2")]) == 1
    assert ('error: training.augment.rotate: rotate applies to image inputs (C×H×W float '
            'samples), and this network has none (Input "x_1" gives 4 float samples); remove '
            'rotate') in capsys.readouterr().err


def test_a_per_output_loss_trains_the_one_output(tmp_path, capsys):
    path = write(tmp_path, {**GOOD, "loss": {"y": {"type": "MultiMarginLoss"}}})
    assert main.main(["check", str(path)]) == 0
    assert main.main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs"] == 1


def test_nll_loss_without_log_softmax_is_a_warning_in_check(tmp_path, capsys):
    path = write(tmp_path, {**GOOD, "loss": {"type": "NLLLoss"}})
    assert main.main(["check", str(path)]) == 0  # a warning: still valid
    out = capsys.readouterr().out
    assert ('warning  y.in  training.loss: NLLLoss expects log-probabilities, but Output '
            '"output_1" receives the output of Linear "classifier"; insert a LogSoftmax') in out


def run(*args, timeout=100):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT,
                          timeout=timeout)


def test_the_reported_file_through_real_processes(tmp_path):
    """The one-word hand edit of the report: no command shows a traceback."""
    path = bad(tmp_path, "loss")
    for args, code in ((["check", path], 1), (["summary", path], 1),
                       (["export", path, "-o", tmp_path / "m.py"], 0),
                       (["export", path, "-o", tmp_path / "n.py", "--training-script"], 1),
                       (["train", path, "--out", tmp_path / "run"], 1)):
        r = run(*args)
        assert r.returncode == code, (args, r.stderr)
        assert "Traceback" not in r.stderr, r.stderr


def test_an_absurd_number_of_layers_is_refused_at_once(tmp_path):
    """num_layers 2³²+1 used to hang ``train`` past 120 s (torch loops over the layers)."""
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [6, 2]}},
             {"id": "fc", "type": "LSTM", "params": {"hidden_size": 8,
                                                     "num_layers": 4294967297,
                                                     "return_sequences": False}},
             {"id": "y", "type": "Output", "params": {}}]
    path = write(tmp_path, {"dataset": {"name": "adding", "n": 40, "seq_len": 6},
                            "epochs": 1, "device": "cpu"}, nodes)
    r = run("check", path)
    assert r.returncode == 1
    assert "num_layers must be at most 2,147,483,647 (2³¹ − 1), got 4,294,967,297" in r.stdout
    r = run("train", path, "--out", tmp_path / "run", timeout=60)
    assert r.returncode == 1 and "num_layers must be at most 2,147,483,647" in r.stderr
    assert "Traceback" not in r.stderr


def test_export_refuses_a_script_for_a_bad_setting_before_writing(tmp_path, capsys):
    # loss_weights is applied by the script now; a weight for no Output is refused
    path = write(tmp_path, {**GOOD, "loss_weights": {"q": 2}})
    out = tmp_path / "model.py"
    assert main.main(["export", str(path), "-o", str(out), "--training-script"]) == 1
    err = capsys.readouterr().err
    assert "error: cannot write the training script: training.loss_weights.q: the network " \
           "has no Output with id 'q'" in err
    assert not out.exists()
    path = write(tmp_path, {**GOOD, "loss_weights": {"y": 2}})
    assert main.main(["export", str(path), "-o", str(out), "--training-script"]) == 0
    assert "'loss_weights': {'y': 2}" in (tmp_path / "model_train.py").read_text("utf-8")
