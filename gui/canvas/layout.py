"""Automatic layout on the canvas: a thin adapter over :mod:`graph.layout`.

The geometry (layers, crossing reduction, the straight main path, lanes for
long edges) is Qt-free in :mod:`graph.layout`; this module supplies the
canvas's sizes and gaps, the user's direction (top to bottom by default,
left to right as an option, remembered in the settings), and keeps the
lanes the layout reserved for long edges so the edges can be drawn along
them (:func:`route_hint`) until their blocks are moved.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping

from PySide6.QtCore import QSettings

from graph.graph import Graph, Node
from graph.layout import DIRECTIONS, LayoutError, layered_layout

from ..recovery import data_dir
from .node_face import node_box
from .style import HEADER_HEIGHT, NODE_HEIGHT, NODE_WIDTH, PORT_SPACING

#: free space between layers: room for an edge's two bends and its label
LAYER_GAP = 80.0
LABEL_MARGIN = 18.0  # a label's pill keeps this much room to the nodes
LABEL_HEIGHT = 17.0
#: free space between neighbours in a layer (a long edge's lane fits in it)
NODE_GAP = 44.0
#: the room a long edge takes in each layer it passes (its lane and label)
LANE_ROOM = 40.0
SETTING = "canvas/layout_direction"
DEFAULT_DIRECTION = "TB"

# the lanes of the last layout of each graph: {(source, target): (source pos,
# target pos, direction, points)}; weak, so a closed document's graph goes
_hints: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _settings() -> QSettings:
    # the app's one settings file (as gui.file_ops.settings opens it: that
    # module imports the canvas, so the canvas cannot import it)
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def direction() -> str:
    """The user's layout direction, ``"TB"`` or ``"LR"``."""
    value = _settings().value(SETTING, DEFAULT_DIRECTION)
    return value if value in DIRECTIONS else DEFAULT_DIRECTION


def set_direction(value: str) -> None:
    """Remember the user's layout direction (``"TB"`` or ``"LR"``).

    Raises:
        LayoutError: ``value`` is neither.
    """
    if value not in DIRECTIONS:
        raise LayoutError(f"unknown layout direction {value!r}: expected 'TB' or 'LR'")
    _settings().setValue(SETTING, value)


def node_size(node) -> tuple[float, float]:
    """A node's box on the canvas before it has an item: the rule of
    :class:`~gui.canvas.node_item.NodeItem` (taller when its ports need the
    room); tests/gui/test_layout.py opens every template through a layout
    made with it and checks the items then shown overlap nothing."""
    return node_box(node)  # the item's rule itself (a long face or name grows a block)


def type_size(graph: Graph, type_name: str) -> tuple[float, float]:
    """The box of a block of ``type_name`` (a catalogue block or one of the
    graph's units) before it has an item (see :func:`node_size`): with its
    default parameters, and a long type name on two lines."""
    spec = graph.spec_of_type(type_name)
    if spec is None:
        return _spec_box(spec)
    # a node as the new block will be (its name is made later: a short one)
    node = Node(id="", type=type_name, name="", units=graph.units)
    return node_box(node)


def _spec_box(spec) -> tuple[float, float]:
    ins = len(spec.inputs) if spec else 0
    outs = len(spec.outputs) if spec and spec.role != "output" else 0
    rows = max(ins, outs, 1)
    return float(NODE_WIDTH), float(max(NODE_HEIGHT, HEADER_HEIGHT + rows * PORT_SPACING))


def layered_positions(graph: Graph, label_widths: Mapping[str, float] | None = None,
                      view: tuple[float, float] | None = None,
                      sizes: Mapping[str, tuple[float, float]] | None = None,
                      flow: str | None = None) -> dict[str, tuple[float, float]]:
    """Positions ``{node id: (x, y)}`` (top-left corners) for every node.

    Args:
        graph: the graph to lay out (a unit instance is one node).
        label_widths: the widest label on each node's outgoing edges (left to
            right, the gap after a layer fits it).
        view: unused (the layout no longer wraps to a view); kept so callers
            that pass the view's size keep working.
        sizes: each node's ``(width, height)`` on the canvas (the scene's
            items); missing ones are estimated with :func:`node_size`.
        flow: ``"TB"`` or ``"LR"``; default: the user's :func:`direction`.
    """
    del view
    flow = flow or direction()
    vertical = flow == "TB"
    nodes = graph.nodes
    if not nodes:
        return {}
    sizes = dict(sizes or {})
    for nid, node in nodes.items():
        if nid not in sizes:
            sizes[nid] = node_size(node)
    if vertical:
        gap_after = {nid: 2 * LABEL_MARGIN + LABEL_HEIGHT for nid in (label_widths or {})}
    else:
        gap_after = {nid: w + 2 * LABEL_MARGIN for nid, w in (label_widths or {}).items()}
    result = layered_layout(list(nodes), [(e.source, e.target) for e in graph.edges], sizes,
                            flow, LAYER_GAP, NODE_GAP, LANE_ROOM, gap_after)
    pos = result.positions
    _hints[graph] = {key: (pos[key[0]], pos[key[1]], flow, pts)
                     for key, pts in result.routes.items()}
    return pos


def route_hint(graph: Graph, source: str, target: str, source_pos, target_pos,
               flow: str) -> list[tuple[float, float]] | None:
    """The lane the last layout reserved for the edge ``source → target``,
    as points, while both its ends stay where that layout put them."""
    hint = _hints.get(graph, {}).get((source, target))
    if hint is None:
        return None
    a, b, was, pts = hint
    close = (abs(a[0] - source_pos[0]) < 0.5 and abs(a[1] - source_pos[1]) < 0.5
             and abs(b[0] - target_pos[0]) < 0.5 and abs(b[1] - target_pos[1]) < 0.5)
    return pts if close and was == flow else None


def needs_layout(graph: Graph, flow: str | None = None, sizes: dict | None = None) -> bool:
    """True when positions are missing, or an edge runs against the flow or
    has no room between its blocks (e.g. a file laid out the other way).

    Args:
        sizes: the blocks' ``(width, height)`` by id where their items
            already exist (else each is worked out: :func:`node_size`).
    """
    flow = flow or direction()
    axis = 1 if flow == "TB" else 0
    nodes = graph.nodes
    if any(n.pos is None for n in nodes.values()):
        return True
    for e in graph.edges:
        size = (sizes[e.source] if sizes else node_size(nodes[e.source]))[axis]
        if nodes[e.target].pos[axis] < nodes[e.source].pos[axis] + size + LAYER_GAP / 2:
            return True
    return False


def flow_of(graph: Graph, prefer: str | None = None, sizes: dict | None = None) -> str:
    """The direction a network's saved positions read in: the one its edges
    all follow (a file arranged left to right keeps side ports), else
    ``prefer`` (default: the user's :func:`direction`); ``sizes`` as for
    :func:`needs_layout`."""
    prefer = prefer or direction()
    if graph.edges and needs_layout(graph, prefer, sizes):
        other = "LR" if prefer == "TB" else "TB"
        if not needs_layout(graph, other, sizes):
            return other
    return prefer
