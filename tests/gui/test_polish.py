"""Keyboard shortcuts, the dark theme followed live, and File → Export."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import QCheckBox, QToolBar

from gui import export_ops
from gui.commands import SetParam
from gui.app import apply_theme, follow_theme
from gui.canvas.style import canvas_background

SHORTCUTS = {
    "new": ["Ctrl+N"], "open": ["Ctrl+O"], "save": ["Ctrl+S"], "save_as": ["Ctrl+Shift+S"],
    "new_template": ["Ctrl+Shift+N"], "quit": ["Ctrl+Q"],
    "undo": ["Ctrl+Z"], "redo": ["Ctrl+Shift+Z", "Ctrl+Y"],
    "cut": ["Ctrl+X"], "copy": ["Ctrl+C"], "paste": ["Ctrl+V"], "duplicate": ["Ctrl+D"],
    "delete": ["Del"], "select_all": ["Ctrl+A"],
    "zoom_in": ["Ctrl++"], "zoom_out": ["Ctrl+-"], "fit": ["Ctrl+0"], "layout": ["Ctrl+L"],
}


def test_standard_shortcuts_are_present_and_unique(window):
    for key, wanted in SHORTCUTS.items():
        have = [s.toString() for s in window.actions[key].shortcuts()]
        for seq in wanted:
            assert seq in have, (key, seq, have)
    owners: dict[str, str] = {}
    for key, action in window.actions.items():
        for s in action.shortcuts():
            assert owners.setdefault(s.toString(), key) == key, f"{s.toString()} is used twice"


def test_shortcut_keys_reach_the_actions(qtbot, window):
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(window.scene.selected_node_ids()) == 4
    qtbot.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(window.doc.graph) == 8
    scale = window.view.transform().m11()
    qtbot.keyClick(window.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.view.transform().m11() < scale


@pytest.fixture
def light_again(qapp):
    yield
    apply_theme(qapp, False)


def test_dark_theme_restyles_the_canvas_live(qtbot, qapp, window, light_again, monkeypatch,
                                             tmp_path):
    node = window.scene.nodes["l1"]
    assert window.scene.backgroundBrush().color() == canvas_background(False)
    # the system scheme cannot change on offscreen platforms: force it and emit the signal
    monkeypatch.setattr("gui.app.is_dark", lambda: True)
    follow_theme(qapp, window)
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert qapp.palette().window().color().lightness() < 128
    assert window.dark and window.scene.dark and node.dark
    assert window.scene.backgroundBrush().color() == canvas_background(True)
    assert all(e.dark for e in window.scene.edges.values())
    qtbot.wait(10)
    shot = tmp_path / "shots" / "main_window_dark_live.png"
    shot.parent.mkdir()
    assert window.grab().save(str(shot))
    image = QImage(str(shot))
    assert image.width() >= window.width() and image.height() >= window.height()
    assert shot.stat().st_size > 20_000  # a real picture of panels and canvas, not a blank one
    tones = {image.pixelColor(x, y).rgb() for x in range(0, image.width(), 23)
             for y in range(0, image.height(), 17)}
    assert len(tones) > 20
    view = window.view.viewport().grab().toImage()
    corner = view.pixelColor(3, 3)
    assert corner.lightness() < 80  # the canvas really is dark
    icon = window.palette.items["Linear"].icon(0).pixmap(16, 16).toImage()
    assert icon.pixelColor(8, 3).lightness() < 128  # palette icons follow too


def test_dark_theme_greys_out_disabled_actions_and_shows_check_boxes(qtbot, qapp, window,
                                                                      light_again):
    apply_theme(qapp, True)
    window.set_dark(True)
    pal = qapp.palette()
    G, R = QPalette.ColorGroup, QPalette.ColorRole
    for role in (R.ButtonText, R.WindowText, R.Text):
        on, off = pal.color(G.Active, role), pal.color(G.Disabled, role)
        assert abs(on.lightness() - off.lightness()) > 60, role
    # Pause and Stop are disabled while nothing trains, and are drawn so
    toolbar = window.findChild(QToolBar, "main_toolbar")
    stop = toolbar.widgetForAction(window.actions["train_stop"])
    start = toolbar.widgetForAction(window.actions["train_start"])
    assert not stop.isEnabled() and start.isEnabled()
    qtbot.wait(10)

    def brightest(widget):
        img = widget.grab().toImage()
        return max(img.pixelColor(x, y).lightness() for x in range(img.width())
                   for y in range(img.height()))
    assert brightest(stop) < brightest(start) - 50
    # an unchecked check box has a visible outline on the dark panel
    box = QCheckBox()
    box.resize(20, 20)
    qtbot.addWidget(box)
    img = box.grab().toImage()
    window_tone = pal.color(R.Window).lightness()
    assert max(img.pixelColor(x, y).lightness() for x in range(img.width())
               for y in range(img.height())) > window_tone + 60
    # shape labels stand out on the dark canvas
    from gui.canvas.style import edge_colors, label_colors
    assert edge_colors(True)[1].lightness() - label_colors(True)[0].lightness() > 120


# ---------------------------------------------------------------------- export
@pytest.fixture
def save_to(monkeypatch):
    """Answer the next save dialogs with these paths."""
    answers: list[str] = []

    def fake(*_a, **_k):
        return (answers.pop(0) if answers else "", "")
    monkeypatch.setattr(export_ops.QFileDialog, "getSaveFileName", fake)
    return answers


def _valid(window):
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()
    assert window.doc.analyzer.refresh().valid()


def test_export_menu_has_every_export(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    export = next(a.menu() for a in menu.actions() if a.menu() and a.text() == "&Export")
    texts = [a.text() for a in export.actions()]
    assert texts == ["Model (.py)…", "Model and &Training Script…", "&Weights from a Checkpoint…",
                     "&ONNX…", "&Picture of the Graph…", "Model &Summary…"]


def test_export_model_script_and_summary(qtbot, window, tmp_path, save_to):
    _valid(window)
    save_to += [str(tmp_path / "net.py"), str(tmp_path / "run.py"), str(tmp_path / "s.txt")]
    assert window.exports.export_model()
    text = (tmp_path / "net.py").read_text()
    assert "class SmallNet(nn.Module)" in text and "nn.Linear(8, 32)" in text
    assert window.exports.export_script()
    assert (tmp_path / "run.py").exists() and (tmp_path / "run_train.py").exists()
    assert "run_train.py" in window.feedback.last_message
    assert window.exports.export_summary()
    summary = (tmp_path / "s.txt").read_text()
    assert "fc1" in summary and "N×1×8×32" in summary and "total parameters:  288" in summary
    assert not window.exports.export_model()  # the dialog cancelled: nothing written, no error


def test_export_of_an_invalid_network_says_why(qtbot, window, tmp_path, save_to):
    save_to.append(str(tmp_path / "bad.py"))
    assert not window.exports.export_model()
    assert "not connected" in window.feedback.last_message and not (tmp_path / "bad.py").exists()


def test_export_picture_png_and_svg(qtbot, window, tmp_path, save_to):
    save_to += [str(tmp_path / "g.png"), str(tmp_path / "g.svg"), str(tmp_path / "noext")]
    window.scene.select_nodes(["l1"])
    assert window.exports.export_picture()
    from PySide6.QtGui import QImage
    image = QImage(str(tmp_path / "g.png"))
    assert image.width() > 500 and image.height() > 100
    assert window.scene.selected_node_ids() == ["l1"]  # selection restored
    assert window.exports.export_picture()
    svg = (tmp_path / "g.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "fc1" in svg
    assert window.exports.export_picture()
    assert (tmp_path / "noext.png").exists()


def test_export_onnx_without_the_extra_explains(qtbot, window, monkeypatch, save_to):
    monkeypatch.setattr(export_ops.importlib.util, "find_spec", lambda name: None)
    assert not window.exports.export_onnx()
    assert "pip install 'netcanvas[onnx]'" in window.feedback.last_message


def test_export_weights_from_a_checkpoint(qtbot, window, tmp_path, save_to, monkeypatch):
    torch = pytest.importorskip("torch")
    from codegen.compile import build_model

    _valid(window)
    model, _code = build_model(window.doc.graph, window.doc.name)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.5)
    ckpt = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "epoch": 3}, ckpt)
    monkeypatch.setattr(export_ops.QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(ckpt), ""))
    save_to.append(str(tmp_path / "w.pt"))
    assert window.exports.export_weights(), window.feedback.last_message
    state = torch.load(tmp_path / "w.pt", weights_only=True)
    assert all(bool((v == 0.5).all()) for v in state.values()) and len(state) == 2
    # weights of another network are refused with the reason
    window.doc.undo.push(SetParam(window.doc.graph, "l1", "out_features", 7))
    save_to.append(str(tmp_path / "w2.pt"))
    assert not window.exports.export_weights()
    assert "do not fit this network" in window.feedback.last_message
