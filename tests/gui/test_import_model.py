"""File → Import PyTorch Model, used as a person would: the dialog, then the network on the canvas."""

from __future__ import annotations

import textwrap

from PySide6.QtWidgets import QDialogButtonBox

MODEL = textwrap.dedent('''
    import torch
    from torch import nn

    class TinyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.act = nn.ReLU()
            self.flat = nn.Flatten()
            self.fc = nn.Linear(4 * 8 * 8, 10)

        def forward(self, x):
            return self.fc(self.flat(self.act(self.conv(x))))

    class Helper(nn.Module):
        def forward(self, x):
            return x
''')


def _dialog(qtbot, window, path, cls="", shape=""):
    window.actions["import_model"].trigger()
    dialog = window.files.import_dialog
    qtbot.keyClicks(dialog.path, str(path))
    qtbot.keyClicks(dialog.class_name, cls)
    qtbot.keyClicks(dialog.shapes, shape)
    return dialog


def _press_import(dialog):
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def test_a_model_file_is_imported_onto_the_canvas_as_an_unsaved_document(qtbot, window, tmp_path):
    src = tmp_path / "tiny.py"
    src.write_text(MODEL)
    window.doc.undo.setClean()
    dialog = _dialog(qtbot, window, src, "TinyNet", "1, 8, 8")
    _press_import(dialog)
    qtbot.waitUntil(lambda: window.doc.name == "TinyNet", timeout=60_000)
    g = window.doc.graph
    assert sorted(n.type for n in g.nodes.values()) == sorted(
        ["Input", "Conv2d", "ReLU", "Flatten", "Linear", "Output"])
    assert window.doc.path is None and window.doc.analyzer.valid
    assert all(n.id in window.scene.nodes for n in g.nodes.values())
    assert "Imported TinyNet from tiny.py: 6 blocks" in window.statusBar().currentMessage()
    # saved nowhere yet: the title says so and closing would ask
    assert window.doc.is_modified() and window.windowTitle() == "TinyNet* — NetCanvas"


def test_an_unnamed_class_among_several_and_a_bad_shape_are_explained(qtbot, window, tmp_path):
    src = tmp_path / "tiny.py"
    src.write_text(MODEL)
    dialog = _dialog(qtbot, window, tmp_path / "missing.py")
    _press_import(dialog)
    assert dialog.isVisible() and "There is no file" in dialog.error.text()
    dialog.path.clear()
    qtbot.keyClicks(dialog.path, str(src))
    qtbot.keyClicks(dialog.shapes, "1,,8")
    _press_import(dialog)
    assert dialog.error.text() == "Input shape '1,,8': write sizes separated by commas, e.g. 1,8,8"
    dialog.shapes.clear()
    name = window.doc.name
    _press_import(dialog)  # two classes and no name: the import says which ones it found
    qtbot.waitUntil(lambda: window.feedback.last_message is not None, timeout=60_000)
    assert "name the model class to import (found: TinyNet, Helper)" in window.feedback.last_message
    assert window.doc.name == name  # the open document is untouched


def test_a_module_without_a_block_is_named(qtbot, window, tmp_path):
    src = tmp_path / "odd.py"
    src.write_text(textwrap.dedent('''
        from torch import nn

        class Odd(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.up = nn.Upsample(scale_factor=2)

            def forward(self, x):
                return self.up(self.fc(x).unsqueeze(1))
    '''))
    _press_import(_dialog(qtbot, window, src, shape="4"))
    qtbot.waitUntil(lambda: window.feedback.last_message is not None, timeout=60_000)
    assert "Upsample" in window.feedback.last_message


def test_the_menu_and_the_command_say_that_importing_runs_the_files_code(qtbot, window):
    import subprocess
    import sys
    from pathlib import Path

    tip = window.actions["import_model"].statusTip()  # shown as the menu entry is hovered
    assert "importing runs the file's code" in tip and "only files you trust" in tip
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(root / "main.py"), "import", "--help"], cwd=root,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())  # argparse wraps lines
    assert "Importing runs the file's Python code" in text and "only files you trust" in text
    out = subprocess.run([sys.executable, str(root / "main.py"), "--help"], cwd=root,
                         capture_output=True, text=True, timeout=60)
    assert "runs the file's code" in " ".join(out.stdout.split())
