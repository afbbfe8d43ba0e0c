"""The run folder (``train --out``) and the run's last JSON line (bad-input issue,
items 3 and 6), as a user runs ``train`` (``main.main``, in-process).

A folder that cannot hold checkpoints is refused before epoch 1 trains; a
disk that fills up during the run (a write made to fail with ENOSPC, or with
the RuntimeError torch's writer really raises) stops the run with a message,
keeping the last good checkpoint whole; a run stopped at an epoch boundary
still reports its training loss.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import shutil
import threading
from collections import namedtuple

import torch

import main
from runtime import Trainer
from runtime.checkpoint import load_checkpoint
from support import blobs, chain, chain_file

IRIS = {"dataset": {"name": "iris"}, "optimizer": {"type": "Adam", "lr": 0.02},
        "epochs": 3, "batch_size": 32, "seed": 0}
NET = [
    {"id": "x", "type": "Input", "params": {"shape": [4], "dtype": "float32"}},
    {"id": "h", "type": "Linear", "name": "hidden", "params": {"out_features": 8}},
    {"id": "a", "type": "ReLU", "params": {}},
    {"id": "o", "type": "Linear", "name": "classifier", "params": {"out_features": 3}},
    {"id": "y", "type": "Output", "params": {}},
]


def project(tmp_path, training=IRIS):
    return chain_file(tmp_path / "iris.json", NET, training, "Iris")


def train(capsys, *args):
    code = main.main(["train", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def refused(code, out, err, message):
    assert code == 1
    assert f"error: {message}" in err, err
    assert "epoch 1/" not in err  # refused before the first epoch trained
    last = json.loads(out.splitlines()[-1])
    assert last["stopped"] == "refused" and last["epochs"] == 0


def test_an_out_that_is_a_file_is_refused_before_training(tmp_path, capsys):
    out = tmp_path / "notes.txt"
    out.write_text("keep me")
    code, stdout, err = train(capsys, project(tmp_path), "--out", out)
    refused(code, stdout, err, f"the run folder {str(out)!r} is an existing file, not a "
                               "folder; choose another folder for the run")
    assert out.read_text() == "keep me"


def test_an_out_under_a_file_cannot_be_created(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("")
    out = tmp_path / "notes.txt" / "run"
    code, stdout, err = train(capsys, project(tmp_path), "--out", out)
    refused(code, stdout, err, f"the run folder {str(out)!r} cannot be created: "
                               f"{str(tmp_path / 'notes.txt')!r} is a file, not a folder")


def test_an_out_without_permission_is_refused(tmp_path, capsys, monkeypatch):
    out = tmp_path / "locked" / "run"
    real = pathlib.Path.mkdir

    def mkdir(self, *a, **k):  # tests may run as root, where chmod locks nothing out
        if self == out:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)
    code, stdout, err = train(capsys, project(tmp_path), "--out", out)
    refused(code, stdout, err, f"the run folder {str(out)!r} cannot be created: "
                               "Permission denied; choose another folder for the run")


def test_a_full_disk_is_found_before_training(tmp_path, capsys, monkeypatch):
    out = tmp_path / "new" / "run"
    real = pathlib.Path.write_bytes

    def write_bytes(self, data):
        if self.parent == out:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)
    code, stdout, err = train(capsys, project(tmp_path), "--out", out)
    refused(code, stdout, err, f"the run folder {str(out)!r} cannot be written: the disk is "
                               "full (no space left on device); choose another folder for "
                               "the run")
    assert not (tmp_path / "new").exists()  # the folders made for the check are gone again


def test_a_disk_without_room_for_a_checkpoint_is_found_before_training(tmp_path, capsys,
                                                                        monkeypatch):
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10 ** 9, 10 ** 9 - 100, 100))
    out = tmp_path / "run"
    code, stdout, err = train(capsys, project(tmp_path), "--out", out)
    # hidden 4→8 and classifier 8→3: 67 float32 weights, 268 bytes; 4× with optimizer state
    refused(code, stdout, err, f"the disk holding the run folder {str(out)!r} has 100 B free, "
                               "and a checkpoint of this network needs about 1.1 kB; free "
                               "some space or choose another folder")


def full_disk_after(n_saves: int, error):
    """torch.save that writes ``n_saves`` files, then fails as a full disk does."""
    real = torch.save
    calls = []

    def save(obj, f, *a, **k):
        calls.append(f)
        if len(calls) > n_saves:
            raise error
        return real(obj, f, *a, **k)
    return save


def test_a_disk_filling_up_mid_run_stops_it_and_keeps_the_last_good_checkpoint(
        tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    # epoch 1 writes best.pt and last.pt; epoch 2's first write fails
    monkeypatch.setattr(torch, "save", full_disk_after(
        2, OSError(errno.ENOSPC, "No space left on device")))
    code, stdout, err = train(capsys, project(tmp_path), "--out", out)
    monkeypatch.undo()
    last = out / "last.pt"
    failed = json.loads(stdout.splitlines()[-1])
    assert code == 1
    assert failed["stopped"] == "error" and failed["fault"]["kind"] == "save", failed
    assert "error: could not write the checkpoint " in err, err
    assert ("the disk is full (no space left on device); training stopped after epoch 2; the "
            f"last good checkpoint, {str(last)!r} (epoch 1), is kept: free some space, then "
            "resume from it") in err, err
    assert "Traceback" not in err
    assert load_checkpoint(last)["epoch"] == 1  # whole, and the epoch the message names
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".pt") == ["best.pt", "last.pt"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left
    # the message's way on works: resume from the kept checkpoint
    code, stdout, err = train(capsys, tmp_path / "iris.json", "--resume", last)
    assert code == 0, err
    assert json.loads(stdout.splitlines()[-1])["epochs"] == 3


def test_torchs_own_full_disk_error_is_said_as_a_full_disk(tmp_path, capsys, monkeypatch):
    """torch's zip writer raises a bare RuntimeError when the disk fills up."""
    Usage = namedtuple("Usage", "total used free")
    out = tmp_path / "run"
    tight = {"free": 10 ** 9}
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10 ** 9, 0, tight["free"]))
    real = full_disk_after(0, RuntimeError("[enforce fail at inline_container.cc:672] . "
                                           "unexpected pos 704 vs 598"))

    def save(*a, **k):
        tight["free"] = 50  # the write used up the room left
        return real(*a, **k)

    monkeypatch.setattr(torch, "save", save)
    code, stdout, err = train(capsys, project(tmp_path), "--out", out)
    assert code == 1
    assert "the disk is full (50 B free, the checkpoint needs about " in err, err
    assert "no checkpoint of this run could be kept" in err, err
    assert json.loads(stdout.splitlines()[-1])["fault"]["kind"] == "save"


def test_a_metrics_file_that_cannot_be_written_is_said_once_and_the_run_goes_on(
        tmp_path, capsys, monkeypatch):
    import runtime.metrics

    def write_csv(path, rows, names):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(runtime.metrics, "write_csv", write_csv)
    code, stdout, err = train(capsys, project(tmp_path), "--out", tmp_path / "run")
    assert code == 0, err
    assert err.count("warning: could not write ") == 1
    assert f"{tmp_path / 'run' / 'metrics.csv'}: Input/output error" in err


class PauseAtEpochEnd:
    """Pauses after epoch ``k`` (the pause takes hold at the next epoch's first
    batch), then presses Stop: a stop at an epoch boundary, as in the window."""

    def __init__(self, k):
        self.k, self.trainer = k, None

    def on_epoch_end(self, m):
        if m["epoch"] == self.k:
            self.trainer.pause()
            threading.Timer(0.2, self.trainer.stop).start()


def test_a_run_stopped_at_an_epoch_boundary_still_reports_its_training_loss(tmp_path):
    g = chain(("Linear", {"out_features": 8}), "ReLU", ("Linear", {"out_features": 2}),
              input_shape=(2,))
    cb = PauseAtEpochEnd(1)
    t = Trainer(g, {"epochs": 3, "batch_size": 16}, dataset=blobs(), callbacks=[cb],
                out_dir=tmp_path, report_every=0)
    cb.trainer = t
    result = t.run()
    assert result.stopped == "stopped" and result.epochs == 1
    line = result.summary()  # the JSON object `train` prints last
    assert line["train_loss"] == result.history[0]["train_loss"]
    assert line["train_accuracy"] == result.history[0]["train_accuracy"]
    assert os.path.exists(tmp_path / "last.pt")
