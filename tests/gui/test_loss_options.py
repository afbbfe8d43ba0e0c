"""The loss's own settings in the training settings panel (issue 17 §2): label
smoothing, reduction, ignore_index and class weights, each with its widget,
shown only for losses that take them; each stored in the project's training
section as one undo step, and a bad value refused with its message."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from test_training_window import win  # noqa: F401 (fixture)


@pytest.fixture
def panel(win):  # noqa: F811
    win.train.show_training()
    return win.training.settings


def loss(win):  # noqa: F811
    return win.doc.project.training.get("loss")


def undo(win):  # noqa: F811
    win.actions["undo"].trigger()


def type_into(qtbot, widget, text: str) -> None:
    """Replace a field's text as a user does: select it all, type, press Enter."""
    edit = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def shown(panel, field: str) -> bool:
    return panel.form.isRowVisible(getattr(panel, field))


def choose_loss(panel, name: str) -> None:
    panel.loss.setCurrentText(name)


def test_label_smoothing_is_stored_and_undoable(qtbot, win, panel):  # noqa: F811
    # moons is a classification set: the default loss is CrossEntropyLoss, which takes it
    assert loss(win) is None and shown(panel, "label_smoothing")
    type_into(qtbot, panel.label_smoothing, "0.1")
    assert loss(win) == {"type": "CrossEntropyLoss", "label_smoothing": 0.1}
    assert win.doc.undo.undoText() == "Change training settings"
    assert panel.loss.currentText() == "CrossEntropyLoss"
    undo(win)
    assert loss(win) is None and panel.label_smoothing.value() == 0.0
    panel.label_smoothing.setValue(0.95)
    panel.label_smoothing.stepBy(3)  # the arrows stop at 1
    assert panel.label_smoothing.value() == 1.0 and loss(win)["label_smoothing"] == 1.0


def test_label_smoothing_outside_0_to_1_is_refused_with_its_message(qtbot, win,  # noqa: F811
                                                                      panel):
    type_into(qtbot, panel.label_smoothing, "1.5")
    assert "label smoothing must be between 0 and 1, got 1.5" in panel.error.text()
    assert loss(win) is None
    type_into(qtbot, panel.label_smoothing, "0.2")
    assert "label smoothing" not in panel.error.text()
    assert loss(win) == {"type": "CrossEntropyLoss", "label_smoothing": 0.2}


def test_each_loss_shows_only_the_settings_it_takes(win, panel):  # noqa: F811
    choose_loss(panel, "MSELoss")
    assert loss(win) == {"type": "MSELoss"}
    assert shown(panel, "reduction") and not shown(panel, "label_smoothing")
    assert not shown(panel, "ignore_index") and not shown(panel, "class_weights")
    assert [panel.reduction.itemText(i) for i in range(panel.reduction.count())] == [
        "(default)", "mean", "sum"]
    choose_loss(panel, "KLDivLoss")
    assert "batchmean" in [panel.reduction.itemText(i) for i in range(panel.reduction.count())]
    choose_loss(panel, "NLLLoss")
    assert shown(panel, "ignore_index") and shown(panel, "class_weights")
    assert not shown(panel, "label_smoothing")
    choose_loss(panel, "BCEWithLogitsLoss")  # its weight is not one per class
    assert not shown(panel, "class_weights") and not shown(panel, "ignore_index")


def test_reduction_is_chosen_from_a_list_and_undoable(win, panel):  # noqa: F811
    choose_loss(panel, "MSELoss")
    panel.reduction.setCurrentText("sum")
    assert loss(win) == {"type": "MSELoss", "reduction": "sum"}
    undo(win)
    assert loss(win) == {"type": "MSELoss"} and panel.reduction.currentText() == "(default)"


def test_ignore_index_is_an_optional_whole_number(qtbot, win, panel):  # noqa: F811
    choose_loss(panel, "CrossEntropyLoss")
    type_into(qtbot, panel.ignore_index, "-1")
    assert loss(win) == {"type": "CrossEntropyLoss", "ignore_index": -1}
    type_into(qtbot, panel.ignore_index, "first")
    assert "ignore index: 'first' is not a whole number" in panel.error.text()
    assert loss(win)["ignore_index"] == -1
    type_into(qtbot, panel.ignore_index, "")
    assert loss(win) == {"type": "CrossEntropyLoss"}
    undo(win)
    assert loss(win)["ignore_index"] == -1 and panel.ignore_index.text() == "-1"


def weight_cell(panel, row: int):
    return panel.class_weights.table.item(row, 1)


def test_class_weights_are_edited_per_class_and_checked_against_the_class_count(
        qtbot, win, panel):  # noqa: F811
    table = panel.class_weights.table
    # moons: two classes, named as the dataset names them
    assert [table.item(i, 0).text() for i in range(table.rowCount())] == ["upper", "lower"]
    weight_cell(panel, 1).setText("3")
    assert loss(win) == {"type": "CrossEntropyLoss", "weight": [1.0, 3.0]}
    undo(win)
    assert loss(win) is None and panel.class_weights.shown() == ("", "")
    weight_cell(panel, 0).setText("heavy")
    assert "class weights: upper: 'heavy' is not a number" in panel.error.text()
    assert loss(win) is None
    weight_cell(panel, 0).setText("-2")
    assert "class weights: upper: must be a number >= 0, got -2" in panel.error.text()
    weight_cell(panel, 0).setText("2")
    assert loss(win) == {"type": "CrossEntropyLoss", "weight": [2.0, 1.0]}
    # digits has 10 classes: two weights no longer fit, said on the field and in the list
    panel.set_dataset({"name": "digits"})
    label = panel.form.labelForField(panel.class_weights)
    says = 'training.loss.weight has 2 class weights but dataset "digits" has 10 classes'
    assert says in label.toolTip() and "#d22" in label.styleSheet()
    assert any(says in line for line in panel.error.text().splitlines())
    qtbot.mouseClick(panel.class_weights.equal, Qt.MouseButton.LeftButton)
    assert loss(win) == {"type": "CrossEntropyLoss"} and table.rowCount() == 10
    assert says not in panel.error.text()


def test_choosing_the_default_loss_drops_its_settings(qtbot, win, panel):  # noqa: F811
    type_into(qtbot, panel.label_smoothing, "0.1")
    panel.loss.setCurrentText("(default)")
    assert loss(win) is None and panel.label_smoothing.value() == 0.0


def test_a_reduction_the_next_loss_does_not_take_is_not_carried_to_it(win, panel):  # noqa: F811
    choose_loss(panel, "KLDivLoss")
    panel.reduction.setCurrentText("batchmean")
    assert loss(win) == {"type": "KLDivLoss", "reduction": "batchmean"}
    choose_loss(panel, "MSELoss")
    assert loss(win) == {"type": "MSELoss"}
    assert [p for p in win.doc.analyzer.errors() if p.location] == []
