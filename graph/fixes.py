"""Quick fixes: what a problem's ``fix`` does to the graph, and doing it.

A :class:`~graph.problems.Problem` may carry a ``fix`` (made by the block's
shape rule, or by the name check), one of:

``{"kind": "set_param", "param": NAME, "value": VALUE}``
    set a parameter of the problem's node;
``{"kind": "rename", "name": NAME}``
    rename the problem's node (to the name the code already uses for it);
``{"kind": "insert", "type": TYPE, "params": {...}, "edge_index": K}``
    insert a new block on the K-th edge (default 0) into the problem's port
    (``Flatten``, ``Reshape`` with a ``shape`` that fixes the rank,
    ``Permute`` with the ``dims`` that line operands up, a ``Linear`` or 1×1
    ``Conv2d`` projection).

:func:`plan_fix` turns a fix into the graph edits it stands for (the editor
wraps each in an undoable command); :func:`apply_fix` performs them directly
on a graph (scripts, notebooks, tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .graph import Edge, Graph
from .problems import Problem


@dataclass(frozen=True)
class FixPlan:
    """The edits of one quick fix.

    Attributes:
        kind: ``"set_param"``, ``"rename"`` or ``"insert"``.
        node: the problem's node id.
        param, value: for ``set_param``; ``value`` is the new name for ``rename``.
        type, params: the block to insert, for ``insert``.
        edge: the edge the new block goes on (cut, then source → new → target).
        edge_index: that edge's position in :attr:`Graph.edges` (the new
            block's outgoing edge takes it, keeping the operand order).
        pos: where the new block goes (between the edge's ends, a little
            below), or None when they have no positions.
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


def plan_fix(graph: Graph, problem: Problem) -> FixPlan | None:
    """What applying ``problem.fix`` would do, or None if it has no fix that
    applies to the graph as it is now (the node or edge has gone)."""
    fix = problem.fix
    if not fix or problem.node not in graph.nodes:
        return None
    node = graph.nodes[problem.node]
    if fix.get("kind") == "set_param":
        return FixPlan("set_param", node.id, param=fix["param"], value=fix["value"])
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
    pos = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 60) if a is not None and b is not None else None
    return FixPlan("insert", node.id, type=fix["type"], params=dict(fix.get("params") or {}),
                   edge=edge, edge_index=index, pos=pos)


def apply_fix(graph: Graph, problem: Problem) -> str | None:
    """Apply a problem's quick fix to the graph.

    Returns:
        The id of the inserted node (for an ``insert``), the problem's node id
        (for ``set_param`` and ``rename``), or None when there is nothing to apply.

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
    graph.disconnect(e)
    new = graph.add_node(plan.type, plan.params, pos=plan.pos)
    graph.connect(e.source, new.id, e.source_port, None)
    graph.connect(new.id, e.target, None, e.target_port, index=plan.edge_index)
    return new.id
