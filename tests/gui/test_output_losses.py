"""One loss per Output in the training settings panel: the two-heads example
(``loss`` keyed by Output id, ``loss_weights``) shows a row per Output with
its name, its loss and its weight, instead of "(default)"; changing a row
through its widgets writes the project's training section as one undo step;
a single-output project keeps its one loss list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from graph.project import load_project

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def open_window(qtbot, path: Path):
    from gui.main_window import MainWindow

    w = MainWindow(load_project(path))
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.show()
    qtbot.waitExposed(w)
    w.train.show_training()
    return w


@pytest.fixture
def two_heads(qtbot, data_dir, tmp_path):
    for name in ("two_heads_digits.json", "two_heads_digits.npz"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    w = open_window(qtbot, tmp_path / "two_heads_digits.json")
    yield w
    if w.training is not None:
        w.training.shutdown()


def rows(panel) -> list[tuple[str, str, float]]:
    box = panel.output_losses
    return [(box.names[k].text(), box.losses[k].currentText(), box.weights[k].value())
            for k in range(len(box.shown())) if box.names[k].isVisibleTo(panel)]


def type_weight(qtbot, spin, text: str) -> None:
    """Replace a spin box's number as a user does: select it all, type, press Enter."""
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


def choose(qtbot, combo, text: str) -> None:
    """Pick an entry of a list (as the test of the one-loss list does: no popup)."""
    target = combo.findText(text)
    assert target >= 0, text
    combo.setCurrentIndex(target)


def test_each_output_shows_its_loss_and_weight_and_edits_are_undoable(qtbot, two_heads):
    panel = two_heads.training.settings
    form = panel.form
    assert form.isRowVisible(panel.output_losses) and not form.isRowVisible(panel.loss)
    assert rows(panel) == [("digit_logits", "CrossEntropyLoss", 1.0),
                           ("score", "MSELoss", 0.5)]
    before = json.loads(json.dumps(two_heads.doc.project.training))
    box = panel.output_losses
    score = box.row_of("score")
    choose(qtbot, box.losses[score], "SmoothL1Loss")
    t = two_heads.doc.project.training
    assert t["loss"] == {"digit": {"type": "CrossEntropyLoss"}, "score": {"type": "SmoothL1Loss"}}
    assert two_heads.doc.undo.undoText() == "Change output losses"
    type_weight(qtbot, box.weights[box.row_of("digit")], "2.5")
    t = two_heads.doc.project.training
    assert t["loss_weights"] == {"digit": 2.5, "score": 0.5}
    assert t["loss"]["score"] == {"type": "SmoothL1Loss"}
    assert rows(panel) == [("digit_logits", "CrossEntropyLoss", 2.5),
                           ("score", "SmoothL1Loss", 0.5)]
    assert not [p for p in two_heads.doc.analyzer.problems() if p.location is not None]
    two_heads.actions["undo"].trigger()  # the weight
    assert two_heads.doc.project.training["loss_weights"] == {"digit": 1.0, "score": 0.5}
    two_heads.actions["undo"].trigger()  # the loss
    assert two_heads.doc.project.training == before
    assert rows(panel) == [("digit_logits", "CrossEntropyLoss", 1.0),
                           ("score", "MSELoss", 0.5)]
    two_heads.actions["redo"].trigger()
    assert two_heads.doc.project.training["loss"]["score"] == {"type": "SmoothL1Loss"}
    assert rows(panel)[1] == ("score", "SmoothL1Loss", 0.5)


def test_an_outputs_own_loss_settings_stay_when_another_row_changes(qtbot, two_heads):
    panel = two_heads.training.settings
    t = json.loads(json.dumps(two_heads.doc.project.training))
    t["loss"]["digit"]["label_smoothing"] = 0.1
    del t["loss_weights"]
    panel.push(t, "set by hand")
    assert rows(panel) == [("digit_logits", "CrossEntropyLoss", 1.0), ("score", "MSELoss", 1.0)]
    box = panel.output_losses
    type_weight(qtbot, box.weights[box.row_of("score")], "0.25")
    choose(qtbot, box.losses[box.row_of("score")], "(default)")
    t = two_heads.doc.project.training
    # the digit's smoothing is kept; a weight of 1 is not written where there was none
    assert t["loss"] == {"digit": {"type": "CrossEntropyLoss", "label_smoothing": 0.1}}
    assert t["loss_weights"] == {"score": 0.25}
    panel.epochs.setValue(3)  # another field leaves the losses as they are
    assert two_heads.doc.project.training["loss"] == t["loss"]


def test_a_bad_weight_in_the_file_marks_its_row(qtbot, two_heads):
    panel = two_heads.training.settings
    t = json.loads(json.dumps(two_heads.doc.project.training))
    t["loss_weights"]["score"] = -2
    t["loss"]["digit"] = {"type": "NoSuchLoss"}
    panel.push(t, "set by hand")
    box = panel.output_losses
    digit, score = box.row_of("digit"), box.row_of("score")
    assert "#d22" in box.names[score].styleSheet() and "#d22" in box.names[digit].styleSheet()
    assert "must be at least 0, got -2" in box.names[score].toolTip()
    assert "must be at least 0, got -2" in box.weights[score].toolTip()
    assert "unknown loss 'NoSuchLoss'" in box.names[digit].toolTip()
    assert rows(panel)[0][1] == "(default)"
    type_weight(qtbot, box.weights[score], "3")  # its own row: replaced, the problem goes
    t = two_heads.doc.project.training
    assert t["loss_weights"]["score"] == 3.0 and t["loss"]["digit"] == {"type": "NoSuchLoss"}
    assert "#d22" not in box.names[score].styleSheet()


def test_a_single_output_project_keeps_its_one_loss_list(qtbot, data_dir, tmp_path):
    from test_training_window import moons_project

    from graph.project import save_project

    path = save_project(moons_project(), tmp_path / "moons.json")
    w = open_window(qtbot, path)
    panel = w.training.settings
    assert panel.form.isRowVisible(panel.loss)
    assert not panel.form.isRowVisible(panel.output_losses)
    w.training.shutdown()
