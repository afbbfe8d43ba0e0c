"""File → Export → Weights after Train → Load Pretrained Weights…, before any
training: the file written holds what the next Start trains from — the
pretrained tensors in the blocks whose names and shapes match, the others
initialised exactly as that run initialises them — not fresh weights, and not
a refusal because the checkpoint is another network's."""

from __future__ import annotations

import torch

from codegen.export import load_weights
from graph.project import load_project
from gui import export_ops
from finetune_support import pretrained_checkpoint, project_file
from runtime.engine import Trainer
from test_pretrained_weights import _window


def test_export_weights_writes_the_loaded_pretrained_weights(qtbot, tmp_path, data_dir,
                                                             monkeypatch):
    ckpt = pretrained_checkpoint(tmp_path)
    # hidden fits; classifier is 8 wide now (mismatch); head is new (missing in the file)
    fine = project_file(tmp_path / "fine.json", ("hidden", 16), ("classifier", 8), ("head", 3))
    win = _window(qtbot, fine)
    try:
        monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName",
                            lambda *a, **k: (str(ckpt), ""))
        win.actions["train_load_pretrained"].trigger()
        win.training.weights_control.report_dialog.accept()
        out = tmp_path / "exported.pt"
        monkeypatch.setattr(export_ops.QFileDialog, "getSaveFileName",
                            lambda *a, **k: (str(out), ""))
        asked = []
        monkeypatch.setattr(export_ops.QFileDialog, "getOpenFileName",
                            lambda *a, **k: asked.append(a) or ("", ""))
        win.actions["export_weights"].trigger()
        assert not asked  # the loaded weights are the source: no checkpoint to pick
        assert win.feedback.last_message == f"Exported weights to {out}", \
            win.feedback.last_message
        exported = load_weights(out)
        pretrained = torch.load(ckpt, weights_only=True)["model"]
        assert torch.equal(exported["hidden.weight"], pretrained["hidden.weight"])
        assert torch.equal(exported["hidden.bias"], pretrained["hidden.bias"])
        # every tensor is the one the next run starts from (same seed, same transfer)
        start = Trainer.from_project(load_project(fine), init_weights=ckpt)
        start.prepare()
        own = start.session.model.state_dict()
        assert sorted(exported) == sorted(own)
        for key, value in own.items():
            assert torch.equal(exported[key], value.cpu()), key
    finally:
        if win.training is not None:
            win.training.shutdown()
