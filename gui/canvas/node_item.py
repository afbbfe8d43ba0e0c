"""A node on the canvas: name, type, key parameters, parameter count, ports.

The item is a view of a graph node: its text is computed once per change
(``refresh_text``/``set_result``) and painted from cached strings, and the
item is cached as a device pixmap, so a repaint of many nodes costs little.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from graph.graph import Node
from graph.problems import ERROR

from .port_item import PortItem
from .style import (ERROR_COLOR, HEADER_HEIGHT, LINE_HEIGHT, NAME_PX, NODE_HEIGHT, NODE_WIDTH,
                    PARAM_LINES, PORT_SPACING, SELECTED_COLOR, SIMPLE_LOD, TEXT_PX, WARNING_COLOR,
                    canvas_font, family_color, human_count, muted_text, node_colors)

_F = QGraphicsItem.GraphicsItemFlag
NAME_FONT = canvas_font(NAME_PX, bold=True)
TEXT_FONT = canvas_font(TEXT_PX)
TEXT_WIDTH = NODE_WIDTH - 20
#: zoomed out below SIMPLE_LOD a block is a box in its family colour with its
#: name in a larger font (read from further out); below NAME_LOD (the name
#: under ~3 screen px) without it
NAME_LOD = 0.12
SIMPLE_FONT = canvas_font(3 * NAME_PX // 2, bold=True)
SEP = " · "
_metrics: dict[str, QFontMetricsF] = {}


def metrics(which: str) -> QFontMetricsF:
    """Font metrics of the node fonts (made once: thousands of nodes ask)."""
    if which not in _metrics:
        font = {"name": NAME_FONT, "simple": SIMPLE_FONT}.get(which, TEXT_FONT)
        _metrics[which] = QFontMetricsF(font)
    return _metrics[which]


def short_name(name: str) -> str:
    """A parameter's name as the node shows it: ``out_channels`` → ``channels``,
    ``kernel_size`` → ``kernel``, ``num_layers`` → ``layers``."""
    for prefix in ("out_", "num_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix):]
    if name.endswith("_size") and len(name) > 5:
        name = name[:-5]
    return "pad" if name == "padding" else name


def value_text(prm, v, key: bool = True) -> str | None:
    """A parameter value, compact: a key size as ``3×3`` (other sizes equal in
    every dimension as one number: ``pad 1``), shapes as ``1×28×28``; None
    when there is nothing to show (an empty optional value)."""
    if v is None:
        return None
    kind = prm.kind if prm is not None else ""
    if isinstance(v, bool):
        return prm.name if v else f"{prm.name} off"
    if kind == "size" and isinstance(v, (list, tuple)) and len(set(v)) == 1 and not key:
        v = v[0]
    if kind == "size" and isinstance(v, int) and key:
        v = (v,) * (prm.length or 1)
    if isinstance(v, (list, tuple)):
        sep = "×" if kind in ("size", "shape") else ", "
        inner = sep.join(str(x) for x in v)
        return inner if sep == "×" else f"[{inner}]"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def param_parts(node: Node) -> list[str]:
    """What the node shows of its parameters: the spec's key parameters always,
    other everyday (not advanced) ones when they differ from the default."""
    spec = node.spec
    if spec is None:
        return [f"{k}={v}" for k, v in node.params.items()]
    if spec.role == "input" and "shape" not in node.params:
        return []  # a unit's Input: its shape comes from each instance's input
    key = spec.key_params or ()
    if getattr(spec, "unit", None) is not None:
        # an instance is its parameter values: all of them, defaults too
        key = tuple(prm.name for prm in spec.params)
    parts = []
    for prm in spec.params:
        if prm.advanced and prm.name not in key:
            continue
        v = node.params.get(prm.name, prm.default)
        if prm.name not in key and (prm.name not in node.params or prm.is_default(v)):
            continue
        text = value_text(prm, v, prm.name in key)
        if text is None:
            continue
        if prm.kind == "choice" or isinstance(v, bool):
            parts.append(text)
        else:
            parts.append(f"{short_name(prm.name)} {text}")
    return parts


def wrap_parts(parts: list[str], width: float, lines: int = PARAM_LINES) -> list[str]:
    """Pack ``parts`` into at most ``lines`` lines of ``width`` (the last one elided)."""
    fm = metrics("text")
    out: list[str] = []
    for part in parts:
        if out and fm.horizontalAdvance(out[-1] + SEP + part) <= width:
            out[-1] += SEP + part
        elif len(out) < lines:
            out.append(part)
        else:
            out[-1] += SEP + part
    return [fm.elidedText(t, Qt.TextElideMode.ElideRight, width) for t in out]


class NodeItem(QGraphicsObject):
    """View of one graph node (see the module docstring)."""

    def __init__(self, node: Node, dark: bool = False):
        super().__init__()
        self.node_id = node.id
        self.dark = dark
        self.setFlags(_F.ItemIsMovable | _F.ItemIsSelectable | _F.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.edges: list = []  # EdgeItems attached, updated when the node moves
        self.severity: str | None = None
        self.n_params = 0
        self._lines: list[str] = []
        spec = node.spec
        self.family = spec.family if spec else "unknown"
        self.color = family_color(self.family, dark)
        ins = spec.inputs if spec else ()
        # an Output block's spec keeps a typed "out" for the analysis, but
        # nothing may be drawn from it: it shows no output port
        outs = spec.outputs if spec and spec.role != "output" else ()
        rows = max(len(ins), len(outs), 1)
        self.height = max(NODE_HEIGHT, HEADER_HEIGHT + rows * PORT_SPACING)
        self.rect = QRectF(0, 0, NODE_WIDTH, self.height)
        self.ports: dict[tuple[str, bool], PortItem] = {}
        for k, p in enumerate(ins):
            item = PortItem(self, node.id, p.name, False, p.variadic, dark)
            item.setPos(0, self._port_y(k, len(ins)))
            self.ports[(p.name, False)] = item
        for k, p in enumerate(outs):
            item = PortItem(self, node.id, p.name, True, dark=dark)
            item.setPos(NODE_WIDTH, self._port_y(k, len(outs)))
            self.ports[(p.name, True)] = item
        self.refresh_text(node)

    def _port_y(self, k: int, n: int) -> float:
        return self.height / 2 + (k - (n - 1) / 2) * PORT_SPACING

    def port(self, name: str, output: bool) -> PortItem | None:
        return self.ports.get((name, output))

    def set_dark(self, dark: bool) -> None:
        """Re-style for a light or dark canvas."""
        self.dark = dark
        self.color = family_color(self.family, dark)
        for port in self.ports.values():
            port.set_dark(dark)
        self.update()

    # ------------------------------------------------------------ content
    def refresh_text(self, node: Node) -> None:
        """Recompute the cached text after a rename or a parameter change."""
        self.name, self.type = node.name, node.type
        self.repeat = node.repeat if node.type in (node.units or {}) else 1
        parts = param_parts(node)
        self.param_lines = wrap_parts(parts, TEXT_WIDTH)
        self.params_text = SEP.join(parts)
        self.simple_name = metrics("simple").elidedText(
            self.name, Qt.TextElideMode.ElideRight, NODE_WIDTH - 12)
        self.name_text = metrics("name").elidedText(
            self.name, Qt.TextElideMode.ElideRight, NODE_WIDTH - 16)
        kind = f"{self.type} ×{self.repeat}" if self.repeat > 1 else self.type
        if node.type in (node.units or {}):
            kind += " · unit"
        self.type_text = metrics("text").elidedText(kind, Qt.TextElideMode.ElideRight, TEXT_WIDTH)
        self.update()

    def set_result(self, n_params: int, problems: list) -> None:
        """Show the analysis of this node: parameter count and problems."""
        severity = None
        if problems:
            severity = ERROR if any(p.severity == ERROR for p in problems) else "warning"
        self.n_params, self.severity = n_params, severity
        about = f'{self.type} "{self.name}"' + (f"\n{self.params_text}" if self.params_text else "")
        self.setToolTip("\n".join(p.message for p in problems) if problems else
                        f"{about}\n{n_params:,} parameters")
        self.update()

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
        painter.drawText(header.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter, self.name_text)
        painter.setFont(TEXT_FONT)
        muted = muted_text(self.dark)
        y = HEADER_HEIGHT + 3
        rows = [(self.type_text, muted)] + [(t, fg) for t in self.param_lines]
        rows += [("", fg)] * (PARAM_LINES - len(self.param_lines))
        rows.append((f"{human_count(self.n_params)} params", muted))
        for text, color in rows:
            if text:
                painter.setPen(color)
                painter.drawText(QRectF(10, y, TEXT_WIDTH, LINE_HEIGHT),
                                 Qt.AlignmentFlag.AlignVCenter, text)
            y += LINE_HEIGHT

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
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
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
