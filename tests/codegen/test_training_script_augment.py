"""The exported training script applies ``training.augment`` as the app does: it
holds :func:`runtime.augment.augment_batch` verbatim, its copy changes a batch
bit for bit as the app's, and the script trains with it (``export`` from the
command line, then the script in a clean interpreter)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import types
from pathlib import Path

import torch

import main
from codegen.training_script import render
from runtime.augment import augment_batch, augment_generator

ROOT = Path(__file__).resolve().parents[2]
AUG = {"translate": 1, "rotate": 10, "scale": [0.9, 1.1], "crop_pad": 1, "hflip": True,
       "noise": 0.05}


def test_the_script_holds_the_apps_augmentation_verbatim_and_changes_batches_alike(
        monkeypatch):
    src = render("net.py", "Net", "net_train.py", (1, 8, 8), "float32",
                 {"dataset": {"name": "moons"}, "augment": AUG})
    assert inspect.getsource(augment_batch) in src
    assert inspect.getsource(augment_generator) in src
    assert "xb = [augment_batch(x, augment, augment_gen) for x in xb]" in src  # each Input
    module = types.ModuleType("exported_training_script")
    module.__file__ = "/nowhere/net_train.py"
    monkeypatch.setitem(sys.modules, module.__name__, module)  # its dataclasses look it up
    exec(compile(src, "net_train.py", "exec"), module.__dict__)
    ns = module.__dict__
    x = torch.rand(32, 1, 8, 8)
    mine = ns["augment_batch"](x, AUG, ns["augment_generator"](7, "cpu"))
    assert torch.equal(mine, augment_batch(x, AUG, augment_generator(7, "cpu")))


def test_without_augment_the_script_carries_no_augmentation_code():
    src = render("net.py", "Net", "net_train.py", (1, 8, 8), "float32",
                 {"dataset": {"name": "digits"}})
    assert "def augment_batch" not in src


def test_an_exported_augmented_lenet_trains_one_epoch(tmp_path, capsys):
    project = json.loads((ROOT / "resources" / "templates" / "lenet_digits.json").read_text())
    project["training"].update(augment=AUG, epochs=1, batch_size=64)
    project["training"]["dataset"]["n"] = 300
    path = tmp_path / "lenet.json"
    path.write_text(json.dumps(project))
    assert main.main(["export", str(path), "-o", str(tmp_path / "net.py"),
                      "--training-script"]) == 0
    script = next(p for p in tmp_path.glob("*.py") if p.name != "net.py")
    r = subprocess.run([sys.executable, "-I", str(script), "--epochs", "1", "--device", "cpu",
                        "--out", str(tmp_path / "runs")], cwd=tmp_path, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout.strip().splitlines()[-1])["epochs"] == 1
