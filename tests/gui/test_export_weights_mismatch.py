"""File → Export → Weights with weights of another network names what differs
(the message used to stop at torch's first line, before any key)."""

from __future__ import annotations

import pytest

from gui import export_ops


def test_export_weights_names_the_keys_and_shapes_that_differ(window, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    window.scene.select_nodes(["l2"])  # the loose Linear: the rest is valid
    window.actions["delete"].trigger()
    ckpt = tmp_path / "other.pt"
    # trained on a network whose first layer had 16 units and another name
    torch.save({"model": {"stem.weight": torch.zeros(16, 64), "fc1.bias": torch.zeros(16)},
                "epoch": 1}, ckpt)
    monkeypatch.setattr(export_ops.QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(ckpt), ""))
    monkeypatch.setattr(export_ops.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "w.pt"), ""))
    assert not window.exports.export_weights()
    assert window.feedback.last_message == (
        f"the weights in {ckpt} do not fit this network: missing fc1.weight [32, 8]; "
        "unexpected stem.weight [16, 64]; shape mismatch fc1.bias: file [16] vs network [32]")
    assert not (tmp_path / "w.pt").exists()
