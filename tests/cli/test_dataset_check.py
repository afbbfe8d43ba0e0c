"""``check`` checks the network against the chosen dataset, as Start does:
the Conv → ReLU → Linear network on digits is invalid before any training."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from support import chain_file

ROOT = Path(__file__).resolve().parents[2]
CONV_RELU_LINEAR = [
    {"id": "x", "type": "Input", "name": "image", "params": {"shape": [1, 8, 8]}},
    {"id": "c", "type": "Conv2d", "name": "conv", "params": {"out_channels": 32, "kernel_size": 3,
                                                             "padding": 1}},
    {"id": "p", "type": "MaxPool2d", "name": "pool", "params": {"kernel_size": 2}},
    {"id": "r", "type": "ReLU", "name": "relu", "params": {}},
    {"id": "fc", "type": "Linear", "name": "head", "params": {"out_features": 10}},
    {"id": "y", "type": "Output", "name": "logits", "params": {}},
]
SAYS = ('Output "logits": Linear "head" gives N×32×4×10 but the targets are N class labels of '
        "10 classes; the output should be N×10 (one score per class)")


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=60)


@pytest.fixture
def conv_on_digits(tmp_path):
    return chain_file(tmp_path / "p.json", CONV_RELU_LINEAR, {"dataset": {"name": "digits"}}, "c")


def test_check_json_names_the_output_that_does_not_fit_the_targets(conv_on_digits):
    r = run("check", conv_on_digits, "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["valid"] is False
    (p,) = out["problems"]
    assert p == {"severity": "error", "node": "y", "port": "in", "code": "dataset_mismatch",
                 "message": SAYS, "location": "training.dataset"}
    assert out["shapes"]["fc.out"] == ["N", 32, 4, 10]


def test_check_text_says_it_and_the_fixed_network_is_valid(conv_on_digits, capsys, tmp_path):
    assert main.main(["check", str(conv_on_digits)]) == 1
    text = capsys.readouterr().out
    assert f"error  y.in  {SAYS}" in text and "invalid: 1 error, 0 warnings" in text
    fixed = CONV_RELU_LINEAR[:4] + [{"id": "f", "type": "Flatten", "params": {}}] + \
        CONV_RELU_LINEAR[4:]
    path = chain_file(tmp_path / "fixed.json", fixed, {"dataset": {"name": "digits"}}, "c")
    assert main.main(["check", str(path)]) == 0
    assert "valid: 0 errors" in capsys.readouterr().out


def test_check_reads_a_file_dataset_s_header_relative_to_the_project(tmp_path, capsys):
    np.savez(tmp_path / "d.npz", X=np.zeros((6, 3, 5), np.float32), y=np.arange(6) % 2)
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [15]}},
             {"id": "fc", "type": "Linear", "params": {"out_features": 2}},
             {"id": "y", "type": "Output", "params": {}}]
    path = chain_file(tmp_path / "p.json", nodes, {"dataset": {"npz": "d.npz"}}, "f")
    r = run("check", path, "--json")
    (p,) = json.loads(r.stdout)["problems"]
    assert (r.returncode, p["node"], p["code"], p["location"]) == (1, "x", "dataset_mismatch",
                                                                    "training.dataset")
    assert p["message"] == ('Input "x_1": dataset "d.npz" gives samples of shape 3×5 '
                            "(float32) but the Input expects 15 (float32); set the Input shape "
                            "to [3, 5], or keep it and add a Reshape/Flatten after the Input")
    path = chain_file(tmp_path / "p.json", nodes, {"dataset": {"npz": "gone.npz"}}, "f")
    assert main.main(["check", str(path)]) == 1
    assert "error  x  " in (text := capsys.readouterr().out) and "dataset file 'gone.npz' does " \
        "not exist" in text


def test_check_holds_each_input_and_output_to_its_own_array(tmp_path):
    doc = json.loads((ROOT / "resources" / "examples" / "multi_io.json").read_text("utf-8"))
    doc["training"] = {"dataset": {"npz": "two.npz"}}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(doc), "utf-8")
    n = 12
    np.savez(tmp_path / "two.npz", X_img=np.zeros((n, 1, 8, 8), np.float32),
             X_meta=np.zeros((n, 4), np.float32), y_y1=np.arange(n) % 10,
             y_y2=np.zeros(n, np.float32))
    r = run("check", path, "--json")
    assert (r.returncode, json.loads(r.stdout)["problems"]) == (0, []), r.stdout
    np.savez(tmp_path / "two.npz", X_img=np.zeros((n, 1, 8, 8), np.float32),
             X_meta=np.zeros((n, 5), np.float32), y_y1=np.arange(n) % 10,
             y_y2=np.zeros((n, 3), np.float32))
    r = run("check", path, "--json")
    problems = json.loads(r.stdout)["problems"]
    assert r.returncode == 1
    assert [(p["node"], p["code"]) for p in problems] == [("meta", "dataset_mismatch"),
                                                          ("y2", "dataset_mismatch")]
    assert "gives samples of shape 5 (float32) but the Input expects 4" in problems[0]["message"]
    assert "gives N×1 but the regression targets are N×3" in problems[1]["message"]
