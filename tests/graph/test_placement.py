"""Placing new blocks without overlap (graph.placement) and routing an edge
round blocks moved by hand (graph.routing)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.placement import free_offset, free_spot, make_room
from graph.routing import detour

W, H = 150.0, 94.0


def meets(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_a_free_spot_is_the_wish_when_free_else_the_nearest_free_place():
    assert free_spot([], (W, H), (10.0, 20.0)) == (10.0, 20.0)
    taken = [(0.0, 0.0, W, H)]
    spot = free_spot(taken, (W, H), (0.0, 0.0))
    assert not meets((*spot, W, H), taken[0])
    assert abs(spot[0]) + abs(spot[1]) < 3 * (W + H)  # near, not far away


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-5, 5)), max_size=30, unique=True))
def test_blocks_added_one_after_another_never_overlap(cells):
    boxes = [(x * 170.0, y * 120.0, W, H) for x, y in cells]
    for _ in range(5):
        spot = free_spot(boxes, (W, H), (0.0, 0.0))
        new = (*spot, W, H)
        assert not any(meets(new, b) for b in boxes)
        boxes.append(new)


def test_an_insert_with_room_moves_nothing():
    boxes = {"a": (0.0, 0.0, W, H), "b": (0.0, 600.0, W, H)}
    spots, moves = make_room(boxes, "a", "b", [(W, H)])
    assert moves == {}
    (x, y), = spots
    assert x == 0.0 and H < y and y + H < 600.0


def test_an_insert_without_room_shifts_the_blocks_after_it_along_the_flow():
    # a column: a, b, c, and a side block s level with b
    boxes = {"a": (0.0, 0.0, W, H), "b": (0.0, 174.0, W, H), "c": (0.0, 348.0, W, H),
             "s": (300.0, 174.0, W, H)}
    spots, moves = make_room(boxes, "a", "b", [(W, H), (W, H)])  # a chain of two
    assert set(moves) == {"b", "c", "s"} and "a" not in moves
    dy = {moves[k][1] - boxes[k][1] for k in moves}
    assert len(dy) == 1 and dy.pop() > 0  # one rigid shift down
    after = {k: (*moves.get(k, v[:2]), v[2], v[3]) for k, v in boxes.items()}
    new = [(x, y, W, H) for x, y in spots]
    assert not any(meets(n, b) for n in new for b in after.values())
    assert not meets(new[0], new[1])
    assert boxes["a"][1] + H < new[0][1] < new[1][1] < after["b"][1]  # in order on the line


def test_an_insert_left_to_right_shifts_right():
    boxes = {"a": (0.0, 0.0, W, H), "b": (200.0, 0.0, W, H)}
    spots, moves = make_room(boxes, "a", "b", [(W, H)])
    assert moves["b"][0] > 200.0 and moves["b"][1] == 0.0
    assert spots[0][1] == 0.0 and W < spots[0][0] < moves["b"][0] - W


def test_a_paste_moves_off_the_blocks_it_would_cover():
    boxes = [(0.0, 0.0, W, H), (0.0, 200.0, W, H)]
    group = [(0.0, 0.0, W, H), (0.0, 200.0, W, H)]  # copied from those very places
    dx, dy = free_offset(boxes, group, (40.0, 40.0), (90.0, 62.0))
    assert (dx, dy) != (40.0, 40.0)
    assert not any(meets((x + dx, y + dy, w, h), b) for x, y, w, h in group for b in boxes)
    assert free_offset([(900.0, 900.0, W, H)], group, (40.0, 40.0), (90.0, 62.0)) == (40.0, 40.0)


def _crosses(p, q, box) -> bool:
    x, y, w, h = box
    # axis-parallel pieces only (what detour makes)
    if p[0] == q[0]:
        return x < p[0] < x + w and min(p[1], q[1]) < y + h and max(p[1], q[1]) > y
    return y < p[1] < y + h and min(p[0], q[0]) < x + w and max(p[0], q[0]) > x


def test_a_detour_goes_round_a_block_in_the_way():
    a, b = (0.0, 0.0), (400.0, 0.0)
    wall = (150.0, -100.0, 100.0, 200.0)
    pts = detour(a, b, (1, 0), (1, 0), [wall, (-150.0, -47.0, 150.0, 94.0),
                                        (400.0, -47.0, 150.0, 94.0)])
    assert pts[0] == a and pts[-1] == b
    assert all(p[0] == q[0] or p[1] == q[1] for p, q in zip(pts, pts[1:]))
    assert not any(_crosses(p, q, wall) for p, q in zip(pts, pts[1:]))


def test_a_detour_is_none_when_walled_in():
    a, b = (0.0, 0.0), (100.0, 0.0)
    walls = [(-2000.0, -2000.0, 4000.0, 1980.0), (-2000.0, 20.0, 4000.0, 1980.0),
             (40.0, -2000.0, 20.0, 4000.0)]
    assert detour(a, b, (1, 0), (1, 0), walls) is None
