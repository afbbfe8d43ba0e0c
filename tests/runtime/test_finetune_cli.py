"""Pretraining then fine-tuning from the command line (issue 17 item 3): a
frozen block keeps its weights through ``train`` and is not in the optimizer;
the exported model and training script freeze it too; ``--init-weights``
loads the blocks whose names and shapes match and says what it did not load."""

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


def _linear(nid, name, out, frozen=False):
    node = {"id": nid, "type": "Linear", "name": name, "params": {"out_features": out}}
    if frozen:
        node["frozen"] = True
    return node


def _project(path: Path, *layers) -> Path:
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [4], "dtype": "float32"}}]
    for k, layer in enumerate(layers):
        if k:
            nodes.append({"id": f"r{k}", "type": "ReLU", "params": {}})
        nodes.append(layer)
    nodes.append({"id": "y", "type": "Output", "params": {}})
    return chain_file(path, nodes, FINE, "Net")


def _model(ckpt: Path) -> dict:
    return torch.load(ckpt, weights_only=True)["model"]


def _pretrained(tmp_path) -> Path:
    pre = _project(tmp_path / "pre.json", _linear("h", "hidden", 16), _linear("p", "pre_head", 16),
                   _linear("o", "classifier", 3))
    p = train(pre, "--out", tmp_path / "pre_run", "--epochs", 1)
    assert p.returncode == 0, p.stderr
    return tmp_path / "pre_run" / "last.pt"


def test_a_frozen_block_keeps_its_weights_and_is_not_in_the_optimizer(tmp_path):
    ckpt = _pretrained(tmp_path)
    fine = _project(tmp_path / "fine.json", _linear("h", "hidden", 16, frozen=True),
                    _linear("p", "pre_head", 16), _linear("o", "classifier", 3))
    p = train(fine, "--init-weights", ckpt, "--out", tmp_path / "fine_run")
    assert p.returncode == 0, p.stderr
    before, after = _model(ckpt), _model(tmp_path / "fine_run" / "last.pt")
    assert torch.equal(before["hidden.weight"], after["hidden.weight"])
    assert torch.equal(before["hidden.bias"], after["hidden.bias"])
    assert not torch.equal(before["classifier.weight"], after["classifier.weight"])
    # the optimizer holds the 4 trained tensors (pre_head, classifier), not hidden's 2
    opt = torch.load(tmp_path / "fine_run" / "last.pt", weights_only=True)["optimizer"]
    assert sum(len(g["params"]) for g in opt["param_groups"]) == 4


def test_every_block_frozen_is_refused_with_the_reason(tmp_path):
    fine = _project(tmp_path / "fine.json", _linear("h", "hidden", 3, frozen=True))
    p = train(fine, "--out", tmp_path / "run")
    assert p.returncode == 1
    assert "every block with parameters is frozen: there is nothing to train" in p.stderr


def test_init_weights_loads_what_matches_and_reports_the_rest(tmp_path):
    ckpt = _pretrained(tmp_path)
    # hidden fits; classifier is now 8 wide (shape mismatch); head is new
    # (missing in the file); pre_head is gone (unexpected in the file)
    fine = _project(tmp_path / "fine.json", _linear("h", "hidden", 16),
                    _linear("c", "classifier", 8), _linear("o", "head", 3))
    p = train(fine, "--init-weights", ckpt, "--out", tmp_path / "fine_run", "--epochs", 1)
    assert p.returncode == 0, p.stderr
    lines = [ln.strip() for ln in p.stderr.splitlines()]
    assert f"weights loaded from {str(ckpt)!r}: 2 of 6 tensors (4 keep their " \
           "initialisation); 2 in the file unused" in lines
    for expected in ("loaded: hidden.weight (16×4)", "loaded: hidden.bias (16)",
                     "not loaded: classifier.weight: shape mismatch, the network has 8×16, "
                     "the file 3×16",
                     "not loaded: classifier.bias: shape mismatch, the network has 8, the file 3",
                     "not loaded: head.weight: missing in the file",
                     "not loaded: head.bias: missing in the file",
                     "unused: pre_head.weight: unexpected key, the network has no such tensor",
                     "unused: pre_head.bias: unexpected key, the network has no such tensor"):
        assert expected in lines, (expected, p.stderr)
    assert not any(ln.startswith("loaded: classifier") or ln.startswith("loaded: head")
                   for ln in lines)
    # the loaded tensor is the pretrained one (1 epoch moved it, so compare the start:
    # a frozen copy of the same project keeps it exactly)
    frozen = _project(tmp_path / "fine2.json", _linear("h", "hidden", 16, frozen=True),
                      _linear("c", "classifier", 8), _linear("o", "head", 3))
    p = train(frozen, "--init-weights", ckpt, "--out", tmp_path / "fine2", "--epochs", 1)
    assert p.returncode == 0, p.stderr
    assert torch.equal(_model(ckpt)["hidden.weight"],
                       _model(tmp_path / "fine2" / "last.pt")["hidden.weight"])


def test_weights_of_another_network_are_refused(tmp_path):
    ckpt = _pretrained(tmp_path)
    other = _project(tmp_path / "other.json", _linear("a", "first", 16), _linear("b", "last", 3))
    p = train(other, "--init-weights", ckpt, "--out", tmp_path / "run")
    assert p.returncode == 1
    assert f"none of the weights in {str(ckpt)!r} fit this network (no block with the same " \
           "name and shape)" in p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1])["stopped"] == "refused"


def test_the_exported_model_and_script_freeze_the_block(tmp_path):
    fine = _project(tmp_path / "fine.json", _linear("h", "hidden", 16, frozen=True),
                    _linear("o", "classifier", 3))
    out = tmp_path / "export" / "net.py"
    out.parent.mkdir()
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(fine), "-o",
                        str(out), "--training-script"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    source = out.read_text("utf-8")
    assert "        self.hidden.requires_grad_(False)\n" in source
    assert "self.classifier.requires_grad_" not in source
    # the script trains it: only classifier's 2 tensors reach the optimizer
    r = subprocess.run([sys.executable, "-I", str(out.parent / "net_train.py"), "--epochs", "1",
                        "--device", "cpu", "--out", "runs"], cwd=out.parent,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    state = torch.load(out.parent / "runs" / "last.pt", weights_only=True)
    assert sum(len(g["params"]) for g in state["optimizer"]["param_groups"]) == 2
