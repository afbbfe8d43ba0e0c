"""Colours, fonts and sizes of canvas items (view-layer only).

Family colours are keyed by the family names of the block registry; a family
added later gets a stable colour made from its name.  No family hue lies
near red: red means an error, and only the problem mark says that.

Fonts are given in pixels of scene space, so text keeps its proportion to the
node at every zoom and on every screen (the view's transform and the
device-pixel ratio scale them together).
"""

from __future__ import annotations

import zlib

from PySide6.QtGui import QColor, QFont

from graph import humanize

#: (hue, saturation) per family: apart from each other and from red (hue 0)
FAMILY_HUES = {
    "input/output": (140, 130), "fully connected": (212, 150), "convolution": (28, 170),
    "pooling": (50, 170), "activation": (282, 120), "normalization": (178, 130),
    "regularization": (312, 90), "recurrence": (95, 120), "attention": (248, 120),
    "structure": (205, 35),
}
ERROR_COLOR = QColor(220, 50, 47)
WARNING_COLOR = QColor(230, 160, 0)
NODE_WIDTH = 150
#: Scene units kept free around the network when it is fitted to the view.
FIT_MARGIN = 24
HEADER_HEIGHT = 22
LINE_HEIGHT = 16
PARAM_LINES = 2  # lines kept for the key parameters
#: a node's height: header, type, key parameters, parameter count (more
#: ports than fit make a node taller)
NODE_HEIGHT = HEADER_HEIGHT + (PARAM_LINES + 2) * LINE_HEIGHT + 8
PORT_RADIUS = 5
PORT_SPACING = 18
NAME_PX, TEXT_PX, LABEL_PX = 13, 12, 12
#: below this zoom nodes draw as coloured boxes with their name only (12-px
#: text would be under 5 screen px), without ports, and edge labels are left
#: out: a network of thousands of blocks repaints fast at fit-all
SIMPLE_LOD = 0.4
RED_BAND = 22  # hues this close to red are not used for families


def canvas_font(px: int, bold: bool = False) -> QFont:
    """A font of ``px`` scene pixels."""
    font = QFont()
    font.setPixelSize(px)
    font.setBold(bold)
    return font


def family_color(family: str, dark: bool = False) -> QColor:
    hue, sat = FAMILY_HUES.get(family, (None, 120))
    if hue is None:
        hue = zlib.crc32(family.encode()) % (360 - 2 * RED_BAND) + RED_BAND
    return QColor.fromHsl(hue, sat, 72 if dark else 178)


def human_count(n: int) -> str:
    """``1234567`` → ``1.2 M`` (:func:`graph.humanize.count`, as everywhere)."""
    return humanize.count(n)


SELECTED_COLOR = QColor(30, 120, 230)


def canvas_background(dark: bool) -> QColor:
    return QColor(38, 40, 44) if dark else QColor(255, 255, 255)


def node_colors(dark: bool) -> tuple[QColor, QColor, QColor, QColor]:
    """Text, body, border and header-text colours of a node."""
    if dark:
        return QColor(235, 235, 235), QColor(52, 55, 61), QColor(110, 114, 122), QColor(245, 245, 245)
    return QColor(25, 25, 25), QColor(252, 252, 250), QColor(120, 120, 120), QColor(20, 20, 20)


def muted_text(dark: bool) -> QColor:
    """Secondary node text (type, parameter count)."""
    return QColor(175, 178, 185) if dark else QColor(95, 95, 100)


def edge_colors(dark: bool) -> tuple[QColor, QColor, QColor, QColor]:
    """Line, label, selected-line and error-label colours of an edge."""
    if dark:
        return QColor(150, 154, 162), QColor(232, 236, 244), SELECTED_COLOR.lighter(130), QColor(255, 130, 120)
    return QColor(90, 90, 95), QColor(30, 30, 60), SELECTED_COLOR, ERROR_COLOR


def label_colors(dark: bool) -> tuple[QColor, QColor]:
    """Fill and outline of the pill behind an edge's shape label."""
    if dark:
        return QColor(60, 63, 70), QColor(100, 104, 112)
    return QColor(242, 244, 248), QColor(200, 203, 210)


def port_colors(dark: bool, variadic: bool) -> tuple[QColor, QColor]:
    """Fill and outline of a port circle."""
    if variadic:
        return QColor(255, 230, 150), QColor(60, 60, 60)
    if dark:
        return QColor(70, 74, 82), QColor(200, 200, 205)
    return QColor(250, 250, 250), QColor(60, 60, 60)
