"""Quick fixes: what a problem's ``fix`` does to the graph, and doing it.

A :class:`~graph.problems.Problem` may carry a ``fix`` (made by the block's
shape rule, or by the name check), one of:

``{"kind": "set_param", "param": NAME, "value": VALUE}``
    set a parameter of the problem's node (of the node ``"node"`` names
    instead, where given: the ``Linear`` before an ``Output`` whose size does
    not match the dataset's classes);
``{"kind": "rename", "name": NAME}``
    rename the problem's node (to the name the code already uses for it);
``{"kind": "insert", "type": TYPE, "params": {...}, "edge_index": K}``
    insert a new block on the K-th edge (default 0) into the problem's port
    (``Flatten``, ``Reshape`` with a ``shape`` that fixes the rank,
    ``Permute`` with the ``dims`` that line operands up, a ``Linear`` or 1×1
    ``Conv2d`` projection); ``"then": [{"type": ..., "params": ...}, ...]``
    inserts more blocks after it, in a chain (``Flatten`` then ``Linear``).

:func:`plan_fix` turns a fix into the graph edits it stands for (the editor
wraps each in an undoable command); :func:`apply_fix` performs them directly
on a graph (scripts, notebooks, tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .graph import Edge, Graph
from .placement import make_room
from .problems import Problem

#: Horizontal distance between the blocks of an inserted chain.
CHAIN_STEP = 180


@dataclass(frozen=True)
class FixPlan:
    """The edits of one quick fix.

    Attributes:
        kind: ``"set_param"``, ``"rename"`` or ``"insert"``.
        node: the problem's node id.
        param, value: for ``set_param``; ``value`` is the new name for ``rename``.
        type, params: the block to insert, for ``insert``.
        then: ``(type, params)`` of the blocks inserted after it, in order.
        edge: the edge the new block goes on (cut, then source → new → target).
        edge_index: that edge's position in :attr:`Graph.edges` (the new
            block's outgoing edge takes it, keeping the operand order).
        pos: the middle of the edge (None when its ends have no positions);
            :func:`place_insert` says where the new blocks go.
    """

    kind: str
    node: str
    param: str | None = None
    value: Any = None
    type: str | None = None
    params: dict = field(default_factory=dict)
    edge: Edge | None = None
    edge_index: int | None = None
    pos: tuple[float, float] | None = None
    then: tuple = ()


def plan_fix(graph: Graph, problem: Problem) -> FixPlan | None:
    """What applying ``problem.fix`` would do, or None if it has no fix that
    applies to the graph as it is now (the node or edge has gone)."""
    fix = problem.fix
    if not fix or problem.node not in graph.nodes:
        return None
    node = graph.nodes[problem.node]
    if fix.get("kind") == "set_param":
        target = fix.get("node", node.id)
        if target not in graph.nodes:
            return None
        return FixPlan("set_param", target, param=fix["param"], value=fix["value"])
    if fix.get("kind") == "rename":
        # the name was free when the problem was found; it must still be
        if graph.name_problem(fix["name"], node.id) is not None:
            return None
        return FixPlan("rename", node.id, value=fix["name"])
    if fix.get("kind") != "insert" or node.spec is None:
        return None
    port = problem.port or (node.spec.inputs[0].name if node.spec.inputs else None)
    if port is None:
        return None
    edges = graph.in_edges(node.id, port)
    k = fix.get("edge_index", 0)
    if not 0 <= k < len(edges):
        return None
    edge = edges[k]
    index = next(i for i, e in enumerate(graph.edges) if e is edge)
    a, b = graph.nodes[edge.source].pos, node.pos
    pos = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) if a is not None and b is not None else None
    then = tuple((b["type"], dict(b.get("params") or {})) for b in fix.get("then") or ())
    return FixPlan("insert", node.id, type=fix["type"], params=dict(fix.get("params") or {}),
                   edge=edge, edge_index=index, pos=pos, then=then)


#: a block's size where the caller does not give one (the canvas's usual block)
DEFAULT_SIZE = (150.0, 94.0)


def place_insert(graph: Graph, plan: FixPlan, size_of=None
                 ) -> tuple[list[tuple[float, float] | None], dict[str, tuple[float, float]]]:
    """Where an insert's new blocks go, and which blocks move out of their way
    (:func:`graph.layout.make_room`: on the edge's line, the blocks after it
    shifted along the flow when there is no room; nothing overlaps).

    Args:
        plan: an ``insert`` plan.
        size_of: ``size_of(type name)`` gives a block's ``(width, height)``
            (default :data:`DEFAULT_SIZE`).

    Returns:
        One top-left corner per new block (None when the edge's ends have no
        positions), and ``{node id: new corner}`` of the blocks that move.
    """
    types = [plan.type] + [t for t, _ in plan.then]
    e = plan.edge
    if graph.nodes[e.source].pos is None or graph.nodes[e.target].pos is None:
        return [None] * len(types), {}
    size = size_of or (lambda _t: DEFAULT_SIZE)
    boxes = {nid: (*n.pos, *size(n.type)) for nid, n in graph.nodes.items() if n.pos is not None}
    return make_room(boxes, e.source, e.target, [size(t) for t in types])


def apply_fix(graph: Graph, problem: Problem) -> str | None:
    """Apply a problem's quick fix to the graph.

    Returns:
        The id of the (last) inserted node (for an ``insert``), the edited
        node's id (for ``set_param`` and ``rename``), or None when there is
        nothing to apply.

    Raises:
        GraphEditError: an edit was refused (cannot happen for a plan made
            from the current graph).
    """
    plan = plan_fix(graph, problem)
    if plan is None:
        return None
    if plan.kind == "set_param":
        graph.set_param(plan.node, plan.param, plan.value)
        return plan.node
    if plan.kind == "rename":
        graph.rename(plan.node, plan.value)
        return plan.node
    e = plan.edge
    spots, moves = place_insert(graph, plan)
    graph.disconnect(e)
    for nid, pos in moves.items():
        graph.move(nid, pos)
    prev, port = e.source, e.source_port
    for pos, (type_, params) in zip(spots, ((plan.type, plan.params), *plan.then)):
        new = graph.add_node(type_, params, pos=pos)
        graph.connect(prev, new.id, port, None)
        prev, port = new.id, None
    graph.connect(prev, e.target, None, e.target_port, index=plan.edge_index)
    return prev
