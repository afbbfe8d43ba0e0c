"""Placing new blocks where they overlap nothing (Qt-free geometry).

- :func:`free_spot`: the free place nearest a wish, for one block (a block
  added from the palette);
- :func:`make_room`: blocks inserted on an edge go on the edge's line, and
  the blocks after them shift along the flow when there is no room (a quick
  fix's insert);
- :func:`free_offset`: the nearest offset at which a group of blocks (a
  paste) meets no block.

Boxes are ``(x, y, width, height)`` with the top-left corner first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

#: a box: ``(x, y, width, height)``, the top-left corner first
Box = tuple[float, float, float, float]
#: free space kept around a placed block
PLACE_GAP = 30.0


def _meets(a: Box, b: Box, gap: float) -> bool:
    return (a[0] < b[0] + b[2] + gap and b[0] < a[0] + a[2] + gap
            and a[1] < b[1] + b[3] + gap and b[1] < a[1] + a[3] + gap)


class _Grid:
    """Boxes bucketed by cell, so a test for one place looks at its
    neighbours only (a canvas may hold thousands of blocks)."""

    def __init__(self, boxes: Iterable[Box], cell: float):
        self.cell = cell
        self.cells: dict[tuple[int, int], list[Box]] = {}
        for b in boxes:
            for key in self._keys(b, 0.0):
                self.cells.setdefault(key, []).append(b)

    def _keys(self, b: Box, gap: float):
        c = self.cell
        for i in range(int((b[0] - gap) // c), int((b[0] + b[2] + gap) // c) + 1):
            for j in range(int((b[1] - gap) // c), int((b[1] + b[3] + gap) // c) + 1):
                yield i, j

    def meets(self, box: Box, gap: float) -> bool:
        """Whether ``box`` comes within ``gap`` of any box."""
        return any(_meets(box, b, gap) for key in self._keys(box, gap)
                   for b in self.cells.get(key, ()))


def free_spot(boxes: Iterable[Box], size: tuple[float, float], want: tuple[float, float],
              gap: float = PLACE_GAP, rings: int = 40) -> tuple[float, float]:
    """The top-left corner nearest ``want`` where a block of ``size`` meets
    none of ``boxes`` (keeping ``gap`` to each).

    Candidates lie on a grid of half a block around ``want``, nearest first;
    beyond ``rings`` steps the spot right of everything is taken.
    """
    w, h = size
    boxes = list(boxes)
    sx, sy = (w + gap) / 2, (h + gap) / 2
    cands = sorted(((i, j) for i in range(-rings, rings + 1) for j in range(-rings, rings + 1)),
                   key=lambda ij: ((ij[0] * sx) ** 2 + (ij[1] * sy) ** 2, ij[1], ij[0]))
    grid = _Grid(boxes, max(w, h) + gap)
    for i, j in cands:
        spot = (want[0] + i * sx, want[1] + j * sy, w, h)
        if not grid.meets(spot, gap):
            return spot[0], spot[1]
    right = max((b[0] + b[2] for b in boxes), default=want[0])
    return right + gap, want[1]


def make_room(boxes: Mapping[str, Box], source: str, target: str,
              sizes: Sequence[tuple[float, float]], gap: float = PLACE_GAP * 2
              ) -> tuple[list[tuple[float, float]], dict[str, tuple[float, float]]]:
    """Where a chain of new blocks inserted on the edge ``source → target``
    goes, and which blocks move to make room for it.

    The chain runs along the edge's flow (down when the target lies below
    the source, right when it lies right of it), centred on the target's
    axis.  When it fits between the two without meeting a block, nothing
    moves; else every block that starts at or after the chain's first block
    along the flow (the target and what follows it) shifts by the room the
    chain needs, so the network keeps its arrangement.

    Args:
        boxes: every block's box by id (the source and target among them).
        sizes: the new blocks' ``(width, height)``, in chain order.
        gap: free space between consecutive blocks along the flow.

    Returns:
        The new blocks' top-left corners, and ``{id: (x, y)}`` new corners
        of the blocks that move.
    """
    s, t = boxes[source], boxes[target]
    sc = (s[0] + s[2] / 2, s[1] + s[3] / 2)
    tc = (t[0] + t[2] / 2, t[1] + t[3] / 2)
    axis = 1 if abs(tc[1] - sc[1]) >= abs(tc[0] - sc[0]) else 0
    cross = 1 - axis
    sign = 1.0 if tc[axis] >= sc[axis] else -1.0
    extent = [size[axis] for size in sizes]
    length = sum(extent) + gap * (len(sizes) - 1)

    def corners(start: float) -> list[tuple[float, float]]:
        out, f = [], start
        for size, e in zip(sizes, extent):
            lo = f if sign > 0 else f - e
            c = tc[cross] - size[cross] / 2
            out.append((c, lo) if axis == 1 else (lo, c))
            f += sign * (e + gap)
        return out

    def free(pts, skip=()) -> bool:
        new = [(x, y, *size) for (x, y), size in zip(pts, sizes)]
        return not any(_meets(n, b, gap / 2) for n in new
                       for k, b in boxes.items() if k not in skip)

    s_end = s[axis] + s[axis + 2] if sign > 0 else s[axis]
    start = s_end + sign * gap
    t_start = t[axis] if sign > 0 else t[axis] + t[axis + 2]
    pts = corners(start)
    fits = sign * (t_start - (start + sign * length)) >= gap
    if fits and free(pts):
        return pts, {}
    # shift the target and everything from the chain's start on, along the flow
    need = max(0.0, sign * (start + sign * (length + gap) - t_start))
    moves: dict[str, tuple[float, float]] = {}
    for k, b in boxes.items():
        begin = b[axis] if sign > 0 else b[axis] + b[axis + 2]
        if k != source and (sign * (begin - start) >= -1e-6 or k == target):
            d = sign * need
            moves[k] = (b[0], b[1] + d) if axis == 1 else (b[0] + d, b[1])
    if free(pts, skip=set(moves)):
        after = {k: (*moves.get(k, b[:2]), b[2], b[3]) for k, b in boxes.items()}
        new = [(x, y, *size) for (x, y), size in zip(pts, sizes)]
        if not any(_meets(n, b, gap / 2) for n in new for b in after.values()):
            return pts, moves
    # something outside the flow's order is in the way: each block at a free
    # spot near its place, nothing moved
    placed: list[Box] = list(boxes.values())
    out = []
    for (x, y), size in zip(pts, sizes):
        spot = free_spot(placed, size, (x, y))
        out.append(spot)
        placed.append((*spot, *size))
    return out, {}


def free_offset(boxes: Iterable[Box], moving: Sequence[Box], start: tuple[float, float],
                step: tuple[float, float], gap: float = PLACE_GAP, rings: int = 30
                ) -> tuple[float, float]:
    """An offset for a group of blocks (a paste) so that none of them meets
    ``boxes``: ``start`` if it does, else the nearest free one on a grid of
    ``step`` around it."""
    if not moving:
        return start
    boxes = list(boxes)
    grid = _Grid(boxes, max(step) * 2 + gap)
    x0 = min(b[0] for b in moving)
    cands = sorted(((i, j) for i in range(-rings, rings + 1) for j in range(-rings, rings + 1)),
                   key=lambda ij: ((ij[0] * step[0]) ** 2 + (ij[1] * step[1]) ** 2, ij[1], ij[0]))
    for i, j in cands:
        dx, dy = start[0] + i * step[0], start[1] + j * step[1]
        if not any(grid.meets((b[0] + dx, b[1] + dy, b[2], b[3]), gap) for b in moving):
            return dx, dy
    right = max((b[0] + b[2] for b in boxes), default=0.0)
    return right + gap - x0, start[1]
