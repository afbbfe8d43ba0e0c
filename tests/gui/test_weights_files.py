"""Broken weight files in the editor's weight loading paths (bad-input issue, item 2):
Runs → Load weights and File → Export → Weights show what is wrong with the
file, by name, never a traceback or silence."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt

from test_training_window import shot, wait_done, win  # noqa: F401 (fixture)


def test_load_weights_from_a_damaged_checkpoint_says_which_field(qtbot, win):  # noqa: F811
    win.actions["train_start"].trigger()
    area = win.training
    wait_done(qtbot, area)
    best = area.runs.records["run 1"].checkpoint("best")
    ck = torch.load(best, weights_only=True)
    ck["epoch"] = "one"
    torch.save(ck, best)
    area.side.setCurrentWidget(area.runs)
    area.runs.list.setCurrentRow(0)
    qtbot.mouseClick(area.runs.load_button, Qt.MouseButton.LeftButton)
    assert win.doc.weights is None and not area.weights_box.isVisible()
    assert area.message.text() == ("Cannot load the weights of run 1 from best.pt: "
                                   "checkpoint.epoch: expected a non-negative integer, got 'one'")
    qtbot.wait(50)  # the message's second line is laid out
    shot(area, "load_weights_damaged.png")
    # the run's other checkpoint is whole and still loads
    area.runs.load_last_action.trigger()
    assert win.doc.weights is not None and win.doc.weights.which == "last"


def test_export_weights_from_a_truncated_safetensors_file_says_so(  # noqa: F811
        qtbot, win, tmp_path, monkeypatch):
    from safetensors.torch import save_file

    bad = tmp_path / "w.safetensors"
    save_file({"hidden.weight": torch.zeros(16, 2)}, str(bad))
    bad.write_bytes(bad.read_bytes()[:20])
    out = tmp_path / "out.pt"
    monkeypatch.setattr("gui.export_ops.QFileDialog.getOpenFileName", lambda *a: (str(bad), ""))
    monkeypatch.setattr("gui.export_ops.QFileDialog.getSaveFileName", lambda *a: (str(out), ""))
    shown = []
    monkeypatch.setattr(win.feedback, "show_error", lambda title, text: shown.append((title, text)))
    win.actions["export_weights"].trigger()
    assert shown == [("Cannot export the weights",
                      f"cannot read weights from {bad}: it is not a complete safetensors file "
                      "(its header is damaged: invalid header length)")]
    assert not out.exists()
