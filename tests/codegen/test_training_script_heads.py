"""The exported training script with several Inputs and Outputs
(project-format.md, "Several inputs and outputs in training"): arrays by node
id, one loss per Output weighed by ``loss_weights``, metrics per Output, the
same numbers as ``python main.py train``.

The scripts run in clean subprocesses (``python -I``: NetCanvas is not on the
path), as a user runs them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "examples" / "two_heads_digits.json"


def _cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def _last_json(r) -> dict:
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The example project (with its .npz) in a fresh folder, exported with
    ``--training-script``."""
    root = tmp_path_factory.mktemp("heads")
    project = root / "project" / EXAMPLE.name
    project.parent.mkdir()
    shutil.copy(EXAMPLE, project)
    shutil.copy(EXAMPLE.with_suffix(".npz"), project.parent)
    out = root / "exported" / "net.py"
    out.parent.mkdir()
    r = _cli("export", project, "-o", out, "--training-script", cwd=root)
    assert r.returncode == 0, r.stderr
    return root, project, out.parent / "net_train.py"


def _run_script(script: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", str(script), "--epochs", "1", "--device", "cpu",
                           *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def test_two_inputs_two_heads_script_trains_like_the_app(exported):
    root, project, script = exported
    got = _last_json(_run_script(script, "--out", root / "script_runs", cwd=root))
    app = _last_json(_cli("train", project, "--epochs", "1", "--device", "cpu",
                          "--out", root / "app_runs", cwd=root))
    # the weighted sum of both losses and each Output's own metric, as `train` prints them
    assert set(got) == {"epochs", "train_loss", "val_loss", "val_accuracy_digit",
                        "val_mae_score"}
    assert got["epochs"] == 1
    # same split, same initial weights, same batches, same losses and weights
    assert got["train_loss"] == pytest.approx(app["train_loss"], rel=1e-4)
    assert got["val_loss"] == pytest.approx(app["val_loss"], rel=1e-4)
    assert got["val_accuracy_digit"] == pytest.approx(app["val_accuracy_digit"], abs=1e-6)
    assert got["val_mae_score"] == pytest.approx(app["val_mae_score"], rel=1e-4)
    header = (root / "script_runs" / "metrics.csv").read_text().splitlines()[0]
    assert header == "epoch,train_loss,val_loss,val_accuracy_digit,val_mae_score,lr"


def test_loss_weights_change_the_scripts_loss_as_the_apps(exported, tmp_path):
    """loss_weights reach the script: weighting the score's loss 0 leaves the
    digit's loss alone in val_loss."""
    root, project, _script = exported
    data = json.loads(project.read_text("utf-8"))
    data["training"]["loss_weights"] = {"digit": 1.0, "score": 0.0}
    changed = project.parent / "zero_score.json"
    changed.write_text(json.dumps(data), "utf-8")
    out = tmp_path / "net.py"
    assert _cli("export", changed, "-o", out, "--training-script", cwd=tmp_path).returncode == 0
    assert "'loss_weights': {'digit': 1.0, 'score': 0.0}" in (
        tmp_path / "net_train.py").read_text("utf-8")
    got = _last_json(_run_script(tmp_path / "net_train.py", "--out", tmp_path / "runs",
                                 cwd=tmp_path))
    app = _last_json(_cli("train", changed, "--epochs", "1", "--device", "cpu",
                          "--out", tmp_path / "app_runs", cwd=tmp_path))
    assert got["val_loss"] == pytest.approx(app["val_loss"], rel=1e-4)
    assert got["val_accuracy_digit"] == pytest.approx(app["val_accuracy_digit"], abs=1e-6)


def test_the_script_names_a_missing_input_array(exported, tmp_path):
    root, _project, script = exported
    bad = tmp_path / "no_meta.npz"
    with np.load(EXAMPLE.with_suffix(".npz")) as z:
        np.savez(bad, X_img=z["X_img"], y_digit=z["y_digit"], y_score=z["y_score"])
    r = _run_script(script, "--data", bad, "--out", tmp_path / "runs", cwd=tmp_path)
    assert r.returncode != 0
    assert "no_meta.npz: has no array X_meta for the network's Input(s)" in r.stderr
    assert "Traceback" not in r.stderr


def test_the_script_refuses_one_array_pair_for_several_inputs(exported, tmp_path):
    _root, _project, script = exported
    plain = tmp_path / "plain.npz"
    np.savez(plain, X=np.zeros((20, 4), np.float32), y=np.arange(20) % 2)
    r = _run_script(script, "--data", plain, "--out", tmp_path / "runs", cwd=tmp_path)
    assert r.returncode != 0
    assert ("the network has 2 Input(s) and 2 Output(s), but dataset 'plain.npz' gives one "
            "input array and one target array") in r.stderr
    assert "Traceback" not in r.stderr
