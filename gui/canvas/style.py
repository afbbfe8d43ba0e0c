"""Colours and sizes of canvas items (view-layer only).

Family colours are keyed by the family names of the block registry; a family
added later gets a stable colour made from its name.
"""

from __future__ import annotations

import zlib

from PySide6.QtGui import QColor

FAMILY_HUES = {
    "input/output": 140, "fully connected": 210, "convolution": 25, "pooling": 45,
    "activation": 290, "normalization": 180, "regularization": 330,
    "recurrence": 100, "attention": 260, "structure": 0,
}
ERROR_COLOR = QColor(220, 50, 47)
WARNING_COLOR = QColor(230, 160, 0)
NODE_WIDTH = 176
LINE_HEIGHT = 15
PORT_RADIUS = 5
PORT_SPACING = 18


def family_color(family: str, dark: bool = False) -> QColor:
    hue = FAMILY_HUES.get(family)
    if hue is None:
        hue = zlib.crc32(family.encode()) % 360
    return QColor.fromHsl(hue, 150, 70 if dark else 175)


def human_count(n: int) -> str:
    """``1234567`` → ``1.23M``."""
    for div, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{unit}"
    return str(n)

SELECTED_COLOR = QColor(30, 120, 230)


def canvas_background(dark: bool) -> QColor:
    return QColor(38, 40, 44) if dark else QColor(255, 255, 255)


def node_colors(dark: bool) -> tuple[QColor, QColor, QColor, QColor]:
    """Text, body, border and header-text colours of a node."""
    if dark:
        return QColor(235, 235, 235), QColor(52, 55, 61), QColor(110, 114, 122), QColor(245, 245, 245)
    return QColor(25, 25, 25), QColor(252, 252, 250), QColor(120, 120, 120), QColor(20, 20, 20)


def edge_colors(dark: bool) -> tuple[QColor, QColor, QColor, QColor]:
    """Line, label, selected-line and error-label colours of an edge."""
    if dark:
        return QColor(165, 168, 176), QColor(170, 200, 255), SELECTED_COLOR.lighter(130), QColor(255, 110, 100)
    return QColor(90, 90, 95), QColor(40, 40, 120), SELECTED_COLOR, ERROR_COLOR


def port_colors(dark: bool, variadic: bool) -> tuple[QColor, QColor]:
    """Fill and outline of a port circle."""
    if variadic:
        return QColor(255, 230, 150), QColor(60, 60, 60)
    if dark:
        return QColor(70, 74, 82), QColor(200, 200, 205)
    return QColor(250, 250, 250), QColor(60, 60, 60)
