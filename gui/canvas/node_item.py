"""A node on the canvas: name, type, key parameters, parameter count, ports
(drawn by the node: :mod:`gui.canvas.port_item`).

The item is a view of a graph node: its text is computed once per change
(``refresh_text``/``set_result``) and painted from cached strings, and the
item is cached as a device pixmap, so a repaint of many nodes costs little.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from graph.face import SEP, face_parts
from graph.graph import Node
from graph.problems import ERROR

from .port_item import PortItem
from .style import (ERROR_COLOR, HEADER_HEIGHT, LINE_HEIGHT, NAME_PX, NODE_HEIGHT, NODE_WIDTH,
                    PARAM_LINES, PORT_SPACING, SELECTED_COLOR, SIMPLE_LOD, TEXT_PX, WARNING_COLOR,
                    canvas_font, family_color, human_count, muted_text, node_colors)

_F = QGraphicsItem.GraphicsItemFlag
# looked up once: itemChange runs a dozen times per block while a network opens
_MOVED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
NAME_FONT = canvas_font(NAME_PX, bold=True)
TEXT_FONT = canvas_font(TEXT_PX)
TEXT_WIDTH = NODE_WIDTH - 20
#: zoomed out below SIMPLE_LOD a block is a box in its family colour with its
#: name in a larger font (read from further out); below NAME_LOD (the name
#: under ~3 screen px) without it
NAME_LOD = 0.12
SIMPLE_FONT = canvas_font(3 * NAME_PX // 2, bold=True)
_metrics: dict[str, QFontMetricsF] = {}


def metrics(which: str) -> QFontMetricsF:
    """Font metrics of the node fonts (made once: thousands of nodes ask)."""
    if which not in _metrics:
        font = {"name": NAME_FONT, "simple": SIMPLE_FONT}.get(which, TEXT_FONT)
        _metrics[which] = QFontMetricsF(font)
    return _metrics[which]


def _split(part: str, width: float) -> list[str]:
    """``part`` in pieces no wider than ``width``: at spaces where it can,
    else (one long word) at characters; nothing is dropped."""
    fm = metrics("text")
    pieces: list[str] = []
    for word in part.split(" "):
        if pieces and fm.horizontalAdvance(pieces[-1] + " " + word) <= width:
            pieces[-1] += " " + word
            continue
        while fm.horizontalAdvance(word) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and fm.horizontalAdvance(word[:cut]) > width:
                cut -= 1
            pieces.append(word[:cut])
            word = word[cut:]
        pieces.append(word)
    return pieces


@functools.lru_cache(maxsize=4096)
def _wrap(parts: tuple[str, ...], width: float) -> tuple[str, ...]:
    out: list[str] = []
    fm = metrics("text")
    for part in parts:
        if out and fm.horizontalAdvance(out[-1] + SEP + part) <= width:
            out[-1] += SEP + part
        elif fm.horizontalAdvance(part) <= width:
            out.append(part)
        else:
            out.extend(_split(part, width))
    return tuple(out)


def wrap_parts(parts: list[str], width: float) -> list[str]:
    """Pack ``parts`` into lines of ``width``, as many lines as it takes (the
    block grows): a setting is never cut off behind an ellipsis.  Faces
    repeat across a network (thousands of ``ReLU``s): cached."""
    return list(_wrap(tuple(parts), width))


@functools.lru_cache(maxsize=1024)
def elided(which: str, text: str, width: float) -> str:
    """``text`` elided to ``width`` in a node font (type names repeat: cached)."""
    return metrics(which).elidedText(text, Qt.TextElideMode.ElideRight, width)


def _height(face_lines: int, port_rows: int) -> float:
    lines = max(PARAM_LINES, face_lines)
    return float(max(NODE_HEIGHT, HEADER_HEIGHT + (lines + 2) * LINE_HEIGHT + 8,
                     HEADER_HEIGHT + port_rows * PORT_SPACING))


def node_box(node: Node) -> tuple[float, float]:
    """The ``(width, height)`` a node's item will have: taller for a face of
    more lines or for more ports (the layout sizes blocks before items exist)."""
    spec = node.spec
    ins = len(spec.inputs) if spec else 0
    outs = len(spec.outputs) if spec and spec.role != "output" else 0
    lines = len(wrap_parts(face_parts(node), TEXT_WIDTH))
    return float(NODE_WIDTH), _height(lines, max(ins, outs, 1))


#: The header's room for the lock of a frozen block.
LOCK_SPACE = 16


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


class NodeItem(QGraphicsItem):
    """View of one graph node (see the module docstring).

    A plain ``QGraphicsItem`` (no QObject) at the default z-value, edges
    under it: every Qt call while a network opens reaches :meth:`itemChange`
    in Python, and a 5,000-block network makes thousands of them.
    """

    def __init__(self, node: Node, dark: bool = False, vertical: bool = False):
        super().__init__()
        self.node_id = node.id
        self.dark = dark
        if node.pos is not None:  # before the flags: the first placement sends no change
            self.setPos(*node.pos)
        self.setFlags(_F.ItemIsMovable | _F.ItemIsSelectable | _F.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.edges: list = []  # EdgeItems attached, updated when the node moves
        self.severity: str | None = None
        self.n_params = 0
        self._messages: tuple[str, ...] = ()  # the problems' messages (the tooltip)
        spec = node.spec
        self.family = spec.family if spec else "unknown"
        self.color = family_color(self.family, dark)
        ins = spec.inputs if spec else ()
        # an Output block's spec keeps a typed "out" for the analysis, but
        # nothing may be drawn from it: it shows no output port
        outs = spec.outputs if spec and spec.role != "output" else ()
        self._port_rows = max(len(ins), len(outs), 1)
        self.height = 0.0
        self.rect = QRectF()
        self.ports: dict[tuple[str, bool], PortItem] = {}
        for p in ins:
            self.ports[(p.name, False)] = PortItem(self, node.id, p.name, False, p.variadic)
        for p in outs:
            self.ports[(p.name, True)] = PortItem(self, node.id, p.name, True)
        self.vertical = vertical  # the ports are placed once, by refresh_text's first fit
        self.refresh_text(node)

    def _fit_height(self) -> bool:
        """Grow (or shrink back) to the face's lines and the ports' rows;
        True when the height changed (the ports moved)."""
        height = _height(len(self.param_lines), self._port_rows)
        if height == self.height:
            return False
        self.prepareGeometryChange()
        self.height = height
        self.rect = QRectF(0, 0, NODE_WIDTH, height)
        self.set_vertical(self.vertical)
        return True

    def set_vertical(self, vertical: bool) -> None:
        """Ports on the top (inputs) and bottom (outputs) for a network that
        flows top to bottom, else on the left and right sides."""
        self.vertical = vertical
        for output in (False, True):
            ports = [item for (_, out), item in self.ports.items() if out == output]
            n = len(ports)
            for k, item in enumerate(ports):
                if vertical:
                    step = min(2 * PORT_SPACING, NODE_WIDTH / (n + 1))
                    item.setPos(NODE_WIDTH / 2 + (k - (n - 1) / 2) * step,
                                self.height if output else 0)
                else:
                    item.setPos(NODE_WIDTH if output else 0, self._port_y(k, n))
        self.update()  # the node draws its ports

    def _port_y(self, k: int, n: int) -> float:
        return self.height / 2 + (k - (n - 1) / 2) * PORT_SPACING

    def port(self, name: str, output: bool) -> PortItem | None:
        return self.ports.get((name, output))

    def set_dark(self, dark: bool) -> None:
        """Re-style for a light or dark canvas."""
        self.dark = dark
        self.color = family_color(self.family, dark)
        self.update()

    # ------------------------------------------------------------ content
    def refresh_text(self, node: Node) -> None:
        """Recompute the cached text after a rename or a parameter change."""
        self.name, self.type = node.name, node.type
        self.frozen = node.frozen  # a lock on the face: its weights are not trained
        self.repeat = node.repeat if node.type in (node.units or {}) else 1
        parts = face_parts(node)
        self.param_lines = wrap_parts(parts, TEXT_WIDTH)
        self.params_text = SEP.join(parts)
        # elided when first painted: a large network opens without measuring
        # thousands of names that are never drawn up close
        self._name_text = self._simple_name = None
        kind = f"{self.type} ×{self.repeat}" if self.repeat > 1 else self.type
        if node.type in (node.units or {}):
            kind += " · unit"
        self.type_text = elided("text", kind, TEXT_WIDTH)
        if self._fit_height():
            # a taller block: its edges leave from the moved ports, and the
            # routes of others may need to go round it
            scene = self.scene()
            if scene is not None and hasattr(scene, "node_geometry_changed"):
                scene.node_geometry_changed()
            for e in self.edges:
                e.update_path()
        self.update()

    @property
    def name_text(self) -> str:
        """The name as the header shows it (elided to the block's width)."""
        if self._name_text is None:
            self._name_text = metrics("name").elidedText(
                self.name, Qt.TextElideMode.ElideRight, NODE_WIDTH - 16)
        return self._name_text

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
        about = f'{self.type} "{self.name}"' + (f"\n{self.params_text}" if self.params_text else "")
        return f"{about}\n{self.n_params:,} parameters"

    # ------------------------------------------------------------ painting
    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-8, -8, 8, 8)

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
        header = QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.color)
        painter.drawRoundedRect(header.adjusted(1, 1, -1, 0), 5, 5)
        painter.setPen(header_text)
        painter.setFont(NAME_FONT)
        name_rect = header.adjusted(8, 0, -8 - LOCK_SPACE * self.frozen, 0)
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignVCenter, self.name_text)
        if self.frozen:
            draw_lock(painter, NODE_WIDTH - LOCK_SPACE - 2, (HEADER_HEIGHT - 12) / 2,
                      header_text)
        painter.setFont(TEXT_FONT)
        muted = muted_text(self.dark)
        y = HEADER_HEIGHT + 3
        rows = [(self.type_text, muted)] + [(t, fg) for t in self.param_lines]
        rows += [("", fg)] * (PARAM_LINES - len(self.param_lines))  # the count stays in place
        rows.append((f"{human_count(self.n_params)} params" + " · frozen" * self.frozen, muted))
        for text, color in rows:
            if text:
                painter.setPen(color)
                painter.drawText(QRectF(10, y, TEXT_WIDTH, LINE_HEIGHT),
                                 Qt.AlignmentFlag.AlignVCenter, text)
            y += LINE_HEIGHT
        # the ports are drawn here, not as child items (see gui.canvas.port_item)
        for port in self.ports.values():
            port.paint(painter, self.dark)

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

    def itemChange(self, change, value):
        if change is _MOVED:
            scene = self.scene()
            if scene is not None and hasattr(scene, "node_geometry_changed"):
                scene.node_geometry_changed()
                if scene.batch_moving:
                    return super().itemChange(change, value)
            for e in self.edges:
                e.update_path()
        return super().itemChange(change, value)

    def center(self) -> QPointF:
        return self.pos() + self.rect.center()
