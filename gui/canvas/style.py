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
