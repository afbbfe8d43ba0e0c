"""How the canvas looks when a network opens: all of it in sight at a
readable size, key parameters unclipped, shape labels on pills, family
colours that never read as an error."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from graph import blocks
from graph.project import load_project
from gui import commands
from gui.app import EXAMPLE
from gui.canvas.node_item import NAME_FONT, TEXT_FONT
from gui.canvas.style import ERROR_COLOR, FAMILY_HUES, family_color, label_colors
from gui.canvas.view import READABLE_ZOOM
from gui.document import Document
from gui.templates import TEMPLATES_DIR

MIN_TEXT_PX = 8.0  # on screen, at the zoom a network opens with


def _big(qtbot, window):
    window.resize(1500, 900)
    qtbot.waitUntil(lambda: window.width() == 1500)
    qtbot.wait(10)


def _all_in_sight(window) -> bool:
    seen = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    return all(seen.contains(item.sceneBoundingRect()) for item in window.scene.nodes.values())


def _input_in_sight(window) -> bool:
    g = window.doc.graph
    first = window.scene.nodes[next(n for n in g.nodes if g.nodes[n].type == "Input")]
    seen = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    return seen.contains(first.sceneBoundingRect())


def test_the_example_opens_readable_from_its_input(qtbot, window):
    _big(qtbot, window)
    window.set_document(Document(load_project(EXAMPLE), None), fresh_layout=True)
    zoom = window.view.zoom_level()
    # ten LeNet layers in one column (no wrapping): readable, the input in
    # sight, the rest a scroll (or the minimap) away
    assert zoom >= READABLE_ZOOM and _input_in_sight(window)
    assert TEXT_FONT.pixelSize() * zoom >= MIN_TEXT_PX and NAME_FONT.pixelSize() * zoom >= MIN_TEXT_PX
    assert not window.doc.is_modified()  # laying out a fresh copy is no edit


def test_a_small_template_opens_whole_and_readable(qtbot, window):
    _big(qtbot, window)
    assert window.files.new_from_template(TEMPLATES_DIR / "lstm_adding.json")
    assert window.view.zoom_level() >= READABLE_ZOOM and _all_in_sight(window)


def test_a_twenty_layer_template_opens_in_one_direction_without_wrapping(qtbot, window):
    _big(qtbot, window)
    assert window.files.new_from_template(TEMPLATES_DIR / "resnet_digits.json")
    assert len(window.doc.graph) >= 20
    assert window.view.zoom_level() >= READABLE_ZOOM and _input_in_sight(window)
    g = window.doc.graph
    # every edge reads top to bottom: no row wraps back
    assert all(g.nodes[e.target].pos[1] > g.nodes[e.source].pos[1] for e in g.edges)


def test_a_saved_layout_is_kept_and_shown_from_its_inputs(qtbot, window, tmp_path):
    from graph.project import save_project

    _big(qtbot, window)
    project = load_project(TEMPLATES_DIR / "resnet_digits.json")  # one long row
    path = tmp_path / "row.json"
    save_project(project, path)
    assert window.files.open_path(path)
    g = window.doc.graph
    assert {nid: n.pos for nid, n in g.nodes.items()} == \
        {nid: n.pos for nid, n in load_project(path).graph.nodes.items()}
    assert abs(window.view.zoom_level() - READABLE_ZOOM) < 1e-6  # too long to fit readably
    first = window.scene.nodes[next(n for n in g.nodes if g.nodes[n].type == "Input")]
    seen = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert seen.contains(first.sceneBoundingRect())  # the start of the network is in sight


def test_nodes_show_key_parameters_compactly(qtbot, window):
    window.set_document(Document(load_project(EXAMPLE), None))
    g = window.doc.graph
    conv = next(n for n in g.nodes.values() if n.type == "Conv2d")
    item = window.scene.nodes[conv.id]
    assert item.params_text == "channels 16 · 3×3 pad 1"
    assert not any("…" in line for item in window.scene.nodes.values() for line in item.param_lines)
    # which parameters are key is the block spec's call
    assert blocks.get("Conv2d").key_params == ("out_channels", "kernel_size")
    window.scene.select_nodes([conv.id])
    window.inspector.editors["stride"].spins[0].setValue(2)  # linked: 2×2
    assert "3×3 /2 pad 1" in item.params_text
    # [1, 1] (as an imported model has it) is the default 1: not shown
    window.doc.undo.push(commands.SetParam(g, conv.id, "stride", [1, 1]))
    assert item.params_text == "channels 16 · 3×3 pad 1"


def test_shape_labels_sit_on_pills_off_the_nodes(qtbot, window):
    window.view.resetTransform()
    window.view.centerOn(260, 40)
    qtbot.wait(10)
    image = window.view.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    rects = [n.sceneBoundingRect() for n in window.scene.nodes.values()]
    fill = label_colors(False)[0]
    for edge in window.scene.edges.values():
        pill = edge.label_rect()
        assert not any(pill.intersects(r) for r in rects)
        # inside the pill, left of the text, where the line would show through
        at = window.view.mapFromScene(QPointF(pill.left() + 3, pill.center().y()))
        color = image.pixelColor(int(at.x() * ratio), int(at.y() * ratio))
        assert abs(color.red() - fill.red()) < 12 and abs(color.blue() - fill.blue()) < 12, edge.label


def test_no_family_colour_reads_as_an_error(qtbot):
    assert set(FAMILY_HUES) >= {spec.family for spec in blocks.all_specs()}
    for family in list(FAMILY_HUES) + ["some future family"]:
        for dark in (False, True):
            color = family_color(family, dark)
            hue = color.hslHue()
            redness = min(abs(hue - ERROR_COLOR.hslHue()), 360 - abs(hue - ERROR_COLOR.hslHue()))
            assert redness > 20 or color.hslSaturation() < 60, (family, hue)
