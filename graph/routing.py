"""An edge route around blocks, for when the simple routes fail (Qt-free).

The canvas draws most edges as a curve, a lane beside the blocks, or the
lane the auto-layout reserved; when the user has moved blocks so that none
of those is clear, :func:`detour` finds an orthogonal path on a grid: A*
over the cells that no block (inflated by a margin) covers, with a penalty
for each turn so the path has few bends.  The grid spans the two ends and a
margin around them and grows coarser for far-apart ends, so a route costs a
few milliseconds at most.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

Box = tuple[float, float, float, float]
#: free space a route keeps to every block
CLEARANCE = 8.0
#: how far beyond the ends the search may go round blocks
REACH = 320.0
MAX_CELLS = 40_000
TURN_COST = 4.0


def detour(a: tuple[float, float], b: tuple[float, float], out_dir: tuple[int, int],
           in_dir: tuple[int, int], blocks: Iterable[Box], stub: float = 16.0
           ) -> list[tuple[float, float]] | None:
    """An orthogonal polyline from ``a`` to ``b`` that enters no block.

    Args:
        a, b: the source and target port points.
        out_dir: the direction the route leaves ``a`` (``(1, 0)``: right).
        in_dir: the direction it enters ``b`` (``(0, 1)``: downward).
        blocks: the boxes to keep out of, the edge's own two blocks included
            (the route leaves and enters them through their ports).
        stub: the straight piece out of ``a`` and into ``b``.

    Returns:
        The points, ``a`` first and ``b`` last, or None when the grid has no
        way through.
    """
    s = (a[0] + out_dir[0] * stub, a[1] + out_dir[1] * stub)
    t = (b[0] - in_dir[0] * stub, b[1] - in_dir[1] * stub)
    x0, x1 = min(s[0], t[0]) - REACH, max(s[0], t[0]) + REACH
    y0, y1 = min(s[1], t[1]) - REACH, max(s[1], t[1]) + REACH
    cell = 10.0
    while (x1 - x0) * (y1 - y0) / (cell * cell) > MAX_CELLS:
        cell *= 1.5
    nx_, ny_ = int((x1 - x0) // cell) + 1, int((y1 - y0) // cell) + 1
    blocked = bytearray(nx_ * ny_)
    for bx, by, bw, bh in blocks:
        if bx > x1 or by > y1 or bx + bw < x0 or by + bh < y0:
            continue
        i0 = max(0, int((bx - CLEARANCE - x0) // cell))
        i1 = min(nx_ - 1, int((bx + bw + CLEARANCE - x0) // cell))
        j0 = max(0, int((by - CLEARANCE - y0) // cell))
        j1 = min(ny_ - 1, int((by + bh + CLEARANCE - y0) // cell))
        for j in range(j0, j1 + 1):
            blocked[j * nx_ + i0: j * nx_ + i1 + 1] = b"\x01" * (i1 - i0 + 1)

    def at(p) -> int:
        return int((p[1] - y0) // cell) * nx_ + int((p[0] - x0) // cell)

    start, goal = at(s), at(t)
    blocked[start] = blocked[goal] = 0
    gx, gy = goal % nx_, goal // nx_
    steps = ((1, 0), (-1, 0), (0, 1), (0, -1))
    best = {(start, out_dir): 0.0}
    came: dict = {}
    heap = [(0.0, 0.0, start, out_dir)]
    found = None
    while heap:
        _, cost, c, d = heapq.heappop(heap)
        if c == goal:
            found = (c, d)
            break
        if cost > best.get((c, d), float("inf")):
            continue
        cx, cy = c % nx_, c // nx_
        for step in steps:
            x, y = cx + step[0], cy + step[1]
            if not (0 <= x < nx_ and 0 <= y < ny_):
                continue
            n = y * nx_ + x
            if blocked[n]:
                continue
            new = cost + 1.0 + (TURN_COST if step != d else 0.0)
            if new < best.get((n, step), float("inf")):
                best[(n, step)] = new
                came[(n, step)] = (c, d)
                heapq.heappush(heap, (new + abs(x - gx) + abs(y - gy), new, n, step))
    if found is None:
        return None
    cells = []
    state = found
    while state in came:
        cells.append(state[0])
        state = came[state]
    cells.append(start)
    cells.reverse()
    pts = [(x0 + (c % nx_ + 0.5) * cell, y0 + (c // nx_ + 0.5) * cell) for c in cells]
    # the cell centres, joined to the stubs by straight, axis-parallel pieces
    first, last = pts[0], pts[-1]
    lead = [a, s, (s[0], first[1]) if out_dir[0] else (first[0], s[1])]
    tail = [(t[0], last[1]) if in_dir[0] else (last[0], t[1]), t, b]
    return _corners(lead + pts + tail)


def _corners(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The polyline without repeated points and points on a straight run."""
    out: list[tuple[float, float]] = []
    for p in pts:
        if out and abs(out[-1][0] - p[0]) < 1e-9 and abs(out[-1][1] - p[1]) < 1e-9:
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if abs((bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)) < 1e-9:
                out[-1] = p
                continue
        out.append(p)
    return out
