"""The training settings panel through its widgets (issue 6 §1): each field is
stored in the project's ``training`` section as one undo step, and a dataset
file whose samples do not fit the Input is flagged before Start, naming both
shapes (its shape is read from the file, off the window's thread)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui import commands
from gui.training.settings_data import SetTraining
from test_training_window import win  # noqa: F401 (fixture)


@pytest.fixture
def panel(win):  # noqa: F811
    win.train.show_training()
    return win.training.settings


def training(win):  # noqa: F811
    return win.doc.project.training


def undo(win):  # noqa: F811
    win.actions["undo"].trigger()


def choose_file(panel, monkeypatch, kind: str, path) -> None:
    """Pick "CSV file…"/"NPZ file…" in the dataset list and answer the file dialog."""
    asked = []
    monkeypatch.setattr("gui.training.settings_dataset.QFileDialog.getOpenFileName",
                        lambda *a: asked.append(a) or (str(path), ""))
    i = panel.dataset.findText({"csv": "CSV file…", "npz": "NPZ file…"}[kind])
    panel.dataset.setCurrentIndex(i)
    panel.dataset.activated.emit(i)
    assert asked, "the file dialog was not shown"


def write_csv(path, columns: int, rows: int = 40):
    rng = np.random.default_rng(0)
    header = [f"f{i}" for i in range(columns)] + ["label"]
    lines = [",".join(header)]
    for _ in range(rows):
        lines.append(",".join(f"{v:.3f}" for v in rng.normal(size=columns)) + f",{rng.integers(2)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_field_is_stored_and_undoable(qtbot, win, panel):  # noqa: F811
    cases = [  # (what the user does, the key, the value stored)
        (lambda: panel.accum.setValue(4), "grad_accum_steps", 4),
        (lambda: (panel.l1.setText("1e-4"), panel.l1.editingFinished.emit()), "l1", 1e-4),
        (lambda: panel.patience.setValue(3), "early_stopping", {"patience": 3}),
        (lambda: qtbot.mouseClick(panel.amp, Qt.MouseButton.LeftButton), "amp", True),
        (lambda: panel.device.setCurrentText("auto"), "device", None),  # the default
        (lambda: (panel.seed.selectAll(), qtbot.keyClicks(panel.seed, "7")), "seed", 7),
    ]
    for act, key, value in cases:
        before = dict(training(win))
        act()
        assert training(win).get(key) == value, key
        assert win.doc.undo.undoText() == "Change training settings"
        undo(win)
        assert training(win) == before, key
        assert training(win).get(key) == before.get(key)
    # the fields show the undone values again
    assert panel.accum.value() == 1 and panel.l1.text() == "0" and panel.patience.value() == 0
    assert not panel.amp.isChecked() and panel.device.currentText() == "cpu"
    assert panel.seed.value() == 0


def test_a_bad_l1_value_is_refused_with_its_message(win, panel):  # noqa: F811
    panel.l1.setText("lots")
    panel.l1.editingFinished.emit()
    assert "L1 penalty: 'lots' is not a number" in panel.error.text()
    assert "l1" not in training(win)


def test_a_csv_file_with_its_target_column_is_chosen_and_undoable(qtbot, win, panel,  # noqa: F811
                                                                  tmp_path, monkeypatch):
    csv = write_csv(tmp_path / "two.csv", columns=2)
    choose_file(panel, monkeypatch, "csv", csv)
    assert training(win)["dataset"] == {"csv": str(csv)}
    assert panel.target.isEnabled()
    panel.target.setText("label")
    panel.target.editingFinished.emit()
    assert training(win)["dataset"] == {"csv": str(csv), "val_fraction": 0.2, "target": "label"}
    assert "target column 'label'" in panel.dataset_info.text()
    qtbot.waitUntil(lambda: "Reading" not in panel.fit.text(), timeout=5000)
    assert panel.fit.text() == ""  # two feature columns fit the Input [2]
    panel.target.setText("nope")
    panel.target.editingFinished.emit()
    qtbot.waitUntil(lambda: "nope" in panel.fit.text(), timeout=5000)
    assert "two.csv: there is no column 'nope' for the target; columns: 'f0', 'f1', " \
        "'label'" in panel.fit.text()
    undo(win)
    undo(win)
    assert training(win)["dataset"] == {"csv": str(csv)}
    undo(win)
    assert training(win)["dataset"] == {"name": "moons", "n": 200}
    assert panel.dataset.currentText() == "moons" and not panel.target.isEnabled()


def test_a_csv_of_the_wrong_shape_is_flagged_before_start(qtbot, win, panel, tmp_path,  # noqa: F811
                                                          monkeypatch):
    csv = write_csv(tmp_path / "five.csv", columns=5)
    choose_file(panel, monkeypatch, "csv", csv)
    qtbot.waitUntil(lambda: "five.csv" in panel.fit.text(), timeout=5000)
    assert panel.fit.text() == ('⛔ Input "x": dataset "five.csv" gives samples of shape 5 '
                                "(float32) but the Input expects 2 (float32); set the Input "
                                "shape to [5]")
    win.actions["train_start"].trigger()
    area = win.training
    assert not area.running and not area.runs.records
    assert area.message.text().startswith('Cannot start: Input "x": dataset "five.csv" gives '
                                          "samples of shape 5 (float32) but the Input expects 2")


def test_an_npz_file_is_checked_from_its_header(qtbot, win, panel, tmp_path,  # noqa: F811
                                                monkeypatch):
    path = tmp_path / "images.npz"
    np.savez(path, X=np.zeros((30, 4, 4), dtype=np.float32), y=np.zeros(30, dtype=np.int64))
    choose_file(panel, monkeypatch, "npz", path)
    assert training(win)["dataset"]["npz"] == str(path)
    qtbot.waitUntil(lambda: "images.npz" in panel.fit.text(), timeout=5000)
    assert 'dataset "images.npz" gives samples of shape 4×4 (float32) but the Input expects 2' \
        in panel.fit.text()
    tokens = tmp_path / "tokens.npz"
    np.savez(tokens, X=np.zeros((30, 2), dtype=np.int32), y=np.zeros(30, dtype=np.int64))
    choose_file(panel, monkeypatch, "npz", tokens)
    qtbot.waitUntil(lambda: "tokens.npz" in panel.fit.text(), timeout=5000)
    assert "shape 2 (int64) but the Input expects 2 (float32)" in panel.fit.text()
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK not really a zip")
    choose_file(panel, monkeypatch, "npz", broken)
    qtbot.waitUntil(lambda: "broken.npz" in panel.fit.text(), timeout=5000)
    assert "broken.npz: cannot be read as a NumPy .npz file" in panel.fit.text()
    # a real archive whose X member's compressed bytes are damaged: an error
    # no check names (zlib's) must still come back, not leave "Reading…" for good
    damaged = tmp_path / "damaged.npz"
    np.savez_compressed(damaged, X=np.arange(4000.0).reshape(40, 100), y=np.zeros(40))
    data = bytearray(damaged.read_bytes())
    data[60:400] = bytes(340)
    damaged.write_bytes(bytes(data))
    choose_file(panel, monkeypatch, "npz", damaged)
    qtbot.waitUntil(lambda: "damaged.npz" in panel.fit.text(), timeout=5000)
    assert "damaged.npz: cannot be read as a NumPy .npz file" in panel.fit.text()
    undo(win)
    undo(win)
    qtbot.waitUntil(lambda: "tokens.npz" in panel.fit.text(), timeout=5000)


def test_a_sequence_set_with_another_seq_len_is_checked(win, panel):  # noqa: F811
    g = win.doc.graph
    win.doc.undo.push(commands.SetParam(g, "x", "dtype", "int64"))
    win.doc.undo.push(commands.SetParam(g, "x", "shape", [20]))
    win.doc.undo.push(SetTraining(win.doc, {**training(win),
                                            "dataset": {"name": "majority_token"}}))
    assert "majority_token" not in panel.fit.text()  # 20 tokens: fits (the Embedding aside)
    win.doc.undo.push(SetTraining(win.doc, {**training(win),
                                            "dataset": {"name": "majority_token", "seq_len": 30}}))
    assert 'dataset "majority_token" gives samples of shape 30 (int64) but the Input expects ' \
        "20 (int64)" in panel.fit.text()


def test_an_image_folder_is_checked_from_its_image_headers(qtbot, win, panel,  # noqa: F811
                                                           tmp_path, monkeypatch):
    Image = pytest.importorskip("PIL.Image")
    for cls in ("cats", "dogs"):
        (tmp_path / "pets" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (6, 4), color=40 * i).save(tmp_path / "pets" / cls / f"{i}.png")
    monkeypatch.setattr("gui.training.settings_dataset.QFileDialog.getExistingDirectory",
                        lambda *a: str(tmp_path / "pets"))
    i = panel.dataset.findText("Image folder…")
    panel.dataset.setCurrentIndex(i)
    panel.dataset.activated.emit(i)
    assert training(win)["dataset"] == {"image_folder": str(tmp_path / "pets")}
    qtbot.waitUntil(lambda: "pets" in panel.fit.text(), timeout=5000)
    assert 'dataset "pets" gives samples of shape 1×4×6 (float32) but the Input expects 2' \
        in panel.fit.text()


def test_the_dataset_description_counts_the_samples_the_settings_ask_for(win, panel):  # noqa: F811
    win.doc.undo.push(SetTraining(win.doc, {**training(win),
                                            "dataset": {"name": "spirals", "n": 1000}}))
    assert "1,000 samples (800 for training)" in panel.dataset_info.text()
    win.doc.undo.push(SetTraining(win.doc, {**training(win), "dataset": {
        "name": "digits", "n": 99_999, "val_fraction": 0.5}}))
    # a fixed file: more than it has is refused at Start, and said here first
    assert "1,797 samples (n asks for 99,999: set it to at most 1,797)" in panel.dataset_info.text()
    win.doc.undo.push(SetTraining(win.doc, {**training(win), "dataset": {
        "name": "digits", "n": 1_000, "val_fraction": 0.5}}))
    assert "1,000 samples (500 for training)" in panel.dataset_info.text()
