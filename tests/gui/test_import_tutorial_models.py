"""File → Import of a model written the tutorial way (functional calls, a
residual block class used in a Sequential): its blocks and units on the canvas."""

from __future__ import annotations

import os
import textwrap

from PySide6.QtWidgets import QDialogButtonBox

MODEL = textwrap.dedent('''
    import math

    import torch
    import torch.nn.functional as F
    from torch import nn

    class Residual(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)
            self.bn = nn.BatchNorm2d(c)

        def forward(self, x):
            return F.relu(x + self.bn(self.conv(x)))

    class TutorialNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
            self.stage = nn.Sequential(Residual(8), Residual(8))
            self.fc = nn.Linear(8 * 4 * 4, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = self.stage(x)
            x = x.view(-1, 8 * 4 * 4)
            return F.log_softmax(self.fc(x) * math.sqrt(0.5), dim=1)
''')


def test_a_tutorial_model_comes_in_with_its_block_class_as_a_repeated_unit(qtbot, window,
                                                                         tmp_path):
    src = tmp_path / "tutorial.py"
    src.write_text(MODEL)
    window.actions["import_model"].trigger()
    dialog = window.files.import_dialog
    qtbot.keyClicks(dialog.path, str(src))
    qtbot.keyClicks(dialog.class_name, "TutorialNet")
    qtbot.keyClicks(dialog.shapes, "1, 8, 8")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.doc.name == "TutorialNet", timeout=60_000)
    g = window.doc.graph
    assert [n.type for n in g.nodes.values()] == [
        "Input", "Conv2d", "ReLU", "MaxPool2d", "Residual", "Reshape", "Linear", "Scale",
        "LogSoftmax", "Output"]
    stage = next(n for n in g.nodes.values() if n.type == "Residual")
    assert (stage.name, stage.repeat) == ("stage", 2)
    assert "Residual" in g.units and window.doc.analyzer.valid
    assert all(n.id in window.scene.nodes for n in g.nodes.values())
    window.view.fit_all()
    shot = os.environ.get("NETCANVAS_SHOT")
    if shot:  # a picture for a person to look at
        window.grab().save(shot)
