"""Training settings edited in the panel (undoable), runs kept and compared."""

from __future__ import annotations

import pytest

from gui import commands
from gui.training.settings_data import (LOSSES, OPTIMIZERS, SCHEDULES, SettingsParseError,
                                        parse_kwargs)
from test_training_window import moons_project, wait_done, win  # noqa: F401 (fixture)


def test_the_panel_offers_what_the_runtime_builds():
    from runtime import optim

    assert LOSSES == optim.LOSSES and OPTIMIZERS == optim.OPTIMIZERS
    assert set(SCHEDULES) <= set(optim.schedule_names())


@pytest.mark.parametrize("text, message", [
    ("gamma", "'gamma' is not name=value"),
    ("gamma=fast", "gamma: 'fast' is not a number, list or true/false"),
    ("1x=2", "'1x' is not a parameter name"),
])
def test_bad_schedule_parameters_are_refused_with_a_message(text, message):
    with pytest.raises(SettingsParseError, match=message):
        parse_kwargs(text)


def test_schedule_parameters_read_as_json():
    assert parse_kwargs("milestones=[3, 6], gamma=0.5, mode=\"min\", verbose=false") == \
        {"milestones": [3, 6], "gamma": 0.5, "mode": "min", "verbose": False}


def test_settings_edits_are_undoable_and_reload_the_fields(qtbot, win):  # noqa: F811
    win.train.show_training()
    s = win.training.settings
    assert s.batch_size.value() == 16 and s.device.findText("cpu") >= 0
    s.batch_size.setValue(32)
    assert win.doc.project.training["batch_size"] == 32
    assert win.doc.undo.undoText() == "Change training settings"
    s.schedule.setCurrentText("StepLR")
    assert win.doc.project.training["scheduler"] == {"type": "StepLR", "step_size": 10,
                                                     "gamma": 0.5}
    assert s.schedule_params.text() == "step_size=10, gamma=0.5"
    s.schedule_params.setText("step_size=oops")
    s.schedule_params.editingFinished.emit()
    assert "step_size: 'oops' is not a number" in s.error.text()
    assert win.doc.project.training["scheduler"]["step_size"] == 10
    s.clip.setText("-1")
    s.clip.editingFinished.emit()
    assert "gradient clipping must be a positive number" in s.error.text()
    s.clip.setText("")
    s.lr.setText("fast")
    s.lr.editingFinished.emit()
    assert "learning rate: 'fast' is not a number\n" in s.error.text()  # both listed
    assert win.doc.project.training["optimizer"]["lr"] == 0.01
    s.lr.setText("0.01")
    s.schedule.setCurrentText("none")
    assert "scheduler" not in win.doc.project.training
    win.actions["undo"].trigger()
    assert s.schedule.currentText() == "StepLR"
    win.actions["undo"].trigger()
    win.actions["undo"].trigger()
    assert s.batch_size.value() == 16 and win.doc.project.training["batch_size"] == 16
    assert "Memory: needs ≈" in s.memory.text() and "batch size 16" in s.memory.text()
    assert "largest batch size that fits" in s.memory.text()


def test_two_runs_overlay_and_their_differences_are_listed(qtbot, win):  # noqa: F811
    area = win.train.training_area()
    win.actions["train_start"].trigger()
    wait_done(qtbot, area)
    area.settings.lr.setText("0.05")
    area.settings.lr.editingFinished.emit()
    win.doc.undo.push(commands.SetParam(win.doc.graph, "l1", "out_features", 8))
    win.actions["train_start"].trigger()
    wait_done(qtbot, area)
    assert area.runs.checked() == ["run 1", "run 2"]
    assert area.view.plots.visible_runs() == ["run 1", "run 2"]
    text = area.runs.compare_plain()
    assert "run 1 → run 2" in text
    assert "setting optimizer.lr: 0.01 → 0.05" in text
    assert 'network Linear "hidden": out_features 16 → 8' in text
    assert "run 2: completed, 3 epoch(s), val_loss" in text
    area.runs.set_checked(["run 2"])
    assert area.view.plots.visible_runs() == ["run 2"]
    assert "Check two or more runs" in area.runs.compare_plain()
