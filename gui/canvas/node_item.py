"""A node on the canvas: name, type, key parameters, parameter count, ports
(drawn by the node: :mod:`gui.canvas.port_item`), and the ports' names on a
side that has more than one (placed in the band :mod:`gui.canvas.node_face`
sizes; not drawn zoomed far out, like the edges' labels).

The item is a view of a graph node: its text is computed once per change
(``refresh_text``/``set_result``) and painted from cached strings, and the
item is cached as a device pixmap, so a repaint of many nodes costs little.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from graph.face import SEP
from graph.graph import Node
from graph.problems import ERROR

# the face's layout lives in node_face; its names are also read from here
from .node_face import (LABEL_STRIP, LOCK_SPACE, NAME_FONT, NAME_LINE_HEIGHT,  # noqa: F401
                        NAME_WIDTH, SIMPLE_FONT, TEXT_FONT, TEXT_WIDTH, block_height, face_of,
                        header_height, is_instance, kind_lines, kind_text, label_rows, metrics,
                        name_lines, port_counts)
from .port_item import PortItem
from .style import (ERROR_COLOR, HEADER_HEIGHT, LINE_HEIGHT, NODE_WIDTH, PARAM_LINES,
                    PORT_RADIUS, PORT_SPACING, SELECTED_COLOR, SIMPLE_LOD, WARNING_COLOR,
                    family_color, human_count, muted_text, node_colors)

_F = QGraphicsItem.GraphicsItemFlag
# made once: Python enum flags cost microseconds to combine, per block opened
_FLAGS = _F.ItemIsMovable | _F.ItemIsSelectable
_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
_LEFT, _RIGHT = Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight
#: how far a block's painting reaches out of its box (the selection border,
#: a repeated unit's stacked copy, the ports' circles)
PAINT_MARGIN = 8.0
#: the height of the header's one-line band (a long name adds lines to it)
HEADER_LINE = float(HEADER_HEIGHT)
#: zoomed out below SIMPLE_LOD a block is a box in its family colour with its
#: name in a larger font (read from further out); below NAME_LOD (the name
#: under ~3 screen px) without it
NAME_LOD = 0.12


@functools.cache
def _color(family: str, dark: bool):
    """A family's colour, made once (shared by its blocks, never changed)."""
    return family_color(family, dark)


def draw_lock(painter, x: float, y: float, color) -> None:
    """A padlock 10 wide and 12 high at ``(x, y)``: the block is frozen."""
    painter.save()
    painter.setPen(QPen(color, 1.6))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(QRectF(x + 2, y, 6, 8), 0, 180 * 16)  # the shackle
    painter.drawLine(QPointF(x + 2, y + 4), QPointF(x + 2, y + 5))
    painter.drawLine(QPointF(x + 8, y + 4), QPointF(x + 8, y + 5))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(x, y + 5, 10, 7), 1.5, 1.5)
    painter.restore()


class _Edges(list):
    """The edges list of a block with an optional port: an edge added or
    removed repaints the block (the port turns hollow or filled).  The scene
    keeps a block's edges in this list; other blocks keep a plain one, which
    costs nothing when thousands open."""

    __slots__ = ("_item",)

    def __init__(self, item):
        super().__init__()
        self._item = item

    def append(self, edge) -> None:
        super().append(edge)
        self._item.update()

    def remove(self, edge) -> None:
        super().remove(edge)
        self._item.update()


class NodeItem(QGraphicsRectItem):
    """View of one graph node (see the module docstring).

    No QObject, at the default z-value, edges under it.  A
    ``QGraphicsRectItem`` for its bounding rectangle only (it paints itself):
    Qt asks every item's bounding rectangle on every repaint, and an
    override in Python costs a call into Python per item, so thousands of
    blocks made each repaint tens of ms slower.  Its ``rect`` attribute (the
    box, item coordinates) hides the base class's ``rect()``, which is the
    box plus :data:`PAINT_MARGIN`.  It overrides
    no ``itemChange``: Qt calls that for every flag,
    scene and selection change, and each call into Python (with its value
    converted) made a 5,000-block network open a few hundred ms slower.  The
    scene moves a block's edges instead: after a drag step
    (:meth:`~gui.canvas.scene.CanvasScene.mouseMoveEvent`) and after a
    graph-driven move.
    """

    # the state of a new block, as class attributes (each is replaced, never
    # changed in place): a large network opens thousands of blocks
    severity: str | None = None
    n_params = 0
    _messages: tuple[str, ...] = ()  # the problems' messages (the tooltip)
    height = 0.0
    header = 0.0  # the header's height (more than one line for a long name)
    #: (port name, is output) → (text as drawn, rectangle, alignment) of the
    #: ports' labels; a block with labels gets its own dict
    _labels: dict = {}

    def __init__(self, node: Node, dark: bool = False, vertical: bool = False):
        super().__init__()
        self.node_id = node.id
        self.dark = dark
        if node.pos is not None:
            self.setPos(*node.pos)
        self.setFlags(_FLAGS)
        self.setCacheMode(_CACHE)
        spec = node.spec
        self.family = spec.family if spec else "unknown"
        self.color = _color(self.family, dark)
        counts = port_counts(node)
        self._port_rows = max(*counts, 1)
        self._label_rows = label_rows(node, counts)
        if self._label_rows:
            self._labels = {}
        self.rect = QRectF()
        self.ports: dict[tuple[str, bool], PortItem] = {}
        optional = False
        for p in spec.inputs if spec else ():
            self.ports[(p.name, False)] = PortItem(self, node.id, p.name, False, p.variadic,
                                                   p.optional)
            optional = optional or p.optional
        # EdgeItems attached, updated when the node moves
        self.edges: list = _Edges(self) if optional else []
        # an Output block's spec keeps a typed "out" for the analysis, but
        # nothing may be drawn from it: it shows no output port
        for p in spec.outputs if spec and spec.role != "output" else ():
            self.ports[(p.name, True)] = PortItem(self, node.id, p.name, True)
        self.vertical = vertical
        self._read(node)
        self._fit_height()  # (not in a scene yet: nothing to repaint or reroute)

    def _fit_height(self) -> bool:
        """Grow (or shrink back) to the name's, type's and face's lines and
        the ports' rows; True when the height changed (the ports moved)."""
        height = block_height(len(self.param_lines), self._port_rows, len(self.type_lines),
                              len(self.name_lines), self._label_rows)
        self.header = header_height(len(self.name_lines))
        if height == self.height:
            return False
        self.height = height
        self.rect = QRectF(0, 0, NODE_WIDTH, height)
        # Qt's rectangle is the bounding one (see the class docstring): the box
        # and the margin the painting reaches into (its default pen, never
        # drawn, adds half a pixel)
        self.setRect(self.rect.adjusted(-PAINT_MARGIN, -PAINT_MARGIN, PAINT_MARGIN, PAINT_MARGIN))
        self._place_ports()
        return True

    def set_vertical(self, vertical: bool) -> None:
        """Ports on the top (inputs) and bottom (outputs) for a network that
        flows top to bottom, else on the left and right sides."""
        self.vertical = vertical
        self._place_ports()
        self.update()  # the node draws its ports

    def _place_ports(self) -> None:
        """Place the ports, and the labels of a side with more than one port:
        flowing top to bottom, each in its share of the width, in a strip
        under the top edge (inputs) or over the bottom one (outputs); else
        one per row in the band under the text, inputs' names on the left
        half, outputs' on the right."""
        if not self._label_rows:  # most blocks: one port a side, no names
            for (_, output), item in self.ports.items():
                if self.vertical:
                    item.setPos(NODE_WIDTH / 2, self.height if output else 0)
                else:
                    item.setPos(NODE_WIDTH if output else 0, self.height / 2)
            return
        band = self.height - self._label_rows * PORT_SPACING - 4  # its top
        half = NODE_WIDTH / 2 - PORT_RADIUS - 5
        for output in (False, True):
            ports = [item for (_, out), item in self.ports.items() if out == output]
            n = len(ports)
            labelled = n > 1
            for k, item in enumerate(ports):
                if self.vertical and labelled:
                    step = NODE_WIDTH / n
                    x, y = (k + 0.5) * step, self.height if output else 0
                    item.setPos(x, y)
                    top = self.height - LABEL_STRIP if output else PORT_RADIUS + 1
                    item.set_label(QRectF(x - step / 2 + 1, top, step - 2,
                                          LABEL_STRIP - PORT_RADIUS - 1))
                elif self.vertical:
                    step = min(2 * PORT_SPACING, NODE_WIDTH / (n + 1))
                    item.setPos(NODE_WIDTH / 2 + (k - (n - 1) / 2) * step,
                                self.height if output else 0)
                elif labelled:
                    y = band + (k + 0.5) * PORT_SPACING
                    item.setPos(NODE_WIDTH if output else 0, y)
                    x = NODE_WIDTH / 2 + 2 if output else PORT_RADIUS + 3
                    item.set_label(QRectF(x, y - 7, half, 14), _RIGHT if output else _LEFT)
                else:
                    item.setPos(NODE_WIDTH if output else 0, self._port_y(k, n))

    def text_top(self) -> float:
        """Where the header starts: under the strip of the inputs' names of a
        block flowing top to bottom that has them, else at the top."""
        if self.vertical and self._label_rows and any(
                p.label for (_, out), p in self.ports.items() if not out):
            return float(LABEL_STRIP)
        return 0.0

    def port_labels(self) -> list[PortItem]:
        """The ports that show their names (a side with more than one port)."""
        return [p for p in self.ports.values() if p.label]

    def _port_y(self, k: int, n: int) -> float:
        return self.height / 2 + (k - (n - 1) / 2) * PORT_SPACING

    def port(self, name: str, output: bool) -> PortItem | None:
        return self.ports.get((name, output))

    def set_dark(self, dark: bool) -> None:
        """Re-style for a light or dark canvas."""
        self.dark = dark
        self.color = _color(self.family, dark)
        self.update()

    # ------------------------------------------------------------ content
    def refresh_text(self, node: Node) -> None:
        """Recompute the cached text after a rename or a parameter change."""
        self._read(node)
        if self._fit_height():
            # a taller block: its edges leave from the moved ports, and the
            # routes of others may need to go round it
            scene = self.scene()
            if scene is not None and hasattr(scene, "node_geometry_changed"):
                scene.node_geometry_changed()
            for e in self.edges:
                e.update_path()
        self.update()

    def _read(self, node: Node) -> None:
        """The texts the block shows, from its node (see :mod:`gui.canvas.node_face`)."""
        # (``type`` would hide QGraphicsItem.type(), which Qt calls)
        self.name, self.type_name = node.name, node.type
        self.frozen = node.frozen  # a lock on the face: its weights are not trained
        instance = is_instance(node)
        self.repeat = node.repeat if instance else 1
        parts, lines = face_of(node)
        self.param_lines = list(lines)
        self.params_text = SEP.join(parts)
        #: the header's lines: the whole name, wrapped when long
        self.name_lines = name_lines(self.name, self.frozen)
        # measured when first painted far out: a large network opens without
        # measuring thousands of names that are never drawn there
        self._simple_name = None
        #: the type line in full (``BasicBlock ×3 · unit``) and as drawn, wrapped
        self.type_text = kind_text(self.type_name, self.repeat, instance)
        self.type_lines = kind_lines(self.type_name, self.repeat, instance)

    @property
    def name_text(self) -> str:
        """The name as the header shows it (its lines; never elided)."""
        return "\n".join(self.name_lines)

    @property
    def simple_name(self) -> str:
        """The name as a block zoomed far out shows it (a larger font)."""
        if self._simple_name is None:
            self._simple_name = metrics("simple").elidedText(
                self.name, Qt.TextElideMode.ElideRight, NODE_WIDTH - 12)
        return self._simple_name

    def set_result(self, n_params: int, problems: list) -> None:
        """Show the analysis of this node: parameter count and problems."""
        severity = None
        if problems:
            severity = ERROR if any(p.severity == ERROR for p in problems) else "warning"
        self.n_params, self.severity = n_params, severity
        self._messages = tuple(p.message for p in problems)
        self.update()

    def toolTip(self) -> str:
        """What hovering the block says: its problems, else what it is and
        its parameter count.  Made when asked (the scene's ``helpEvent``
        shows it), not stored on the item: thousands of blocks open at once."""
        if self._messages:
            return "\n".join(self._messages)
        about = f'{self.type_name} "{self.name}"' + (f"\n{self.params_text}" if self.params_text else "")
        return f"{about}\n{self.n_params:,} parameters"

    # ------------------------------------------------------------ painting
    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.rect, 6, 6)
        return path

    def paint(self, painter, option, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < SIMPLE_LOD:
            self._paint_simple(painter, lod)
            return
        fg, body, plain, header_text = node_colors(self.dark)
        if self.severity == ERROR:
            border, width = ERROR_COLOR, 2.5
        elif self.severity:
            border, width = WARNING_COLOR, 2.5
        else:
            border, width = plain, 1.0
        if self.isSelected():
            border, width = SELECTED_COLOR, 2.5 if not self.severity else width + 0.5
        painter.setPen(QPen(border, width))
        painter.setBrush(QBrush(body))
        if self.repeat > 1:  # a repeated unit: a stack of copies
            painter.drawRoundedRect(self.rect.translated(5, 5), 6, 6)
        painter.drawRoundedRect(self.rect, 6, 6)
        top = self.text_top()
        if top:
            painter.translate(0, top)
        header = QRectF(0, 0, NODE_WIDTH, self.header)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.color)
        painter.drawRoundedRect(header.adjusted(1, 1, -1, 0), 5, 5)
        painter.setPen(header_text)
        painter.setFont(NAME_FONT)
        first = (self.header - NAME_LINE_HEIGHT * (len(self.name_lines) - 1) - HEADER_LINE) / 2
        for k, line in enumerate(self.name_lines):
            painter.drawText(QRectF(8, first + k * NAME_LINE_HEIGHT,
                                    NAME_WIDTH - LOCK_SPACE * self.frozen, HEADER_LINE),
                             Qt.AlignmentFlag.AlignVCenter, line)
        if self.frozen:
            draw_lock(painter, NODE_WIDTH - LOCK_SPACE - 2, (self.header - 12) / 2,
                      header_text)
        painter.setFont(TEXT_FONT)
        muted = muted_text(self.dark)
        y = self.header + 3
        rows = [(t, muted) for t in self.type_lines] + [(t, fg) for t in self.param_lines]
        rows += [("", fg)] * (PARAM_LINES - len(self.param_lines))  # the count stays in place
        rows.append((f"{human_count(self.n_params)} params" + " · frozen" * self.frozen, muted))
        for text, color in rows:
            if text:
                painter.setPen(color)
                painter.drawText(QRectF(10, y, TEXT_WIDTH, LINE_HEIGHT),
                                 Qt.AlignmentFlag.AlignVCenter, text)
            y += LINE_HEIGHT
        if top:
            painter.translate(0, -top)
        # the ports are drawn here, not as child items (see gui.canvas.port_item)
        for port in self.ports.values():
            port.paint(painter, self.dark)
        if self._label_rows:
            self._paint_port_labels(painter)

    def _paint_port_labels(self, painter) -> None:
        """The names of the ports of a side with more than one (zoomed far
        out, :meth:`_paint_simple` draws none, like the edges' labels)."""
        for port in self.port_labels():
            port.paint_label(painter, self.dark)

    def _paint_simple(self, painter, lod: float) -> None:
        """Zoomed far out: a box in the family colour with the name (if it
        would still be legible); the border says selected or a problem."""
        if self.isSelected():
            pen = QPen(SELECTED_COLOR, 3 / lod)
        elif self.severity:
            pen = QPen(ERROR_COLOR if self.severity == ERROR else WARNING_COLOR, 3 / lod)
        else:
            pen = Qt.PenStyle.NoPen
        painter.setPen(pen)
        painter.setBrush(self.color)
        painter.drawRect(self.rect)
        if lod >= NAME_LOD:
            painter.setPen(node_colors(self.dark)[3])
            painter.setFont(SIMPLE_FONT)
            painter.drawText(self.rect.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignCenter,
                             self.simple_name)

    # ------------------------------------------------------------ moving
    def mouseDoubleClickEvent(self, event) -> None:
        super().mouseDoubleClickEvent(event)
        scene = self.scene()
        if scene is not None and hasattr(scene, "node_double_clicked"):
            scene.node_double_clicked.emit(self.node_id)  # (an instance opens its unit)

    def center(self) -> QPointF:
        return self.pos() + self.rect.center()
