"""How a block's face is laid out on the canvas: its fonts, its lines and the
box they need.

A block shows, top to bottom: its name in the header, its type (``×N`` and
``unit`` for a repeated unit instance), the settings of :mod:`graph.face`
and its parameter count.  Nothing is cut off behind an ellipsis: a line that
does not fit the block's width wraps and the block grows (the header too,
for a long name).  A word wider than the block breaks where a reader would
split it: after ``_`` or ``-``, between a lower-case letter and a capital
(``TransformerDecoder``/``Layer``), before a digit run; characters only as a
last resort.

A block with more than one port on a side (``query``/``key``/``value``, a
GRU's ``in``/``h0``) labels each of that side's ports: the block grows by a
band of :data:`~gui.canvas.style.PORT_SPACING` per port of its longer
labelled side (:func:`label_rows`), where the labelled ports sit beside their
names (flowing left to right), or which holds a strip of names under the
input ports and above the output ports (flowing top to bottom), so a label
never covers the face's text.

The layout (:func:`node_box`) sizes blocks before their items exist, and the
item (:class:`~gui.canvas.node_item.NodeItem`) uses the same functions, so
the two never disagree.  A network repeats a few faces thousands of times:
the lines are cached by what they depend on.
"""

from __future__ import annotations

import functools
import string

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF

from graph.blocks import BLOCKS
from graph.face import SEP, face_parts
from graph.graph import Node

from .style import (HEADER_HEIGHT, LINE_HEIGHT, NAME_PX, NODE_HEIGHT, NODE_WIDTH, PARAM_LINES,
                    PORT_SPACING, TEXT_PX, canvas_font)

NAME_FONT = canvas_font(NAME_PX, bold=True)
TEXT_FONT = canvas_font(TEXT_PX)
SIMPLE_FONT = canvas_font(3 * NAME_PX // 2, bold=True)
#: the names of a block's ports (only where a side has more than one)
PORT_LABEL_PX = 10
PORT_LABEL_FONT = canvas_font(PORT_LABEL_PX)
#: the height of a strip of port names (flowing top to bottom)
LABEL_STRIP = 18
TEXT_WIDTH = NODE_WIDTH - 20
#: The header's room for the lock of a frozen block.
LOCK_SPACE = 16
#: the header's text width (its 8-px margins; the lock's room when frozen)
NAME_WIDTH = NODE_WIDTH - 16
#: each further line of a long name adds this to the header
NAME_LINE_HEIGHT = 16
_metrics: dict[str, QFontMetricsF] = {}


def metrics(which: str) -> QFontMetricsF:
    """Font metrics of the node fonts (made once: thousands of nodes ask)."""
    if which not in _metrics:
        font = {"name": NAME_FONT, "simple": SIMPLE_FONT,
                "port": PORT_LABEL_FONT}.get(which, TEXT_FONT)
        _metrics[which] = QFontMetricsF(font)
    return _metrics[which]


def _breaks(word: str) -> list[int]:
    """Where ``word`` may be broken, as cut positions (see the module docstring)."""
    cuts = []
    for i in range(1, len(word)):
        a, b = word[i - 1], word[i]
        if (a in "_-." or (a.islower() and b.isupper()) or (a.isalpha() and b.isdigit())
                or (a.isupper() and b.isupper() and i + 1 < len(word) and word[i + 1].islower())):
            cuts.append(i)
    return cuts


def _break_word(word: str, width: float, fm: QFontMetricsF) -> list[str]:
    """``word`` in pieces no wider than ``width``; nothing is dropped."""
    pieces: list[str] = []
    while fm.horizontalAdvance(word) > width and len(word) > 1:
        fits = [c for c in _breaks(word) if fm.horizontalAdvance(word[:c]) <= width]
        if fits:
            cut = fits[-1]
        else:  # no break that fits: as many characters as do
            cut = len(word) - 1
            while cut > 1 and fm.horizontalAdvance(word[:cut]) > width:
                cut -= 1
        pieces.append(word[:cut])
        word = word[cut:]
    pieces.append(word)
    return pieces


def _split(part: str, width: float, fm: QFontMetricsF) -> list[str]:
    """``part`` in pieces no wider than ``width``: at spaces where it can,
    else where a long word breaks (:func:`_break_word`)."""
    pieces: list[str] = []
    for word in part.split(" "):
        if pieces and fm.horizontalAdvance(pieces[-1] + " " + word) <= width:
            pieces[-1] += " " + word
            continue
        broken = _break_word(word, width, fm)
        if pieces and len(broken) > 1:
            # the first piece may still join the line before
            joined = pieces[-1] + " " + broken[0]
            if fm.horizontalAdvance(joined) <= width:
                pieces[-1] = joined
                broken = broken[1:]
        pieces.extend(broken)
    return pieces


def _pack(parts: tuple[str, ...], width: float, fm: QFontMetricsF) -> tuple[str, ...]:
    out: list[str] = []
    for part in parts:
        if out and fm.horizontalAdvance(out[-1] + SEP + part) <= width:
            out[-1] += SEP + part
        elif fm.horizontalAdvance(part) <= width:
            out.append(part)
        else:
            out.extend(_split(part, width, fm))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def wrap_tuple(parts: tuple[str, ...], width: float = TEXT_WIDTH) -> tuple[str, ...]:
    """Pack ``parts`` (joined by ``·``) into lines of ``width`` in the text font."""
    return _pack(parts, width, metrics("text"))


def wrap_parts(parts: list[str], width: float) -> list[str]:
    """Pack ``parts`` into lines of ``width``, as many lines as it takes (the
    block grows): a setting is never cut off behind an ellipsis.  Faces
    repeat across a network (thousands of ``ReLU``s): cached."""
    return list(wrap_tuple(tuple(parts), width))


@functools.lru_cache(maxsize=1)
def _widest_char() -> float:
    """The widest printable ASCII character of the name font."""
    fm = metrics("name")
    return max(fm.horizontalAdvance(c) for c in string.printable.strip())


def name_lines(name: str, frozen: bool = False) -> tuple[str, ...]:
    """The header's lines for a block's ``name`` (more than one for a long name).

    A short ASCII name cannot be too wide whatever its letters: it is not
    measured (a 5,000-block network opens without measuring 5,000 names).
    """
    width = NAME_WIDTH - LOCK_SPACE * frozen
    if name.isascii() and len(name) * _widest_char() <= width:
        return (name,)
    return _name_lines(name, width)


@functools.lru_cache(maxsize=4096)
def _name_lines(name: str, width: float) -> tuple[str, ...]:
    return tuple(_split(name, width, metrics("name"))) if name else ("",)


def kind_text(type_name: str, repeat: int = 1, unit: bool = False) -> str:
    """The type line's words: ``Conv2d``, ``BasicBlock ×3 · unit``."""
    text = f"{type_name} ×{repeat}" if repeat > 1 else type_name
    return text + SEP + "unit" if unit else text


@functools.lru_cache(maxsize=4096)
def kind_lines(type_name: str, repeat: int = 1, unit: bool = False) -> tuple[str, ...]:
    """The type line, wrapped like the settings (a long unit name, its
    ``×N`` and ``unit`` are never cut off)."""
    parts = (f"{type_name} ×{repeat}" if repeat > 1 else type_name,) + (("unit",) if unit else ())
    return wrap_tuple(parts, TEXT_WIDTH)


#: faces by ``(type, repr(params))`` of catalogue blocks (see :func:`face_of`)
_FACES: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}
_FACES_MAX = 4096


def face_of(node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``node``'s face parts (:func:`graph.face.face_parts`) and those parts
    wrapped into lines of the block's width.

    A network repeats a few faces thousands of times, and opening one asks
    each block's face twice (the layout sizes the blocks before their items
    exist): a catalogue block's face depends only on its type and parameters,
    so it is kept by those (a unit instance's also on the unit: not kept).
    """
    key = (node.type, repr(node.params)) if node.type in BLOCKS else None
    face = _FACES.get(key) if key is not None else None
    if face is None:
        parts = tuple(face_parts(node))
        face = (parts, wrap_tuple(parts, TEXT_WIDTH))
        if key is not None:
            if len(_FACES) >= _FACES_MAX:
                _FACES.clear()
            _FACES[key] = face
    return face


def is_instance(node: Node) -> bool:
    """Whether ``node`` is an instance of one of its project's units."""
    return node.type in (node.units or {})


def header_height(n_name_lines: int) -> float:
    """The header's height for a name of ``n_name_lines`` lines."""
    return HEADER_HEIGHT + (max(n_name_lines, 1) - 1) * NAME_LINE_HEIGHT


def block_height(face_lines: int, port_rows: int, type_lines: int = 1,
                 name_rows: int = 1, label_rows: int = 0) -> float:
    """A block's height: header, type, settings (at least
    :data:`~gui.canvas.style.PARAM_LINES` rows), parameter count, and below
    them a band of ``label_rows`` labelled ports (see the module docstring);
    taller for more ports than fit its side."""
    header = header_height(name_rows)
    lines = max(PARAM_LINES, face_lines) + max(type_lines, 1) + 1
    text = max(NODE_HEIGHT, header + lines * LINE_HEIGHT + 8)
    band = label_rows * PORT_SPACING + 4 if label_rows else 0
    return float(max(text + band, header + port_rows * PORT_SPACING))


def port_counts(node: Node) -> tuple[int, int]:
    """How many input and output ports ``node``'s block draws."""
    spec = node.spec
    if spec is None:
        return 0, 0
    # an Output block's spec keeps a typed "out" for the analysis: not drawn
    return len(spec.inputs), len(spec.outputs) if spec.role != "output" else 0


def label_rows(node: Node, counts: tuple[int, int] | None = None) -> int:
    """How many ports the longer side that labels its ports holds (a side
    labels them when it has more than one); 0 when neither does.

    Args:
        node: the block.
        counts: its :func:`port_counts`, when already known.
    """
    ins, outs = counts or port_counts(node)
    rows = max(ins, outs)
    return rows if rows > 1 else 0


@functools.lru_cache(maxsize=1024)
def elided_label(name: str, width: float) -> str:
    """A port's name as its label shows it in ``width`` (whole when it fits)."""
    return metrics("port").elidedText(name, Qt.TextElideMode.ElideMiddle, width)


def port_rows(node: Node) -> int:
    """How many ports the longer side of ``node``'s block holds."""
    return max(*port_counts(node), 1)


def node_box(node: Node) -> tuple[float, float]:
    """The ``(width, height)`` a node's item will have: taller for a face of
    more lines, a long type or name, or more ports (the layout sizes blocks
    before items exist)."""
    instance = is_instance(node)
    kind = kind_lines(node.type, node.repeat if instance else 1, instance)
    counts = port_counts(node)
    return float(NODE_WIDTH), block_height(len(face_of(node)[1]), max(*counts, 1), len(kind),
                                           len(name_lines(node.name, node.frozen)),
                                           label_rows(node, counts))
