"""Which blocks meet an area of the canvas, and which port is under a point.

Long edges route around blocks, and a port is found under the mouse among
the blocks near it (ports are drawn by their blocks, not items of their own).  The scene indexes its items with ``NoIndex`` (see
:mod:`gui.canvas.scene`), so Qt's own look-up by area is linear; instead the
blocks' scene rectangles sit in a grid of :data:`CELL`-sized buckets, built
once per change (a block added, removed or moved), so a query costs what is
near it, not the scene.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

from .port_item import HIT_RADIUS, PortItem

CELL = 256.0  # grid bucket size of the node-rectangle index (scene units)


class NodeGrid:
    """The rectangles of a scene's block items, by grid cell, while unchanged.

    Args:
        nodes: the scene's block items by node id (the dict itself, read at
            each rebuild, so the grid sees the items added and removed).
    """

    def __init__(self, nodes: dict):
        self._nodes = nodes
        self._rects: dict | None = None

    def invalidate(self) -> None:
        """A block was added, removed or moved: rebuild on the next query."""
        self._rects = None

    def rects_in(self, area: QRectF) -> list:
        """``(node item, scene rectangle)`` of the blocks meeting ``area``."""
        if self._rects is None:
            grid: dict[tuple[int, int], list] = {}
            for item in self._nodes.values():
                r = item.mapRectToScene(item.rect)
                left, top = r.left(), r.top()
                right, bottom = left + r.width(), top + r.height()
                # the edges as numbers too: a query compares in Python, with no
                # call into Qt per block it looks at (thousands while routing)
                entry = (item, r, left, top, right, bottom)
                for ix in range(int(left // CELL), int(right // CELL) + 1):
                    for iy in range(int(top // CELL), int(bottom // CELL) + 1):
                        grid.setdefault((ix, iy), []).append(entry)
            self._rects = grid
        grid = self._rects
        left, top = area.left(), area.top()
        right, bottom = left + area.width(), top + area.height()
        if left == right or top == bottom:
            return []  # an empty area meets nothing (as QRectF.intersects says)
        left, right = min(left, right), max(left, right)
        top, bottom = min(top, bottom), max(top, bottom)
        cells_x = range(int(left // CELL), int(right // CELL) + 1)
        cells_y = range(int(top // CELL), int(bottom // CELL) + 1)
        found: dict[int, tuple] = {}
        if len(cells_x) * len(cells_y) > len(grid):
            buckets = grid.values()  # a huge area: walk what exists instead
        else:
            buckets = [grid[c] for c in ((x, y) for x in cells_x for y in cells_y) if c in grid]
        for bucket in buckets:
            for item, r, l2, t2, r2, b2 in bucket:
                # QRectF.intersects: the open rectangles overlap
                if l2 < right and left < r2 and t2 < bottom and top < b2:
                    found[id(item)] = (item, r)
        return list(found.values())

    def port_at(self, pos: QPointF) -> PortItem | None:
        """The port whose circle is under ``pos`` (scene), or None.

        The blocks near ``pos`` come from the grid and the nearest of their
        ports within :data:`~gui.canvas.port_item.HIT_RADIUS` wins; the
        topmost block's when ports of two overlap.
        """
        area = QRectF(pos.x() - HIT_RADIUS, pos.y() - HIT_RADIUS, 2 * HIT_RADIUS, 2 * HIT_RADIUS)
        best, best_key = None, None
        for item, _rect in self.rects_in(area):
            for port in item.ports.values():
                d = port.distance(pos)
                key = (-item.zValue(), d)
                if d <= HIT_RADIUS and (best_key is None or key < best_key):
                    best, best_key = port, key
        return best
