"""Reading project files (``docs/project-format.md``, versions 1 and 2).

Loading is defensive: the bytes are decoded by :mod:`graph.project_json`
(size, encoding, duplicate keys, ``NaN``/``Infinity`` and nesting checked),
migrated to the current version, and checked entry by entry; every
problem becomes one :class:`~graph.project_json.ProjectLoadError` naming its
location (``nodes[3].params``).  Nothing in a file is ever evaluated as code.
Parameter *values* are not judged here: validation reports a bad value on its
node, where the user can fix it.  Cycles and extra edges into a single port
are loaded for the same reason.  Units (version 2) are checked like the
project's own nodes and edges, at locations such as
``units.BasicBlock.nodes[1].params.stride``; a unit that uses itself, through
others or not, is refused with the cycle named.
"""

from __future__ import annotations

import difflib
import gc
import json
import os
from pathlib import Path
from typing import Any, Callable

from . import blocks
from .graph import Edge, Graph
from .names import DefaultNames
from .problems import GraphEditError
from .project_json import MAX_BYTES, ProjectLoadError, decode
from .project_model import (EDGE_KEYS, FORMAT, MAX_REPEAT, NODE_KEYS, TOP_KEYS, UNIT_KEYS,
                            VERSION, Project)
from .unit_values import param_refs
from .units import UnitDef, unit_cycle, unit_name_problem, unit_param_problem

#: Migrations: ``MIGRATIONS[k]`` turns a version-``k`` document into version ``k+1``.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: lambda doc: doc}  # 2 only adds units


# ---------------------------------------------------------------------- check
def _type_name(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            int: "a number", float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _need(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise ProjectLoadError(message, where)


def _no_unknown_keys(d: dict, known: tuple[str, ...], where: str, what: str) -> None:
    for k in d:
        if k not in known:
            close = difflib.get_close_matches(k, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ProjectLoadError(f"unknown key {k!r} ({hint}{what} keys: {', '.join(known)})",
                                   where)


def _migrate(doc: dict) -> dict:
    version = doc.get("version")
    _need(type(version) is int, "version",
          f"must be a whole number, got {_type_name(version)}" if "version" in doc
          else "is missing; a project file says which format version it uses")
    if version > VERSION:
        raise ProjectLoadError(f"the file is format version {version}, but this program knows "
                               f"only up to version {VERSION}; open it with a newer NetCanvas",
                               "version")
    _need(version >= 1, "version", f"{version} is not a valid format version (1..{VERSION})")
    while version < VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
        doc["version"] = version
    return doc


def _check_params(params: Any, spec: blocks.BlockSpec, where: str) -> dict:
    _need(isinstance(params, dict), where, f"must be an object, got {_type_name(params)}")
    for name in params:
        if name in spec.inferred:
            raise ProjectLoadError(f"{name} of {spec.type} is inferred from the input shape "
                                   "and must not be given; remove it", where)
        if name not in spec.param_index:
            close = difflib.get_close_matches(name, list(spec.param_index), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ProjectLoadError(f"unknown parameter {name!r} for {spec.type}{hint}", where)
    return params


def _check_pos(pos: Any, where: str) -> tuple[float, float] | None:
    if pos is None:
        return None
    ok = (isinstance(pos, list) and len(pos) == 2
          and all(type(v) in (int, float) for v in pos))
    _need(ok, where, f"must be a list of two numbers [x, y], got {json.dumps(pos)[:60]}")
    return (float(pos[0]), float(pos[1]))


# The checks below run once per node and edge of files with 100,000 of them:
# messages (and locations) are made only when a check fails.
def _check_node(i: int, nd: Any, g: Graph, prefix: str) -> tuple[blocks.BlockSpec, str | None]:
    where = f"{prefix}nodes[{i}]"
    if not isinstance(nd, dict):
        raise ProjectLoadError(f"must be an object, got {_type_name(nd)}", where)
    for k in nd:
        if k not in NODE_KEYS:
            _no_unknown_keys(nd, NODE_KEYS, where, "node")
    nid = nd.get("id")
    if not (isinstance(nid, str) and nid != ""):
        raise ProjectLoadError("is missing" if "id" not in nd else
                               f"must be a non-empty string, got {json.dumps(nid)[:60]}",
                               f"{where}.id")
    t = nd.get("type")
    if not isinstance(t, str):
        raise ProjectLoadError("is missing" if "type" not in nd else
                               f"must be a string, got {_type_name(t)}", f"{where}.type")
    spec = g.spec_of_type(t)
    if spec is None:
        close = difflib.get_close_matches(t, list(blocks.BLOCKS) + list(g.units), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        what = "block type or unit" if g.units else "block type"
        raise ProjectLoadError(f"unknown {what} {t!r}{hint}", f"{where}.type")
    name = nd.get("name")
    if not (name is None or isinstance(name, str) and name.strip() != ""):
        raise ProjectLoadError(f"must be a non-empty string, got {json.dumps(name)[:60]}",
                               f"{where}.name")
    return spec, name


def _build_nodes(nodes: Any, g: Graph, prefix: str = "", unit: UnitDef | None = None,
                 repeats: list | None = None) -> None:
    """Check and add the nodes of the project (or, with ``unit``, of a unit
    definition, at ``prefix`` = ``units.NAME.``)."""
    _need(isinstance(nodes, list), f"{prefix}nodes", f"must be a list, got {_type_name(nodes)}")
    specs = [_check_node(i, nd, g, prefix) for i, nd in enumerate(nodes)]
    seen: dict[str, int] = {}
    for i, nd in enumerate(nodes):
        if nd["id"] in seen:
            raise ProjectLoadError(f"duplicate node id {nd['id']!r} (also used by "
                                   f"{prefix}nodes[{seen[nd['id']]}])", f"{prefix}nodes[{i}].id")
        seen[nd["id"]] = i
    # Names are made here, not by Graph, so that one cannot collide with a
    # later explicit name; the same file gets the same names every time
    # (first free prefix_k, made in linear time).  Unusable names are kept:
    # validation reports them on their node.
    defaults = DefaultNames({name for _, name in specs if name is not None})
    for i, (nd, (spec, name)) in enumerate(zip(nodes, specs)):
        params = nd.get("params", {})
        if type(params) is not dict or params:
            params = _check_params(params, spec, f"{prefix}nodes[{i}].params")
            if unit is not None:
                _check_unit_refs(params, spec, unit, f"{prefix}nodes[{i}].params")
        pos = nd.get("pos")
        if pos is not None:
            pos = _check_pos(pos, f"{prefix}nodes[{i}].pos")
        auto = name is None
        if auto:
            name = defaults.add(spec.name_prefix)
        node = g.add_node(spec.type, params, name=name, id=nd["id"], pos=pos)
        node.auto_name = auto
        if "frozen" in nd:
            _need(type(nd["frozen"]) is bool, f"{prefix}nodes[{i}].frozen",
                  f"must be true or false, got {json.dumps(nd['frozen'])[:60]}")
            node.frozen = nd["frozen"]
        if "repeat" in nd:
            repeat = nd["repeat"]
            _need(type(repeat) is int and 1 <= repeat <= MAX_REPEAT,
                  f"{prefix}nodes[{i}].repeat", f"must be a whole number from 1 to "
                  f"{MAX_REPEAT}, got {json.dumps(repeat)[:60]}")
            _need(spec.type in g.units, f"{prefix}nodes[{i}].repeat",
                  f"only a unit instance can repeat; {spec.type} is a catalogue block")
            node.repeat = repeat
            repeats.append((f"{prefix}nodes[{i}].repeat", node))


def _check_unit_refs(params: dict, spec, unit: UnitDef, where: str) -> None:
    for key, value in params.items():
        for ref in param_refs(value):
            if ref not in unit.params:
                known = ", ".join(unit.params) or "none"
                raise ProjectLoadError(f"${ref} is not a parameter of unit {unit.name} "
                                       f"(its parameters: {known})", f"{where}.{key}")
    if spec.role == "input" and "shape" in params:
        raise ProjectLoadError(f"a unit's Input has no shape: shapes come from the edges into "
                               f"each instance of {unit.name}; remove it", f"{where}.shape")


def _build_units(units: Any, g: Graph, repeats: list) -> list:
    """Check the ``units`` section and define its units in ``g``.

    Returns:
        ``(unit, definition)`` pairs, whose edges :func:`_build_edges` adds
        once every unit's nodes (and so its ports) exist.
    """
    _need(isinstance(units, dict), "units", f"must be an object (unit name → definition), "
          f"got {_type_name(units)}")
    built = []
    for name, ud in units.items():
        where = f"units.{name}"
        why = unit_name_problem(name)
        if why:
            raise ProjectLoadError(why, where)
        _need(isinstance(ud, dict), where, f"must be an object, got {_type_name(ud)}")
        _no_unknown_keys(ud, UNIT_KEYS, where, "unit")
        params = ud.get("params", {})
        _need(isinstance(params, dict), f"{where}.params", f"must be an object (parameter → "
              f"default), got {_type_name(params)}")
        for pname in params:
            why = unit_param_problem(pname)
            if why:
                raise ProjectLoadError(why, f"{where}.params")
        unit = UnitDef(name, params, Graph())
        unit.graph.units = g.units  # an instance of one unit may sit inside another
        g.units[name] = unit
        built.append((unit, ud))
    for unit, ud in built:
        where = f"units.{unit.name}"
        _build_nodes(ud.get("nodes", []), unit.graph, f"{where}.", unit, repeats)
        for role, kind in (("input", "Input"), ("output", "Output")):
            _need(bool(unit.graph.ends(role)), f"{where}.nodes",
                  f"unit {unit.name} has no {kind} node; a unit's {kind} nodes are its "
                  f"{'inputs' if role == 'input' else 'outputs'}")
    for unit, _ in built:
        cycle = unit_cycle(g.units, unit.name)
        if cycle:
            raise ProjectLoadError(f"unit {unit.name} uses itself: {' → '.join(cycle)}; a unit "
                                   "cannot contain itself", f"units.{unit.name}")
    return built


def _check_repeats(repeats: list) -> None:
    for where, node in repeats:
        spec = node.spec
        if node.repeat != 1 and (len(spec.inputs) != 1 or len(spec.outputs) != 1):
            raise ProjectLoadError(f"unit {node.type} has {len(spec.inputs)} inputs and "
                                   f"{len(spec.outputs)} outputs; only a unit with one input "
                                   "and one output can repeat", where)


def _end_port(given, where: str, ports, kind: str, end):
    """An edge end's port: the block's first when not given (the common case,
    answered without building messages), else :func:`_port`'s checked one."""
    if given is None and ports:
        return ports[0].name
    return _port(given, where, ports[0].name if ports else None, ports, kind, end)


def _port(name: Any, where: str, default: str | None, ports, what: str, node) -> str:
    if name is None:
        _need(default is not None, where.rsplit(".", 1)[0],
              f"{node.label()} has no {what} port to connect")
        return default
    _need(isinstance(name, str), where, f"must be a string, got {_type_name(name)}")
    names = [p.name for p in ports]
    if name not in names:
        raise ProjectLoadError(f"{node.label()} has no {what} port {name!r} "
                               f"(its {what} ports: {', '.join(names) or 'none'})", where)
    return name


def _edge_end(ed: dict, key: str, where: str, g: Graph):
    nid = ed.get(key)
    node = g.nodes.get(nid) if isinstance(nid, str) else None
    if node is None:
        _need(key in ed, f"{where}.{key}", "is missing")
        _need(isinstance(nid, str), f"{where}.{key}", f"must be a node id (a string), "
              f"got {_type_name(nid)}")
        raise ProjectLoadError(f"there is no node with id {nid!r}", f"{where}.{key}")
    return node


def _build_edges(edges: Any, g: Graph, prefix: str = "") -> None:
    _need(isinstance(edges, list), f"{prefix}edges", f"must be a list, got {_type_name(edges)}")
    for i, ed in enumerate(edges):
        if not isinstance(ed, dict):
            raise ProjectLoadError(f"must be an object, got {_type_name(ed)}", f"{prefix}edges[{i}]")
        for k in ed:
            if k not in EDGE_KEYS:
                _no_unknown_keys(ed, EDGE_KEYS, f"{prefix}edges[{i}]", "edge")
        src = _edge_end(ed, "source", f"{prefix}edges[{i}]", g)
        dst = _edge_end(ed, "target", f"{prefix}edges[{i}]", g)
        sspec, tspec = src.spec, dst.spec
        sp = _end_port(ed.get("source_port"), f"{prefix}edges[{i}].source_port",
                       sspec.outputs, "output", src)
        tp = _end_port(ed.get("target_port"), f"{prefix}edges[{i}].target_port",
                       tspec.inputs, "input", dst)
        g.add_edge_unchecked(Edge(src.id, dst.id, sp, tp))


def project_from_dict(doc: Any, source: str = "<string>") -> Project:
    """Check a parsed document and build its :class:`Project`.

    Raises:
        ProjectLoadError: the document is not a valid project (with location).
    """
    try:
        _need(isinstance(doc, dict), None, "the file is not a NetCanvas project "
              f"(it holds {_type_name(doc)}, not an object)")
        fmt = doc.get("format")
        _need(fmt == FORMAT, "format", f"must be {FORMAT!r}, got {json.dumps(fmt)[:60]}; "
              "this is not a NetCanvas project" if "format" in doc else
              "is missing; this is not a NetCanvas project")
        doc = _migrate(doc)
        name = doc.get("name", "Untitled")
        _need(isinstance(name, str), "name", f"must be a string, got {_type_name(name)}")
        training = doc.get("training", {})
        training = {} if training is None else training
        _need(isinstance(training, dict), "training",
              f"must be an object, got {_type_name(training)}")
        g = Graph()
        repeats: list = []
        built = _build_units(doc.get("units", {}), g, repeats)
        _build_nodes(doc.get("nodes", []), g, repeats=repeats)
        _check_repeats(repeats)
        for unit, ud in built:
            _build_edges(ud.get("edges", []), unit.graph, f"units.{unit.name}.")
        _build_edges(doc.get("edges", []), g)
        for unit, _ in built:  # now watched: an edit inside re-checks its instances
            del g.units[unit.name]
            g.define_unit(unit)
    except ProjectLoadError as exc:
        exc.source = source
        raise
    except GraphEditError as exc:  # a check above missed something Graph refuses
        raise ProjectLoadError(str(exc), None, source) from None
    extra = {k: v for k, v in doc.items() if k not in TOP_KEYS}
    return Project(name=name, graph=g, training=training, extra=extra)


def loads_project(data: str | bytes, source: str = "<string>") -> Project:
    """Parse a project from text or bytes.

    Raises:
        ProjectLoadError: with a message naming the problem and where it is.
    """
    # Loading makes a few objects per value and no reference cycles: the
    # cyclic collector would rescan them all many times (a third of a large
    # file's load), so it waits until the project is built.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            doc = decode(data, MAX_BYTES)
        except ProjectLoadError as exc:
            exc.source = source
            raise
        return project_from_dict(doc, source)
    finally:
        if was_enabled:
            gc.enable()


def load_project(path: str | os.PathLike) -> Project:
    """Open a project file.

    Raises:
        ProjectLoadError: the file cannot be read or is not a valid project.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ProjectLoadError(exc.strerror or str(exc), None, str(path)) from None
    project = loads_project(data, str(path))
    project.path = path
    return project
