"""The settings panel offers every schedule of the one registry of training
names (graph.training_names), each starting from valid settings, so a project
that names any schedule shows it, and an unrelated edit keeps it."""

from __future__ import annotations

import pytest

from graph import training_names as names
from test_training_window import moons_project


@pytest.fixture
def open_window(qtbot, data_dir):
    made = []

    def open_(training: dict):
        from gui.main_window import MainWindow

        w = MainWindow(moons_project(training))
        qtbot.addWidget(w, before_close_func=lambda win: win.doc.undo.setClean())
        w.show()
        w.train.show_training()
        made.append(w)
        return w
    yield open_
    for w in made:
        if w.training is not None:
            w.training.shutdown()


def offered(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_the_lists_offered_are_the_registrys(open_window):
    s = open_window({}).training.settings
    assert offered(s.optimizer) == list(names.OPTIMIZERS)
    assert offered(s.loss)[1:] == list(names.LOSSES)  # after the task's default
    assert offered(s.schedule) == ["none", *names.SCHEDULES]


@pytest.mark.parametrize("name", ["CosineAnnealingWarmRestarts", "CyclicLR", "PolynomialLR"])
def test_a_project_schedule_is_shown_and_kept_by_another_edit(open_window, name):
    sched = {"type": name, **names.SCHEDULE_STARTS[name]}
    win = open_window({"scheduler": sched})
    s = win.training.settings
    assert s.schedule.currentText() == name
    s.batch_size.setValue(32)
    assert win.doc.project.training["batch_size"] == 32
    assert win.doc.project.training["scheduler"] == sched


def test_choosing_a_schedule_starts_from_its_registry_settings(open_window):
    win = open_window({})
    s = win.training.settings
    s.schedule.setCurrentText("CosineAnnealingWarmRestarts")
    assert win.doc.project.training["scheduler"] == {"type": "CosineAnnealingWarmRestarts",
                                                     "T_0": 10}
    assert s.schedule_params.text() == "T_0=10"
