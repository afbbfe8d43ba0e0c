"""A unit parameter that selects an inner layer's initialisation (``"init": "$init"``):
each instance's value decides, in the model the engine trains (``main.py train``)
and in the exported file (``main.py export``), and the exported unit class
honours the argument when a user builds it by hand."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

import main

#: a conv + tanh unit whose initialisation is a parameter; block_a keeps
#: PyTorch's default, block_b asks for delta-orthogonal
DOC = {
    "format": "netcanvas", "version": 2, "name": "tanh units",
    "units": {"TanhConv": {
        "params": {"channels": 8, "init": "default"},
        "nodes": [{"id": "x", "type": "Input"},
                  {"id": "c", "type": "Conv2d", "name": "conv",
                   "params": {"out_channels": "$channels", "kernel_size": 3, "padding": 1,
                              "init": "$init"}},
                  {"id": "t", "type": "Tanh", "name": "act"},
                  {"id": "y", "type": "Output"}],
        "edges": [{"source": "x", "target": "c"}, {"source": "c", "target": "t"},
                  {"source": "t", "target": "y"}]}},
    "nodes": [{"id": "in", "type": "Input", "name": "image", "params": {"shape": [1, 8, 8]}},
              {"id": "a", "type": "TanhConv", "name": "block_a",
               "params": {"channels": 8, "init": "default"}, "frozen": True},
              {"id": "b", "type": "TanhConv", "name": "block_b",
               "params": {"channels": 8, "init": "delta_orthogonal"}, "frozen": True},
              {"id": "f", "type": "Flatten"},
              {"id": "fc", "type": "Linear", "name": "fc", "params": {"out_features": 10}},
              {"id": "out", "type": "Output"}],
    "edges": [{"source": "in", "target": "a"}, {"source": "a", "target": "b"},
              {"source": "b", "target": "f"}, {"source": "f", "target": "fc"},
              {"source": "fc", "target": "out"}],
    # the instances are frozen, so the checkpoint holds their initial weights
    "training": {"dataset": {"name": "digits", "n": 120}, "epochs": 1, "batch_size": 64},
}


def _write(tmp_path: Path, doc: dict, name: str = "units.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _is_delta_orthogonal(w: torch.Tensor) -> bool:
    """Zeros off the kernel centre, an orthogonal matrix at it."""
    centre = w[:, :, 1, 1]
    off = w.clone()
    off[:, :, 1, 1] = 0
    # orthonormal rows, or columns where there are more rows than columns
    gram = centre @ centre.T if centre.shape[0] <= centre.shape[1] else centre.T @ centre
    return bool(torch.all(off == 0)) and \
        torch.allclose(gram, torch.eye(len(gram)), atol=1e-5)


def _exported(tmp_path: Path, doc: dict) -> dict:
    project = _write(tmp_path, doc)
    out = tmp_path / "model.py"
    assert main.main(["export", str(project), "-o", str(out)]) == 0
    source = out.read_text()
    black = pytest.importorskip("black")
    assert black.format_str(source, mode=black.Mode()) == source  # as a person would write it
    namespace: dict = {"__name__": "exported"}
    exec(compile(source, str(out), "exec"), namespace)
    return namespace


def test_each_instance_of_a_unit_is_initialised_by_its_init_parameter_in_training(tmp_path,
                                                                                   capsys):
    project = _write(tmp_path, DOC)
    assert main.main(["train", str(project), "--out", str(tmp_path / "run")]) == 0
    weights = torch.load(tmp_path / "run" / "last.pt", weights_only=True)["model"]
    assert _is_delta_orthogonal(weights["block_b.conv.weight"])
    assert not torch.any(weights["block_b.conv.bias"])  # biases zeroed, as for any init
    a = weights["block_a.conv.weight"]
    assert not _is_delta_orthogonal(a)
    assert (a[:, :, 0, 0] != 0).all()  # PyTorch's default fills every tap


def test_the_exported_code_initialises_each_instance_by_its_init_parameter(tmp_path):
    ns = _exported(tmp_path, DOC)
    model = ns["TanhUnits"]()
    assert _is_delta_orthogonal(model.block_b.conv.weight.detach())
    assert not _is_delta_orthogonal(model.block_a.conv.weight.detach())
    # the unit's class takes the choice as an argument a user can pass
    assert _is_delta_orthogonal(ns["TanhConv"](3, init="delta_orthogonal").conv.weight.detach())
    ortho = ns["TanhConv"](1, channels=4, init="orthogonal").conv.weight.detach().view(4, -1)
    assert torch.allclose(ortho @ ortho.T, torch.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="unknown init 'bogus'"):
        ns["TanhConv"](3, init="bogus")


def test_a_unit_parameter_for_init_scale_reaches_each_instance(tmp_path):
    doc = copy.deepcopy(DOC)
    unit = doc["units"]["TanhConv"]
    unit["params"] = {"channels": 8, "value": 0.5}
    unit["nodes"][1]["params"].update({"init": "constant", "init_scale": "$value"})
    doc["nodes"][1]["params"] = {"value": 0.25}
    doc["nodes"][2]["params"] = {}
    ns = _exported(tmp_path, doc)
    model = ns["TanhUnits"]()
    assert torch.all(model.block_a.conv.weight == 0.25)
    assert torch.all(model.block_b.conv.weight == 0.5)
    assert torch.all(ns["TanhConv"](2, value=-1.5).conv.weight == -1.5)


def test_an_instance_passes_its_init_through_a_unit_inside_a_unit(tmp_path):
    doc = copy.deepcopy(DOC)
    doc["units"]["Pair"] = {
        "params": {"init": "default"},
        "nodes": [{"id": "x", "type": "Input"},
                  {"id": "p", "type": "TanhConv", "name": "first", "params": {"init": "$init"}},
                  {"id": "q", "type": "TanhConv", "name": "second"},
                  {"id": "y", "type": "Output"}],
        "edges": [{"source": "x", "target": "p"}, {"source": "p", "target": "q"},
                  {"source": "q", "target": "y"}]}
    doc["nodes"][1].update(type="Pair", params={})
    doc["nodes"][2].update(type="Pair", params={"init": "delta_orthogonal"})
    model = _exported(tmp_path, doc)["TanhUnits"]()
    assert _is_delta_orthogonal(model.block_b.first.conv.weight.detach())
    assert not _is_delta_orthogonal(model.block_b.second.conv.weight.detach())
    assert not _is_delta_orthogonal(model.block_a.first.conv.weight.detach())


def test_an_init_an_inner_block_cannot_take_is_refused_naming_the_instance(tmp_path, capsys):
    doc = copy.deepcopy(DOC)
    doc["units"]["TanhConv"]["nodes"][1] = {
        "id": "c", "type": "Linear", "name": "conv",
        "params": {"out_features": "$channels", "init": "$init"}}
    project = _write(tmp_path, doc)
    assert main.main(["check", str(project)]) == 1
    out = capsys.readouterr().out
    assert 'TanhConv "block_b"' in out and "got 'delta_orthogonal'" in out
