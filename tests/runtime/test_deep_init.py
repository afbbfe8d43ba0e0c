"""Depth and initialisation: the 51-layer plain tanh CNN template
(``deep_plain_cnn_digits``) trained from the command line as a user runs it.
With its delta-orthogonal convolutions it learns; with PyTorch's default
initialisation (the one edit a user makes: the unit's conv ``init``) its
gradients vanish, and the diagnosis says so in words, naming the first layers
whose gradient norm fell below the threshold.  Gradient norms of a repeated
unit are per inner layer (``body.0.conv`` … ``body.49.conv``)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from graph.project import load_project
from runtime import Trainer
from runtime.diagnose import VANISH_RATIO, diagnose

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "resources" / "templates" / "deep_plain_cnn_digits.json"
DEPTH = 50


def with_init(tmp_path: Path, init: str, repeat: int | None = None) -> Path:
    """The template with the unit's convolution set to ``init`` (and the unit
    repeated ``repeat`` times instead of 50)."""
    data = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    (conv,) = [n for n in data["units"]["TanhConv"]["nodes"] if n["type"] == "Conv2d"]
    conv["params"]["init"] = init
    if repeat is not None:
        (body,) = [n for n in data["nodes"] if n["type"] == "TanhConv"]
        body["repeat"] = repeat
    path = tmp_path / f"deep_{init}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def train(path: Path, out: Path, epochs: int) -> dict:
    p = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", str(path),
                        "--epochs", str(epochs), "--device", "cpu", "--out", str(out)],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def grad_columns(out: Path) -> list[str]:
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    return [h for h in header if "body." in h or h.endswith("stem") or h.endswith("fc")]


def test_the_template_is_one_unit_repeated_50_times_with_delta_orthogonal_convs():
    data = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    (body,) = [n for n in data["nodes"] if n["type"] in data["units"]]
    assert body["repeat"] >= DEPTH and len(data["units"]) == 1
    unit = data["units"][body["type"]]
    types = [n["type"] for n in unit["nodes"]]
    assert types.count("Conv2d") == 1 and "Tanh" in types
    assert not {"Add", "BatchNorm2d", "LayerNorm", "GroupNorm"} & set(types)
    (conv,) = [n for n in unit["nodes"] if n["type"] == "Conv2d"]
    assert conv["params"]["init"] == "delta_orthogonal"


@pytest.mark.slow
def test_default_init_gradients_vanish_and_the_diagnosis_names_the_first_layers(tmp_path):
    last = train(with_init(tmp_path, "default"), tmp_path / "run", epochs=1)
    (vanish,) = [d for d in last["diagnosis"] if "gradients vanish" in d]
    # the first layers below the threshold, in forward order, and how many there are
    assert f"below {VANISH_RATIO:g}× the last layer's" in vanish
    assert 'stem", body.0.conv, body.1.conv, body.2.conv, body.3.conv' in vanish
    assert "of 52 layers" in vanish and "more" in vanish
    assert "better initialisation" in vanish
    assert last["val_accuracy"] < 0.3


@pytest.mark.slow
def test_delta_orthogonal_init_learns_with_no_vanishing_gradients(tmp_path):
    last = train(TEMPLATE, tmp_path / "run", epochs=2)
    assert last["val_accuracy"] > 0.6, last
    assert not [d for d in last["diagnosis"] if "vanish" in d], last["diagnosis"]


@pytest.mark.parametrize("init, vanishes", [("default", True), ("delta_orthogonal", False)])
def test_a_shallower_copy_shows_the_same_verdicts_per_layer(tmp_path, init, vanishes):
    """20 repeats and one epoch on a fifth of the data keep the test short; the
    default init's gradient already falls by about half per layer."""
    project = load_project(with_init(tmp_path, init, repeat=20))
    ds = {**project.training["dataset"], "n": 400}
    result = Trainer.from_project(project, overrides={"epochs": 1, "device": "cpu",
                                                      "dataset": ds}).run()
    assert result.fault is None
    norms = result.history[-1]["grad_norms"]
    # a repeated unit's gradient norms are per inner layer, in forward order
    assert list(norms) == ["stem"] + [f"body.{i}.conv" for i in range(20)] + ["fc"]
    found = [d["message"] for d in result.diagnosis if d["kind"] == "vanishing_gradients"]
    if vanishes:
        assert norms["body.0.conv"] < VANISH_RATIO * norms["fc"]
        (message,) = found
        assert "body.0.conv, body.1.conv" in message
    else:
        assert min(norms.values()) > 0.01 * max(norms.values())
        assert not found


def test_the_finding_names_the_first_layers_under_the_threshold_and_counts_them():
    norms = {"stem": 1e-12, **{f"body.{i}.conv": 10.0 ** (-(49 - i) / 4) for i in range(50)},
             "fc": 1.0}
    (f,) = [f for f in diagnose([{"train_loss": 2.3, "grad_norms": norms}] * 2,
                                {"stem": 'Conv2d "stem"'})
            if f.kind == "vanishing_gradients"]
    # below 1e-3 × 1.0: stem and body.0 … body.36 (body.37's 10^(-12/4) = 1e-3 is not)
    assert f.node == "stem"
    assert ('at 38 of 52 layers, first Conv2d "stem", body.0.conv, body.1.conv, '
            'body.2.conv, body.3.conv and 33 more') in f.message
    assert "1e+12× smaller" in f.message


def test_one_layer_under_the_threshold_is_named_alone():
    (f,) = [f for f in diagnose([{"train_loss": 1.0, "grad_norms": {"a": 1e-6, "b": 0.1,
                                                                     "c": 1.0}}] * 2)
            if f.kind == "vanishing_gradients"]
    assert "at a;" in f.message and "layers" not in f.message.split(";")[0]


def test_gradients_that_reach_the_first_layer_are_not_reported():
    norms = {"stem": 2e-3, "body.0.conv": 1e-4, "fc": 1.0}  # a dip in the middle only
    assert not [f for f in diagnose([{"train_loss": 1.0, "grad_norms": norms}] * 2)
                if f.kind == "vanishing_gradients"]
