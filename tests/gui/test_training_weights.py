"""Runs kept with their folders and weights loaded back into the model (issue 6 §6):
Runs → Load weights puts a run's checkpoint into the document, the next Start
trains from it and File → Export → Weights writes it; an edit that breaks the
match is said at once and refused at Start; runs survive reopening the project;
a document without a file of its own keeps its runs in the app's data folder."""

from __future__ import annotations

import json

import torch
from PySide6.QtCore import Qt

from graph.project import load_project
from gui import commands
from gui.document import Document
from gui.templates import TEMPLATES_DIR
from gui.training.run_store import METRICS_FILE, RUN_FILE, read_run
from gui.training.settings_data import SetTraining
from test_training_window import wait_done, win  # noqa: F401 (fixture)


def train(qtbot, win):  # noqa: F811
    win.actions["train_start"].trigger()
    area = win.training
    assert area.running
    wait_done(qtbot, area)
    return area


def test_a_runs_weights_are_loaded_trained_from_and_exported(qtbot, win, tmp_path,  # noqa: F811
                                                             monkeypatch):
    area = train(qtbot, win)
    run1 = area.runs.records["run 1"]
    best = run1.epoch_of("best")
    area.side.setCurrentWidget(area.runs)
    area.runs.list.setCurrentRow(0)
    assert area.runs.load_button.isEnabled()
    assert area.runs.load_last_action.text() == "Last checkpoint (epoch 3)"
    qtbot.mouseClick(area.runs.load_button, Qt.MouseButton.LeftButton)
    assert win.doc.weights is not None and win.doc.weights.path == run1.checkpoint("best")
    assert area.weights_box.isVisible()
    assert area.weights_line.text() == (f"weights: run 1 (best, epoch {best}) — the next Start "
                                        "trains from them")

    # File → Export → Weights writes the loaded weights without asking for a checkpoint
    out = tmp_path / "loaded.pt"
    monkeypatch.setattr("gui.export_ops.QFileDialog.getOpenFileName",
                        lambda *a: (_ for _ in ()).throw(AssertionError("asked for a file")))
    monkeypatch.setattr("gui.export_ops.QFileDialog.getSaveFileName", lambda *a: (str(out), ""))
    win.actions["export_weights"].trigger()
    saved = torch.load(out, weights_only=True)
    saved = saved.get("model", saved)
    ckpt = torch.load(run1.checkpoint("best"), weights_only=True)["model"]
    assert set(saved) == set(ckpt) and all(torch.equal(saved[k], ckpt[k]) for k in ckpt)

    # the next Start trains from them: its first epoch starts where run 1 was best
    area = train(qtbot, win)
    run2 = area.runs.records["run 2"]
    assert run2.init_weights == f"run 1 (best, epoch {best})"
    assert "weights loaded from" in area.message.text()
    assert run2.history[0]["val_loss"] < run1.history[0]["val_loss"]
    assert "started from the weights of run 1" in area.runs.list.item(1).toolTip()


def test_an_edit_that_breaks_the_weights_is_said_and_refused(qtbot, win):  # noqa: F811
    area = train(qtbot, win)
    area.runs.list.setCurrentRow(0)
    area.runs.load_last_action.trigger()  # the arrow's menu: the last checkpoint
    assert area.weights_line.text().startswith("weights: run 1 (last, epoch 3)")
    win.doc.undo.push(commands.SetParam(win.doc.graph, "l1", "out_features", 8))
    text = area.weights_line.text()
    assert text.startswith("⛔ weights: run 1 (last, epoch 3) — they no longer fit the "
                           "network: ")
    assert '"hidden" (Linear) has 24 parameters; the weights hold 48' in text
    assert '"logits" (Linear) has 18 parameters; the weights hold 34' in text
    win.actions["train_start"].trigger()
    assert not area.running and list(area.runs.records) == ["run 1"]
    assert area.message.text().startswith("Cannot start: the weights of run 1 (last, epoch 3) "
                                          'no longer fit the network: "hidden" (Linear) has 24')
    win.actions["undo"].trigger()
    assert area.weights_line.text().startswith("weights: run 1 (last, epoch 3) — the next Start")
    win.doc.undo.push(commands.Rename(win.doc.graph, "l2", "head"))
    assert '"logits" (Linear) is no longer in the network (removed or renamed)' in \
        area.weights_line.text()
    assert '"head" (Linear) has no weights in them' in area.weights_line.text()
    qtbot.mouseClick(area.forget_button, Qt.MouseButton.LeftButton)
    assert win.doc.weights is None and not area.weights_box.isVisible()


def test_runs_are_kept_with_their_folder_and_listed_when_the_project_reopens(  # noqa: F811
        qtbot, win, tmp_path, monkeypatch):
    path = tmp_path / "moons.json"
    monkeypatch.setattr("gui.file_ops.QFileDialog.getSaveFileName", lambda *a: (str(path), ""))
    win.actions["save_as"].trigger()
    assert win.doc.path == str(path)
    area = train(qtbot, win)
    rec = area.runs.records["run 1"]
    assert rec.out_dir.parent == tmp_path / "runs"  # next to the project file
    saved = json.loads((rec.out_dir / RUN_FILE).read_text(encoding="utf-8"))
    assert saved["project_file"] == str(path) and saved["network"]["training"]["epochs"] == 3
    back = read_run(rec.out_dir / RUN_FILE)  # run.json with the metrics appended beside it
    assert back.status == "completed" and len(back.history) == 3
    assert len(back.step_losses) == 30 and back.step_losses == rec.step_losses

    win.actions["new"].trigger()  # another document: its runs are not this one's
    assert not area.runs.records and not area.view.plots.runs
    win.files.open_path(path)
    assert list(area.runs.records) == ["run 1"]
    again = area.runs.records["run 1"]
    assert again.status == "completed" and again.history == rec.history
    assert area.runs.list.item(0).text() == rec.summary()
    curves = area.view.plots.runs["run 1"].curves
    area.view.plots.flush()
    assert len(curves["loss"]) == 30 and len(curves["val_loss"]) == 3
    assert len(curves["val_accuracy"]) == 3
    # still compared and loaded, and the next run is numbered after it
    area.runs.list.setCurrentRow(0)
    assert area.load_weights("run 1", "best")
    assert area.weights_line.text().startswith("weights: run 1 (best, epoch")
    win.doc.undo.push(SetTraining(win.doc, {**win.doc.project.training, "epochs": 1}))
    area = train(qtbot, win)
    assert list(area.runs.records) == ["run 1", "run 2"]
    assert "setting epochs: 3 → 1" in area.runs.compare_plain()


def test_a_run_that_was_going_when_the_program_ended_is_listed_as_interrupted(  # noqa: F811
        qtbot, win, tmp_path, monkeypatch):
    path = tmp_path / "moons.json"
    monkeypatch.setattr("gui.file_ops.QFileDialog.getSaveFileName", lambda *a: (str(path), ""))
    win.actions["save_as"].trigger()
    area = train(qtbot, win)
    metrics = area.runs.records["run 1"].out_dir / METRICS_FILE
    lines = metrics.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["status"] == "completed"
    # as if the program had ended before the run did: its end was never written
    metrics.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    (tmp_path / "runs" / "junk").mkdir()
    (tmp_path / "runs" / "junk" / RUN_FILE).write_text("{not json", encoding="utf-8")
    win.files.open_path(path)
    rec = area.runs.records["run 1"]
    assert rec.status == "interrupted" and list(area.runs.records) == ["run 1"]
    area.runs.list.setCurrentRow(0)
    assert area.runs.resume_button.isEnabled()  # it continues from its last checkpoint


def test_runs_of_a_template_or_the_example_go_to_the_data_folder(qtbot, win,  # noqa: F811
                                                                  data_dir):
    from gui.app import EXAMPLE

    area = win.train.training_area()
    before = sorted(p.name for p in TEMPLATES_DIR.iterdir())
    for open_doc in (lambda: win.set_document(Document(load_project(EXAMPLE), None)),  # start-up
                     lambda: win.files.new_from_template(str(TEMPLATES_DIR / "mlp_spirals.json"))):
        open_doc()
        assert win.doc.path is None  # Save asks where: a template is never saved over
        win.actions["train_start"].trigger()
        assert area.running
        rec = area.record
        area.stop()
        wait_done(qtbot, area, timeout=10000)
        if win.doc.name.startswith("LeNet"):  # digits: classification, but no 2-D map
            assert not area.view.tabs.isTabVisible(1) and area.view.tabs.isTabVisible(2)
        assert rec.out_dir.parent == data_dir / "runs"
        assert (rec.out_dir / RUN_FILE).is_file()
    assert sorted(p.name for p in TEMPLATES_DIR.iterdir()) == before  # no runs/ in the package
