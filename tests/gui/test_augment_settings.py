"""Augmentation in the training settings panel (issue 17 §1): a check box and an
amount per change, each stored in ``training.augment`` as one undo step; the
flip warns that it changes digits and letters; rows that cannot change the
network's inputs are greyed out; and a strip of 8 augmented training samples
(pictures for images, text for token sequences) refreshes as the settings change."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from gui.templates import TEMPLATES_DIR, open_template
from gui.training.settings_augment import FLIP_WARNING


def _template_window(qtbot, name: str):
    """The main window on a template, its training view shown; shut down after."""
    from gui.main_window import MainWindow

    w = MainWindow(open_template(TEMPLATES_DIR / name))
    qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
    w.show()
    qtbot.waitExposed(w)
    w.train.show_training()
    yield w
    if w.training is not None:
        w.training.shutdown()


@pytest.fixture
def lenet(qtbot, data_dir):
    yield from _template_window(qtbot, "lenet_digits.json")


def augment(win):
    return win.doc.project.training.get("augment")


def click(qtbot, box):
    """Click a check box on its indicator (its widget may be wider than its text)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))


def set_amount(qtbot, spin, text: str) -> None:
    """Type an amount as a user does: select it, type, press Enter."""
    edit = spin.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_each_row_is_stored_as_one_undo_step(qtbot, lenet):
    panel = lenet.training.settings.augment
    assert augment(lenet) is None
    click(qtbot, panel.boxes["rotate"])
    assert augment(lenet) == {"rotate": 10.0}
    set_amount(qtbot, panel.rotate, "20")
    assert augment(lenet) == {"rotate": 20.0}
    click(qtbot, panel.boxes["scale"])
    set_amount(qtbot, panel.scale_hi, "1.25")
    click(qtbot, panel.boxes["crop_pad"])
    click(qtbot, panel.boxes["noise"])
    click(qtbot, panel.boxes["translate"])
    assert augment(lenet) == {"translate": 1.0, "rotate": 20.0, "scale": [0.9, 1.25],
                              "crop_pad": 2, "noise": 0.05}
    lenet.actions["undo"].trigger()
    assert "translate" not in augment(lenet)
    assert not panel.boxes["translate"].isChecked()
    for _ in range(5):
        lenet.actions["undo"].trigger()
    assert augment(lenet) == {"rotate": 10.0}
    click(qtbot, panel.boxes["rotate"])
    assert augment(lenet) is None  # nothing on: the key is left out


def test_the_flip_is_off_by_default_and_warns_about_digits_and_letters(qtbot, lenet):
    panel = lenet.training.settings.augment
    assert not panel.boxes["hflip"].isChecked()
    assert not panel.flip_warning.isVisible()
    click(qtbot, panel.boxes["hflip"])
    assert augment(lenet) == {"hflip": True}
    assert panel.flip_warning.isVisible() and panel.flip_warning.text() == FLIP_WARNING
    assert "b ↔ d" in FLIP_WARNING and "digits" in FLIP_WARNING


def test_token_dropout_is_greyed_out_for_an_image_network(lenet):
    panel = lenet.training.settings.augment
    assert not panel.boxes["token_dropout"].isEnabled()
    assert panel.boxes["token_dropout"].toolTip().startswith(
        "token_dropout applies to token (integer) inputs, and this network has none (")
    assert panel.boxes["rotate"].isEnabled() and panel.boxes["noise"].isEnabled()


@pytest.fixture
def token_net(qtbot, data_dir):
    yield from _template_window(qtbot, "bigru_majority.json")


def test_a_token_network_greys_out_the_image_rows_with_the_graphs_message(qtbot, token_net):
    """Which row applies to which input is the graph's rule, said in the graph's words:
    the tooltip of a greyed row is exactly what ``check`` reports for that key."""
    from graph.training_check import augment_input_problems
    from gui.training.settings_data import SetTraining

    panel = token_net.training.settings.augment
    for key in ("translate", "rotate", "scale", "crop_pad", "hflip", "noise"):
        assert not panel.boxes[key].isEnabled(), key
    assert panel.boxes["token_dropout"].isEnabled()
    assert panel.boxes["rotate"].toolTip() == (
        "rotate applies to image inputs (C×H×W float samples), and this network has none "
        '(Input "tokens" gives T integer samples); remove rotate')
    assert panel.boxes["noise"].toolTip().startswith("noise applies to float inputs, and "
                                                     'this network has none (Input "tokens" gives T')
    # The same words as the Problems panel and `check` give for a file that sets them.
    t = dict(token_net.doc.project.training)
    t["augment"] = {"crop_pad": 2, "noise": 0.1}
    token_net.doc.push(SetTraining(token_net.doc, t, "hand edit"))
    said = {p.location: p.message for p in augment_input_problems(token_net.doc.graph, t)}
    for key in ("crop_pad", "noise"):
        where = f"training.augment.{key}"
        assert said[where] == f"{where}: {panel.boxes[key].toolTip()}"
        assert said[where] in panel.problem.text().splitlines()  # and the panel says so
    # A greyed row stays out of what the panel would write.
    click(qtbot, panel.boxes["token_dropout"])
    assert token_net.doc.project.training["augment"] == {"token_dropout": 0.1}


def test_a_bad_value_in_the_file_is_shown_with_its_message(qtbot, lenet):
    from gui.training.settings_data import SetTraining

    t = dict(lenet.doc.project.training)
    t["augment"] = {"scale": [1.2, 0.8]}
    lenet.doc.push(SetTraining(lenet.doc, t, "hand edit"))
    panel = lenet.training.settings.augment
    qtbot.waitUntil(lambda: panel.problem.isVisible())
    assert panel.problem.text() == \
        "training.augment.scale: must be [LO, HI] with 0 < LO <= HI, got [1.2, 0.8]"


def test_the_strip_shows_8_samples_and_refreshes_as_the_settings_change(qtbot, lenet):
    settings = lenet.training.settings
    strip = settings.augment_preview
    qtbot.waitUntil(lambda: strip.shown is not None, timeout=30000)
    assert len(strip.shown) == 8 and strip.shown.shape[1:] == (1, 8, 8)
    assert all(not lab.pixmap().isNull() for lab in strip.samples)
    plain = strip.shown.copy()
    with qtbot.waitSignal(strip.refreshed, timeout=30000):
        click(qtbot, settings.augment.boxes["rotate"])
    rotated = strip.shown.copy()
    assert not np.array_equal(rotated, plain)
    with qtbot.waitSignal(strip.refreshed, timeout=30000):
        set_amount(qtbot, settings.augment.rotate, "90")
    assert not np.array_equal(strip.shown, rotated)
    with qtbot.waitSignal(strip.refreshed, timeout=30000):
        lenet.actions["undo"].trigger()
    assert np.array_equal(strip.shown, rotated)  # the same seed draws the same changes
    lenet.training.settings.grab().save("/tmp/shot_h14_settings.png")
