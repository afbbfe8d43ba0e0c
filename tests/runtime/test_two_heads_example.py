"""The two-input, two-output example (issue 13, item 4):
``resources/examples/two_heads_digits.json`` with its ``.npz`` of one array per
node checks clean, trains from the command line with a loss per Output, and
reports each head's metric in ``train``'s final JSON line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import main

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
PROJECT = EXAMPLES / "two_heads_digits.json"
DATA = EXAMPLES / "two_heads_digits.npz"


def test_the_data_is_small_and_holds_one_array_per_node():
    assert DATA.stat().st_size < 200_000
    with zipfile.ZipFile(DATA) as z:
        names = sorted(n[:-4] for n in z.namelist())
    assert names == ["X_img", "X_meta", "y_digit", "y_score"]
    project = json.loads(PROJECT.read_text())
    ids = {n["id"] for n in project["nodes"] if n["type"] in ("Input", "Output")}
    assert ids == {"img", "meta", "digit", "score"}


def test_check_finds_nothing(capsys):
    assert main.main(["check", str(PROJECT), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is True and out["problems"] == []


def test_train_reports_each_head(tmp_path, capsys):
    code = main.main(["train", str(PROJECT), "--epochs", "3", "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 0, err
    last = json.loads(out.splitlines()[-1])
    assert last["stopped"] == "completed" and last["epochs"] == 3
    # the digit head classifies (10 classes: a constant guess scores about 10%)
    assert last["val_accuracy_digit"] > 0.7, last
    # the score head regresses (its targets' spread is about 1.2)
    assert 0 < last["val_mae_score"] < 0.8, last
    assert last["val_loss"] > 0
    assert (tmp_path / "run" / "last.pt").is_file()
