"""A frozen normalisation layer keeps its running statistics (issue 17 item 3):
a frozen BatchNorm, alone or inside a frozen unit instance, runs as in
evaluation while the rest trains, so ``train`` (the engine) and the exported
training script leave its running mean and variance, its batch count and its
parameters exactly as they were — the Keras convention for ``trainable=False``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from support import chain_file
from test_train_cli import ROOT, train

#: AdamW's weight decay moves every parameter it is given, even without a gradient.
FINE = {"dataset": {"name": "iris"}, "optimizer": {"type": "AdamW", "lr": 0.05,
                                                   "weight_decay": 0.5},
        "epochs": 2, "batch_size": 16, "seed": 3}
NORM_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def _net(path: Path, frozen: bool) -> Path:
    norm = {"id": "n", "type": "BatchNorm1d", "name": "norm", "params": {}}
    if frozen:
        norm["frozen"] = True
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [4], "dtype": "float32"}},
             {"id": "h", "type": "Linear", "name": "hidden", "params": {"out_features": 16}},
             norm,
             {"id": "r", "type": "ReLU", "params": {}},
             {"id": "o", "type": "Linear", "name": "classifier", "params": {"out_features": 3}},
             {"id": "y", "type": "Output", "params": {}}]
    return chain_file(path, nodes, FINE, "Net")


def _unit_net(path: Path, frozen: bool) -> Path:
    """A unit (Linear, BatchNorm1d, ReLU) used twice in a chain (``repeat``: 2)."""
    block = {"id": "b", "type": "NormBlock", "name": "body", "params": {"width": 16},
             "repeat": 2}
    if frozen:
        block["frozen"] = True
    doc = {"format": "netcanvas", "version": 2, "name": "Units",
           "units": {"NormBlock": {
               "params": {"width": 8},
               "nodes": [{"id": "x", "type": "Input"},
                         {"id": "l", "type": "Linear", "name": "lin",
                          "params": {"out_features": "$width"}},
                         {"id": "n", "type": "BatchNorm1d", "name": "norm"},
                         {"id": "r", "type": "ReLU", "name": "relu"},
                         {"id": "y", "type": "Output"}],
               "edges": [{"source": "x", "target": "l"}, {"source": "l", "target": "n"},
                         {"source": "n", "target": "r"}, {"source": "r", "target": "y"}]}},
           "nodes": [{"id": "x", "type": "Input", "params": {"shape": [4]}},
                     {"id": "h", "type": "Linear", "name": "hidden",
                      "params": {"out_features": 16}},
                     block,
                     {"id": "o", "type": "Linear", "name": "classifier",
                      "params": {"out_features": 3}},
                     {"id": "y", "type": "Output"}],
           "edges": [{"source": a, "target": b}
                     for a, b in (("x", "h"), ("h", "b"), ("b", "o"), ("o", "y"))],
           "training": FINE}
    path.write_text(json.dumps(doc))
    return path


def _model(ckpt: Path) -> dict:
    return torch.load(ckpt, weights_only=True)["model"]


def _pretrain_and_finetune(tmp_path, make, prefixes):
    """Train ``make``'s network unfrozen (so the statistics are not the fresh 0
    and 1), then fine-tune it frozen from those weights; returns both states."""
    p = train(make(tmp_path / "pre.json", False), "--out", tmp_path / "pre", "--epochs", 1)
    assert p.returncode == 0, p.stderr
    before = _model(tmp_path / "pre" / "last.pt")
    for prefix in prefixes:  # pretraining moved them: a later equality means something
        assert not torch.equal(before[prefix + "running_mean"],
                               torch.zeros_like(before[prefix + "running_mean"]))
    p = train(make(tmp_path / "fine.json", True), "--init-weights", tmp_path / "pre" / "last.pt",
              "--out", tmp_path / "fine")
    assert p.returncode == 0, p.stderr
    return before, _model(tmp_path / "fine" / "last.pt")


def test_train_leaves_a_frozen_batchnorms_statistics_and_parameters_as_loaded(tmp_path):
    before, after = _pretrain_and_finetune(tmp_path, _net, ["norm."])
    for key in NORM_KEYS:
        assert torch.equal(before["norm." + key], after["norm." + key]), key
    # the rest trained, so the frozen layer saw batches of other statistics
    assert not torch.equal(before["hidden.weight"], after["hidden.weight"])


def test_train_leaves_the_statistics_inside_a_frozen_unit_instance_as_loaded(tmp_path):
    prefixes = ["body.0.norm.", "body.1.norm."]
    before, after = _pretrain_and_finetune(tmp_path, _unit_net, prefixes)
    for prefix in prefixes:
        for key in NORM_KEYS:
            assert torch.equal(before[prefix + key], after[prefix + key]), prefix + key
    assert not torch.equal(before["hidden.weight"], after["hidden.weight"])


def test_an_unfrozen_batchnorm_still_learns_its_statistics(tmp_path):
    """The other side: only frozen layers keep theirs."""
    p = train(_net(tmp_path / "net.json", False), "--out", tmp_path / "run", "--epochs", 1)
    assert p.returncode == 0, p.stderr
    state = _model(tmp_path / "run" / "last.pt")
    assert int(state["norm.num_batches_tracked"]) > 0
    assert not torch.equal(state["norm.running_mean"], torch.zeros(16))


def test_the_exported_model_and_script_keep_a_frozen_batchnorms_statistics(tmp_path):
    net = _net(tmp_path / "net.json", True)
    out = tmp_path / "export" / "net.py"
    out.parent.mkdir()
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(net), "-o",
                        str(out), "--training-script"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    source = out.read_text("utf-8")
    assert "        self.norm.requires_grad_(False)\n" in source
    assert "    def train(self, mode=True):\n" in source
    assert "        self.norm.eval()\n" in source
    r = subprocess.run([sys.executable, "-I", str(out.parent / "net_train.py"), "--epochs", "1",
                        "--device", "cpu", "--out", "runs"], cwd=out.parent,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    state = torch.load(out.parent / "runs" / "last.pt", weights_only=True)
    model = state["model"]
    # a fresh BatchNorm: γ = 1, β = 0, mean 0, variance 1, no batch counted
    assert torch.equal(model["norm.weight"], torch.ones(16))
    assert torch.equal(model["norm.bias"], torch.zeros(16))
    assert torch.equal(model["norm.running_mean"], torch.zeros(16))
    assert torch.equal(model["norm.running_var"], torch.ones(16))
    assert int(model["norm.num_batches_tracked"]) == 0
    assert not torch.equal(model["classifier.bias"], torch.zeros(3))  # the rest trained
    # only hidden's and classifier's 4 tensors reach the optimizer
    assert sum(len(g["params"]) for g in state["optimizer"]["param_groups"]) == 4


def test_the_exported_unit_model_keeps_the_frozen_instances_statistics(tmp_path):
    net = _unit_net(tmp_path / "net.json", True)
    out = tmp_path / "net.py"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(net), "-o",
                        str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    source = out.read_text("utf-8")
    assert "        for m in self.body.modules():\n" in source
    ns: dict = {}
    exec(compile(source, str(out), "exec"), ns)
    model = ns["Units"]()  # the class is named after the project
    model.train()
    assert model.training and model.hidden.training and model.body.training
    assert not model.body[0].norm.training and not model.body[1].norm.training
    assert model.body[0].lin.training  # only the statistics layers are held
    model(torch.randn(8, 4))
    assert int(model.body[0].norm.num_batches_tracked) == 0
