"""Long names on block faces (issue 15 item 4): a long unit or block type, a
repeat count, a long block name and many changed settings are all drawn in
full: the block wraps them onto more lines and grows, nothing ends in an
ellipsis, and every line is drawn inside the block."""

from __future__ import annotations

import copy
import json

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from graph.project import loads_project
from gui import commands
from gui.canvas.layout import node_size
from gui.canvas.node_item import TEXT_WIDTH, metrics
from gui.canvas.style import NODE_HEIGHT, NODE_WIDTH
from gui.document import Document

from test_units_editor import BLOCK

UNIT = "InvertedResidualBottleneck"
NAME_WIDTH = NODE_WIDTH - 16  # the header's text (8-px margins)


class RecordingPainter(QPainter):
    """A painter that notes each text drawn, with its rectangle and font."""

    def __init__(self, device):
        super().__init__(device)
        self.texts: list[tuple[str, QRectF, bool]] = []

    def drawText(self, *args):  # noqa: N802 (Qt's name)
        if len(args) == 3 and isinstance(args[0], QRectF):
            self.texts.append((args[2], QRectF(args[0]), self.font().bold()))
        return super().drawText(*args)


def drawn_texts(item) -> list[tuple[str, QRectF, bool]]:
    """What the block paints up close: each text, its rectangle (item
    coordinates) and whether it is in the (bold) name font."""
    image = QImage(400, 600, QImage.Format.Format_ARGB32_Premultiplied)
    painter = RecordingPainter(image)
    painter.translate(20, 20)
    item.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    return painter.texts


def project():
    doc = {"format": "netcanvas", "version": 2, "name": "Net",
           "units": {UNIT: copy.deepcopy(BLOCK), "TransformerDecoderLayerStack": copy.deepcopy(BLOCK)},
           "nodes": [
               {"id": "img", "type": "Input", "name": "image", "params": {"shape": [16, 8, 8]},
                "pos": [0, 0]},
               {"id": "u", "type": UNIT, "name": "layer1", "params": {"channels": 16},
                "repeat": 3, "pos": [0, 200]},
               {"id": "t", "type": "TransformerDecoderLayerStack",
                "name": "transformer_decoder_layer_stack_1", "params": {"channels": 16},
                "pos": [0, 400]},
               {"id": "out", "type": "Output", "name": "out", "params": {}, "pos": [0, 600]}],
           "edges": [{"source": "img", "target": "u"}, {"source": "u", "target": "t"},
                     {"source": "t", "target": "out"}],
           "training": {}}
    p = loads_project(json.dumps(doc))
    g = p.graph
    g.add_node("Conv2d", {"out_channels": 16, "kernel_size": 3, "stride": 2, "padding": "same",
                          "dilation": 2, "groups": 4}, id="c", name="conv", pos=(300, 0))
    g.add_node("LSTM", {"bidirectional": True, "batch_first": False, "num_layers": 2,
                        "proj_size": 4}, id="r", name="lstm", pos=(300, 250))
    g.add_node("TransformerDecoderLayer", {}, id="d", name="decoder", pos=(300, 500))
    return p


def check_block(item, *wanted: str) -> None:
    """Every text the block draws is whole, fits its line and lies inside
    the block, and the ``wanted`` words are among them."""
    texts = drawn_texts(item)
    box = item.rect.adjusted(0, 0, 0.5, 0.5)
    for text, rect, bold in texts:
        assert "…" not in text, text
        width = NAME_WIDTH if bold else TEXT_WIDTH
        fm = metrics("name" if bold else "text")
        assert fm.horizontalAdvance(text) <= width + 0.5, text
        assert box.contains(rect), (text, rect, item.rect)
    joined = " ".join(t for t, _r, _b in texts)
    squeezed = joined.replace(" ", "")
    for word in wanted:
        assert word.replace(" ", "") in squeezed, (word, joined)
    # the layout sizes the block as the item is (nothing overlaps once laid out)
    assert node_size(item_node(item)) == (item.rect.width(), item.rect.height())


def item_node(item):
    return item.scene().graph.nodes[item.node_id]


def test_a_long_unit_name_keeps_its_repeat_and_unit_mark(qtbot, window):
    window.set_document(Document(project()))
    item = window.scene.nodes["u"]
    assert item.type_text == f"{UNIT} ×3 · unit"  # in full, not elided
    assert len(item.type_lines) == 2  # wrapped: the block grew a line
    assert " ".join(item.type_lines).replace(" ", "") == f"{UNIT}×3·unit"
    check_block(item, UNIT, "×3", "unit", "layer1", "channels 16")


def test_a_long_block_name_wraps_in_a_taller_header(qtbot, window):
    window.set_document(Document(project()))
    item = window.scene.nodes["t"]
    assert len(item.name_lines) > 1 and "".join(item.name_lines) == \
        "transformer_decoder_layer_stack_1"
    assert item.header > 22  # the header grew for the second line
    # the name breaks where it reads: after an underscore
    assert all(line.endswith("_") for line in item.name_lines[:-1])
    check_block(item, "transformer_decoder_layer_stack_1", "TransformerDecoderLayerStack")
    for text, rect, bold in drawn_texts(item):
        if bold:  # the name's lines lie in the header, above the type
            assert rect.bottom() <= item.header + 0.5


def test_a_long_block_type_breaks_between_its_words(qtbot, window):
    window.set_document(Document(project()))
    item = window.scene.nodes["d"]
    assert item.type_lines == ("TransformerDecoder", "Layer")
    check_block(item, "TransformerDecoderLayer", "nhead 4")


def test_many_changed_settings_are_all_drawn(qtbot, window):
    window.set_document(Document(project()))
    conv, lstm = window.scene.nodes["c"], window.scene.nodes["r"]
    check_block(conv, "3×3 /2 same", "dilation 2", "groups 4", "channels 16")
    check_block(lstm, "layers 2", "bidirectional", "proj 4", "no batch first")
    # three lines of settings each: both grew past a plain block
    assert min(conv.rect.height(), lstm.rect.height()) > NODE_HEIGHT


def test_a_rename_to_a_long_name_grows_the_block_and_undo_shrinks_it(qtbot, window):
    g = window.doc.graph
    item = window.scene.nodes["l1"]
    before = item.rect.height()
    window.doc.push(commands.Rename(g, "l1", "a_much_longer_layer_name_than_fits"))
    assert len(item.name_lines) > 1 and item.rect.height() > before
    check_block(item, "a_much_longer_layer_name_than_fits")
    window.doc.undo.undo()
    assert item.name_lines == ("fc1",) and item.rect.height() == before

