"""The edits of a project's units, called through :class:`graph.graph.Graph`.

Each edit is one step a ``QUndoCommand`` can take back: define/replace/remove
a definition, set an instance's ``repeat``, group blocks into a new unit and
ungroup an instance.  A definition's inner graph shares its project's units
table; the project graph listens to each inner graph's ``changed`` event, so
an edit inside a unit marks the unit (and the units using it) changed and
emits ``unit_changed`` for each: analysers re-check exactly their instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .elements import Edge, Node
from .problems import GraphEditError
from .units import UnitDef, dependents, unit_cycle, unit_name_problem


# ------------------------------------------------------------------ definitions
def _attach_unit(g, unit: UnitDef) -> None:
    unit.graph.units = g.units
    for n in unit.graph.nodes.values():
        n.units = g.units
    g.units[unit.name] = unit

    def edited(name=unit.name):
        _unit_edited(g, name)

    unit.graph.events.changed.connect(edited)
    g._unit_subs[unit.name] = (unit, edited)


def _detach_unit(g, name: str) -> UnitDef:
    unit, edited = g._unit_subs.pop(name)
    unit.graph.events.changed.disconnect(edited)
    del g.units[name]
    return unit


def _unit_edited(g, name: str) -> None:
    g.units[name].touch()
    g.events.unit_changed.emit(name)
    for n in dependents(g.units, name):
        g.units[n].touch(deep=True)
        g.events.unit_changed.emit(n)
    g.events.changed.emit()


def _refuse_cycle(g, name: str) -> None:
    cycle = unit_cycle(g.units, name)
    if cycle:
        raise GraphEditError(f"unit {name} would use itself: {' → '.join(cycle)}")


def define_unit(g, unit: UnitDef) -> None:
    why = unit_name_problem(unit.name)
    if why:
        raise GraphEditError(why)
    if unit.name in g.units:
        raise GraphEditError(f"a unit named {unit.name!r} already exists")
    _attach_unit(g, unit)
    try:
        _refuse_cycle(g, unit.name)
    except GraphEditError:
        _detach_unit(g, unit.name)
        raise
    unit.touch()
    g.events.unit_defined.emit(unit.name)
    g.events.changed.emit()


def replace_unit(g, unit: UnitDef) -> UnitDef:
    if unit.name not in g.units:
        raise GraphEditError(f"there is no unit named {unit.name!r}")
    old = _detach_unit(g, unit.name)
    _attach_unit(g, unit)
    try:
        _refuse_cycle(g, unit.name)
    except GraphEditError:
        _detach_unit(g, unit.name)
        _attach_unit(g, old)
        raise
    _unit_edited(g, unit.name)
    return old


def remove_unit(g, name: str) -> UnitDef:
    if name not in g.units:
        raise GraphEditError(f"there is no unit named {name!r}")
    if g.instances(name):
        raise GraphEditError(f"unit {name} is used by {len(g.instances(name))} block(s); "
                             "remove or ungroup them first")
    users = [u.name for u in g.units.values() if u.name != name and name in u.uses()]
    if users:
        raise GraphEditError(f"unit {name} is used inside unit {users[0]}")
    unit = _detach_unit(g, name)
    g.events.unit_removed.emit(name)
    g.events.changed.emit()
    return unit


def set_repeat(g, node_id: str, repeat: int) -> int:
    node = g.node(node_id)
    spec = node.spec
    if spec is None or getattr(spec, "unit", None) is None:
        raise GraphEditError(f"{node.label()} is not a unit; only a unit can repeat")
    if type(repeat) is not int or repeat < 1:
        raise GraphEditError(f"repeat must be a whole number ≥ 1, got {repeat!r}")
    if repeat != 1 and (len(spec.inputs) != 1 or len(spec.outputs) != 1):
        raise GraphEditError(f"unit {node.type} has {len(spec.inputs)} input(s) and "
                             f"{len(spec.outputs)} output(s); only a unit with one of each "
                             "can repeat")
    old, node.repeat = node.repeat, repeat
    g.events.param_changed.emit(node, "repeat")
    g.events.changed.emit()
    return old


# ------------------------------------------------------------------ group
@dataclass
class Grouped:
    """What :func:`group` did (for :func:`undo_group`)."""

    instance: str
    unit: UnitDef
    removed: list = field(default_factory=list)  # (index, node, edges) in removal order


@dataclass
class Ungrouped:
    """What :func:`ungroup` did (for :func:`undo_ungroup`)."""

    node: object
    index: int
    edges: list
    added_nodes: list = field(default_factory=list)
    added_edges: list = field(default_factory=list)


def _port_ids(prefix: str, count: int, taken: set[str]) -> list[str]:
    out = []
    k = 0
    while len(out) < count:
        pid = prefix if count == 1 and k == 0 else f"{prefix}{k + 1 if count > 1 else k}"
        k += 1
        if pid not in taken:
            taken.add(pid)
            out.append(pid)
    return out


def group(g, node_ids, unit_name: str) -> Grouped:
    chosen = set(node_ids)
    if not chosen:
        raise GraphEditError("select the blocks to group first")
    for nid in chosen:
        node = g.node(nid)
        if node.spec is not None and node.spec.role != "layer":
            raise GraphEditError(f"{node.label()} is a model input or output; it cannot go "
                                 "into a unit")
    why = unit_name_problem(unit_name)
    if why or unit_name in g.units:
        raise GraphEditError(why or f"a unit named {unit_name!r} already exists")
    ids = [nid for nid in g.nodes if nid in chosen]
    inbound: dict[tuple[str, str], list] = {}
    outbound: dict[tuple[str, str], list] = {}
    for i, e in enumerate(g.edges):
        if e.target in chosen and e.source not in chosen:
            inbound.setdefault((e.source, e.source_port), []).append((i, e))
        elif e.source in chosen and e.target not in chosen:
            outbound.setdefault((e.source, e.source_port), []).append((i, e))
    taken = set(ids)
    in_ids = _port_ids("x", len(inbound), taken)
    out_ids = _port_ids("y", len(outbound), taken)
    inner = type(g)()  # the project's graph class (this module is imported by it)
    for pid in in_ids:
        inner.add_node("Input", {}, name=pid, id=pid)
    for nid in ids:
        n = g.nodes[nid]
        inner._insert_node(Node(n.id, n.type, n.name, dict(n.params), n.pos, n.auto_name,
                                n.repeat, n.frozen))
    for pid in out_ids:
        inner.add_node("Output", {}, name=pid, id=pid)
    for e in g.edges:
        if e.source in chosen and e.target in chosen:
            inner.add_edge_unchecked(Edge(e.source, e.target, e.source_port, e.target_port))
    for pid, edges in zip(in_ids, inbound.values()):
        for _, e in edges:
            inner.add_edge_unchecked(Edge(pid, e.target, "out", e.target_port))
    for pid, ((src, sport), _) in zip(out_ids, outbound.items()):
        inner.add_edge_unchecked(Edge(src, pid, sport, "in"))
    unit = UnitDef(unit_name, {}, inner)
    xs = [n.pos[0] for n in (g.nodes[i] for i in ids) if n.pos]
    ys = [n.pos[1] for n in (g.nodes[i] for i in ids) if n.pos]
    pos = (sum(xs) / len(xs), sum(ys) / len(ys)) if xs else None
    first = g.index_of(ids[0])
    define_unit(g, unit)
    done = Grouped("", unit)
    for nid in ids:
        index = g.index_of(nid)
        node, edges = g.remove_node(nid)
        done.removed.append((index, node, edges))
    spec = g.spec_of_type(unit_name)
    inst = Node(g.new_id(spec.name_prefix[:1]), unit_name, g.free_name(spec.name_prefix), {},
                pos, True)
    g.restore_node(inst, (), first)  # at the first grouped block's place in node order
    done.instance = inst.id
    for pid, ((src, sport), edges) in zip(in_ids, inbound.items()):
        g.add_edge_unchecked(Edge(src, inst.id, sport, pid))
    for pid, edges in zip(out_ids, outbound.values()):
        for _, e in edges:
            g.add_edge_unchecked(Edge(inst.id, e.target, pid, e.target_port))
    return done


def undo_group(g, done: Grouped) -> None:
    g.remove_node(done.instance)
    for index, node, edges in reversed(done.removed):
        g.restore_node(node, edges, index)
    remove_unit(g, done.unit.name)


# ------------------------------------------------------------------ ungroup
def ungroup(g, instance_id: str) -> Ungrouped:
    from .unit_values import bind

    inst = g.node(instance_id)
    unit = g.units.get(inst.type)
    if unit is None:
        raise GraphEditError(f"{inst.label()} is not a unit instance")
    if inst.repeat != 1:
        raise GraphEditError(f"{inst.label()} repeats {inst.repeat} times; set repeat to 1 "
                             "before ungrouping")
    values = dict(unit.params)
    values.update(inst.params)
    index = g.index_of(instance_id)
    node, edges = g.remove_node(instance_id)
    done = Ungrouped(node, index, edges)
    ends = {n.id for n in unit.graph.nodes.values() if n.spec is not None
            and n.spec.role != "layer"}
    idmap: dict[str, str] = {}
    at = index
    for n in unit.graph.nodes.values():
        if n.id in ends:
            continue
        nid = n.id if n.id not in g.nodes else g.new_id(n.id + "_")
        name = n.name if g.name_problem(n.name) is None else g.free_name(n.name)
        params = {k: bind(v, values) for k, v in n.params.items()}
        new = Node(nid, n.type, name, params, n.pos, n.auto_name, n.repeat, n.frozen)
        g.restore_node(new, (), at)
        at += 1
        idmap[n.id] = nid
        done.added_nodes.append(nid)
    into = {e.target_port: [x for x in edges if x[1].target_port == e.target_port]
            for _, e in edges}
    for e in unit.graph.edges:
        if e.source in ends and e.target in ends:
            srcs = [x for _, x in into.get(e.source, [])]
            outs = [x for _, x in edges if x.source == instance_id and x.source_port == e.target]
            pairs = [(s.source, s.source_port, o.target, o.target_port) for s in srcs for o in outs]
        elif e.source in ends:
            pairs = [(x.source, x.source_port, idmap[e.target], e.target_port)
                     for _, x in into.get(e.source, [])]
        elif e.target in ends:
            pairs = [(idmap[e.source], e.source_port, x.target, x.target_port)
                     for _, x in edges if x.source == instance_id and x.source_port == e.target]
        else:
            pairs = [(idmap[e.source], e.source_port, idmap[e.target], e.target_port)]
        for s, sp, t, tp in pairs:
            new_edge = Edge(s, t, sp, tp)
            g.add_edge_unchecked(new_edge)
            done.added_edges.append(new_edge)
    return done


def undo_ungroup(g, done: Ungrouped) -> None:
    for e in reversed(done.added_edges):
        if any(x is e for x in g.edges):
            g.disconnect(e)
    for nid in reversed(done.added_nodes):
        g.remove_node(nid)
    g.restore_node(done.node, done.edges, done.index)
