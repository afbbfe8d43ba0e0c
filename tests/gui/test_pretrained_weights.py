"""Train → Load Pretrained Weights… (issue 17 item 3): a checkpoint of another
network loads into the blocks whose names and shapes match; a dialog lists
what loaded, what did not and why; the next Start trains from them, and a
frozen block keeps them."""

from __future__ import annotations

import torch

from graph.project import load_project
from gui import commands
from finetune_support import pretrained_checkpoint, project_file
from test_training_window import wait_done


def _window(qtbot, path):
    from gui.main_window import MainWindow

    w = MainWindow(load_project(path))
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.show()
    qtbot.waitExposed(w)
    return w


def test_loading_a_pretrained_file_lists_what_loaded_and_training_uses_it(
        qtbot, tmp_path, data_dir, monkeypatch):
    ckpt = pretrained_checkpoint(tmp_path)
    # hidden fits; classifier is 8 wide now; head is new; pre_head is gone
    fine = project_file(tmp_path / "fine.json", ("hidden", 16), ("classifier", 8), ("head", 3))
    win = _window(qtbot, fine)
    try:
        monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName",
                            lambda *a, **k: (str(ckpt), ""))
        win.actions["train_load_pretrained"].trigger()
        area = win.training
        dialog = area.weights_control.report_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.summary.text() == (f"Weights loaded from {str(ckpt)!r}: 2 of 6 tensors "
                                         "(4 keep their initialisation); 2 in the file unused.")
        assert dialog.rows() == {
            "Loaded (2)": [("hidden.weight", "16×4"), ("hidden.bias", "16")],
            "Not loaded (kept their initialisation) (4)": [
                ("classifier.weight", "shape mismatch: the network has 8×16, the file 3×16"),
                ("classifier.bias", "shape mismatch: the network has 8, the file 3"),
                ("head.weight", "missing in the file"), ("head.bias", "missing in the file")],
            "In the file, unused (2)": [
                ("pre_head.weight", "unexpected key: the network has no such tensor"),
                ("pre_head.bias", "unexpected key: the network has no such tensor")]}
        dialog.accept()
        assert area.weights_line.text() == "weights: last.pt (epoch 1) — the next Start trains " \
                                           "from them"
        # freeze the pretrained block (in the inspector), then train: it keeps its weights
        win.scene.select_nodes(["n1"])
        win.inspector.frozen_box.click()
        assert win.doc.graph.nodes["n1"].frozen
        win.actions["train_start"].trigger()
        assert area.running
        wait_done(qtbot, area)
        rec = area.runs.records["run 1"]
        assert rec.status == "completed", area.message.text()
        assert "2 of 6 tensors" in area.message.text()
        after = torch.load(rec.checkpoint("last"), weights_only=True)["model"]
        before = torch.load(ckpt, weights_only=True)["model"]
        assert torch.equal(after["hidden.weight"], before["hidden.weight"])
        assert not torch.equal(after["head.weight"][:3], torch.zeros(3))
    finally:
        if win.training is not None:
            win.training.shutdown()


def test_a_file_of_another_network_is_refused_with_the_reason(qtbot, tmp_path, data_dir):
    ckpt = pretrained_checkpoint(tmp_path)
    other = project_file(tmp_path / "other.json", ("first", 16), ("last", 3))
    win = _window(qtbot, other)
    try:
        assert not win.train.load_pretrained(str(ckpt))
        area = win.training
        assert area.message.text() == ("None of the weights in last.pt fit this network: no "
                                       "block has the same name and shape.")
        assert win.doc.weights is None and area.weights_control.report_dialog is None
    finally:
        if win.training is not None:
            win.training.shutdown()


def test_an_edit_after_loading_pretrained_weights_is_not_refused(qtbot, tmp_path, data_dir):
    ckpt = pretrained_checkpoint(tmp_path)
    fine = project_file(tmp_path / "fine.json", ("hidden", 16), ("classifier", 3))
    win = _window(qtbot, fine)
    try:
        assert win.train.load_pretrained(str(ckpt))
        win.training.weights_control.report_dialog.accept()
        win.doc.push(commands.SetParam(win.doc.graph, "n1", "out_features", 8))
        # by name and shape: the rest still loads, so nothing is refused
        assert win.training.weights_control.problem() is None
        assert not win.training.weights_line.text().startswith("⛔")
    finally:
        if win.training is not None:
            win.training.shutdown()
