"""File → New from template…: the gallery lists the template files with a
picture, description, dataset and parameter count, and opens a copy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from graph.analysis import analyze
from graph.project import load_project
from gui.templates import TEMPLATES_DIR, TemplateGallery, list_templates

SHOTS = Path(__file__).resolve().parents[2] / "shots"


def _row(dialog, name: str) -> int:
    return next(k for k, i in enumerate(dialog.infos) if i.name == name)


def _distinct_colours(pixmap, step: int = 7) -> int:
    image = pixmap.toImage()
    return len({image.pixel(x, y) for x in range(0, image.width(), step)
                for y in range(0, image.height(), step)})


@pytest.fixture
def gallery(qtbot, window):
    window.actions["new_template"].trigger()
    dialog = window.files.template_dialog
    qtbot.waitExposed(dialog)
    return dialog


def test_gallery_lists_every_template_with_picture_and_facts(gallery):
    files = list_templates()
    assert len(files) >= 8 and gallery.list.count() == len(files)
    heads = [json.loads(p.read_text(encoding="utf-8")) for p in files]
    assert [gallery.list.item(k).text() for k in range(len(files))] == [h["name"] for h in heads]
    k = _row(gallery, "LeNet on digits")
    gallery.list.setCurrentRow(k)
    head = heads[k]
    expected = analyze(load_project(files[k]).graph).totals()["params"]
    assert gallery.title.text() == "LeNet on digits"
    assert gallery.description.text() == head["description"]
    assert "digits" in gallery.facts.text() and f"{expected:,}" in gallery.facts.text()
    pic = gallery.picture.pixmap()
    assert not pic.isNull() and _distinct_colours(pic) > 10  # a drawing, not a blank
    gallery.grab().save(str(SHOTS / "gallery.png"))


def test_double_click_opens_an_untitled_copy(qtbot, window, gallery, monkeypatch):
    k = _row(gallery, "LeNet on digits")
    path = TEMPLATES_DIR / "lenet_digits.json"
    before = path.read_bytes()
    item = gallery.list.item(k)
    gallery.list.scrollToItem(item)
    rect = gallery.list.visualItemRect(item)
    qtbot.mouseClick(gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    doc = window.doc
    assert doc.path is None and doc.name == "LeNet on digits"
    assert set(doc.graph.nodes) == set(load_project(path).graph.nodes)
    assert doc.analyzer.refresh().valid() and not gallery.isVisible()
    # laid out left to right, wrapped into bands that fit the window: an edge runs to
    # the right, or on to the next band below
    g = doc.graph
    assert all(g.nodes[e.target].pos[0] > g.nodes[e.source].pos[0]
               or g.nodes[e.target].pos[1] > g.nodes[e.source].pos[1] for e in g.edges)
    asked = []
    monkeypatch.setattr("gui.file_ops.QFileDialog.getSaveFileName",
                        lambda *a: asked.append(a[2]) or ("", ""))
    assert not window.files.file_save()  # no path: Save asks where (Save As), never the template
    assert asked and "templates" not in asked[0]
    assert path.read_bytes() == before


def test_create_button_opens_the_selected_template(qtbot, window, gallery):
    gallery.list.setCurrentRow(_row(gallery, "MLP on sine"))
    qtbot.mouseClick(gallery.create_button, Qt.MouseButton.LeftButton)
    assert window.doc.name == "MLP on sine" and window.doc.path is None
    assert window.windowTitle().startswith("MLP on sine —")


def test_cancel_keeps_the_document(qtbot, window, gallery):
    before = window.doc
    qtbot.mouseClick(gallery.buttons.button(gallery.buttons.StandardButton.Cancel),
                     Qt.MouseButton.LeftButton)
    assert window.doc is before


def test_non_json_files_are_ignored_and_broken_ones_explained(qtbot, tmp_path):
    good = json.loads((TEMPLATES_DIR / "mlp_sine.json").read_text(encoding="utf-8"))
    (tmp_path / "a.json").write_text(json.dumps(good), encoding="utf-8")
    (tmp_path / "RESULTS.md").write_text("# results\n", encoding="utf-8")
    (tmp_path / "b.json").write_text('{"format": "netcanvas", "version": 1, '
                                     '"nodes": [{"id": "a", "type": "Nope"}]}', encoding="utf-8")
    dialog = TemplateGallery(folder=tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 2
    assert dialog.list.currentRow() == 0 and dialog.create_button.isEnabled()
    dialog.list.setCurrentRow(1)
    assert "unknown block type 'Nope'" in dialog.description.text()
    assert not dialog.create_button.isEnabled()


def test_gallery_follows_the_course_order(gallery):
    names = [gallery.list.item(k).text() for k in range(gallery.list.count())]
    kinds = ["MLP on sine", "MLP on spirals", "LeNet on digits", "Residual CNN on digits",
             "ResNet-18-style CNN on digits", "Depthwise-separable CNN on digits", "LSTM on the adding problem",
             "Bidirectional GRU on majority token", "Transformer encoder on majority token",
             "GPT-style decoder on next token", "Convolutional autoencoder on digits"]
    assert names[:len(kinds)] == kinds
    assert gallery.list.currentRow() == 0  # the first network a course meets


def test_every_template_node_has_a_meaningful_name():
    """The generated code's attribute names come from the node names: none is automatic."""
    for path in list_templates():
        graph = load_project(path).graph
        auto = [n.id for n in graph.nodes.values() if n.auto_name]
        assert not auto, f"{path.name}: automatic names for {auto}"
        names = [n.name for n in graph.nodes.values()]
        assert len(set(names)) == len(names), path.name
        assert not any(re.fullmatch(r"[a-z]+\d*_\d+", n) for n in names), (path.name, names)
