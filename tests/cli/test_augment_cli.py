"""``training.augment`` through the command line: ``train`` twice with one seed gives
the same weights, a run resumed from ``last.pt`` ends with the weights of an
uninterrupted one, and each bad value is named by ``check`` and ``train``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import main
from runtime.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]
AUG = {"translate": 1, "rotate": 10, "scale": [0.9, 1.1], "crop_pad": 1, "hflip": True,
       "noise": 0.05}


def lenet(tmp_path, augment, **training) -> Path:
    """The LeNet digits template on 300 samples, without its one-cycle schedule
    (a resume with more epochs must not stretch it)."""
    project = json.loads((ROOT / "resources" / "templates" / "lenet_digits.json").read_text())
    t = project["training"]
    t.pop("scheduler", None)
    t.update(augment=augment, epochs=2, device="cpu", optimizer={"type": "Adam", "lr": 0.005},
             **training)
    t["dataset"]["n"] = 300
    path = tmp_path / "lenet.json"
    path.write_text(json.dumps(project))
    return path


def weights(folder: Path) -> dict:
    return load_checkpoint(folder / "last.pt")["model"]


def test_the_same_seed_gives_the_same_weights_and_augmentation_changes_them(tmp_path, capsys):
    path = lenet(tmp_path, AUG)
    for run in ("a", "b"):
        assert main.main(["train", str(path), "--out", str(tmp_path / run)]) == 0
    plain = lenet(tmp_path, None)
    assert main.main(["train", str(plain), "--out", str(tmp_path / "plain")]) == 0
    a, b, c = weights(tmp_path / "a"), weights(tmp_path / "b"), weights(tmp_path / "plain")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_a_resumed_augmented_run_ends_with_the_uninterrupted_runs_weights(tmp_path, capsys):
    path = lenet(tmp_path, AUG)
    assert main.main(["train", str(path), "--epochs", "3", "--out", str(tmp_path / "full")]) == 0
    assert main.main(["train", str(path), "--epochs", "1", "--out", str(tmp_path / "part")]) == 0
    assert main.main(["train", str(path), "--epochs", "3", "--out", str(tmp_path / "part"),
                      "--resume", str(tmp_path / "part" / "last.pt")]) == 0
    a, b = weights(tmp_path / "full"), weights(tmp_path / "part")
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("value, where, message", [
    ({"rotate": "lots"}, "training.augment.rotate", "must be a number, got 'lots'"),
    ({"rotate": 200}, "training.augment.rotate", "must be at most 180, got 200"),
    ({"translate": -1}, "training.augment.translate", "must be at least 0, got -1"),
    ({"scale": [1.2, 0.8]}, "training.augment.scale",
     "must be [LO, HI] with 0 < LO <= HI, got [1.2, 0.8]"),
    ({"scale": 2}, "training.augment.scale", "must be a list of 2 numbers >= 0, got 2"),
    ({"crop_pad": 1.5}, "training.augment.crop_pad", "must be a whole number, got 1.5"),
    ({"hflip": "yes"}, "training.augment.hflip", "must be true or false, got 'yes'"),
    ({"noise": -1}, "training.augment.noise", "must be at least 0, got -1"),
    ({"token_dropout": 1}, "training.augment.token_dropout", "must be less than 1, got 1"),
    ({"rotation": 5}, "training.augment.rotation", "unknown setting; did you mean 'rotate'?"),
    ("yes", "training.augment", 'expected null or an object like {"noise": 0.1}, got a string'),
])
def test_each_bad_value_is_named_by_check_and_train(tmp_path, capsys, value, where, message):
    path = lenet(tmp_path, value)
    assert main.main(["check", str(path)]) == 1
    assert f"{where}  {message}" in capsys.readouterr().out
    assert main.main(["train", str(path), "--out", str(tmp_path / "run")]) == 1
    assert f"error: {where}: {message}" in capsys.readouterr().err


def test_token_dropout_on_an_image_network_is_refused_by_train(tmp_path, capsys):
    path = lenet(tmp_path, {"token_dropout": 0.1})
    assert main.main(["train", str(path), "--out", str(tmp_path / "run")]) == 1
    assert ('error: training.augment.token_dropout: token_dropout applies to token (integer) '
            'inputs, and this network has none (Input "image" gives 1×8×8 float samples); use '
            'noise for float inputs') in capsys.readouterr().err
