"""Project files (``docs/project-format.md``, version 1): load, check, save.

Loading is defensive: the bytes are size-checked, decoded as UTF-8, parsed by
:mod:`json` (duplicate keys, ``NaN``/``Infinity`` and excessive nesting
refused), migrated to the current version, and checked entry by entry; every
problem becomes one :class:`ProjectLoadError` naming its location
(``nodes[3].params``).  Nothing in a file is ever evaluated as code.
Parameter *values* are not judged here: validation reports a bad value on its
node, where the user can fix it.  Cycles and extra edges into a single port
are loaded for the same reason.

Saving writes a stable, diff-friendly text (keys in the documented order, one
node or edge per line) through :func:`graph.fileio.atomic_write`.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import blocks
from .fileio import atomic_write
from .graph import Edge, Graph
from .names import default_name
from .problems import GraphEditError

FORMAT = "netcanvas"
VERSION = 1
#: Largest project file we open; real projects are a few hundred kB.
MAX_BYTES = 50 * 1024 * 1024
#: Deepest nesting of lists/objects accepted (real files need about 6).
MAX_DEPTH = 64
TOP_KEYS = ("format", "version", "name", "nodes", "edges", "training")
NODE_KEYS = ("id", "type", "name", "params", "pos")
EDGE_KEYS = ("source", "target", "source_port", "target_port")

#: Migrations: ``MIGRATIONS[k]`` turns a version-``k`` document into version ``k+1``.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


class ProjectLoadError(Exception):
    """A project file cannot be opened; the message says what and where.

    Attributes:
        message: the problem, for a person.
        location: where in the document (``nodes[3].params``), or None.
        source: the file name (or ``"<string>"``).
    """

    def __init__(self, message: str, location: str | None = None, source: str | None = None):
        self.message = message
        self.location = location
        self.source = source
        super().__init__(f"{location}: {message}" if location else message)


class ProjectSaveError(ValueError):
    """A project cannot be written as JSON (e.g. a NaN parameter value)."""


@dataclass
class Project:
    """A document: the graph, the training setup, and keys we do not know."""

    name: str
    graph: Graph
    training: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def new(cls, name: str = "Untitled") -> "Project":
        return cls(name=name, graph=Graph(), training={}, extra={})


# ---------------------------------------------------------------------- parse
def _dupe_check(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise ProjectLoadError(f"the key {k!r} appears twice in one object")
        out[k] = v
    return out


def _refuse_constant(name: str) -> Any:
    raise ProjectLoadError(f"{name} is not a valid JSON number; write a finite number")


def _parse_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ProjectLoadError(f"the number {text[:40]} is too large")
    return v


def _too_deep(doc: Any) -> bool:
    stack = [(doc, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(v, dict):
            stack.extend((x, depth + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, depth + 1) for x in v)
    return False


def _decode(data: bytes | str) -> Any:
    if len(data) > MAX_BYTES:
        raise ProjectLoadError(f"the file is larger than {MAX_BYTES // 2**20} MB; "
                               "it is not a NetCanvas project")
    if isinstance(data, str):
        text = data
    else:
        if data[:1] == b"\x80":
            raise ProjectLoadError("the file is a Python pickle, not a NetCanvas project "
                                   "(pickles are never opened: loading one can run code)")
        if data[:4] == b"PK\x03\x04":
            raise ProjectLoadError("the file is a zip archive (a PyTorch checkpoint?), "
                                   "not a NetCanvas project")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ProjectLoadError(f"the file is not UTF-8 text (byte {exc.start}); "
                                   "it is not a NetCanvas project") from None
    if not text.strip():
        raise ProjectLoadError("the file is empty")
    try:
        doc = json.loads(text, object_pairs_hook=_dupe_check,
                         parse_constant=_refuse_constant, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        where = "ends too early" if truncated else \
            f"is not valid JSON at line {exc.lineno}, column {exc.colno}"
        raise ProjectLoadError(f"the file {where} ({exc.msg})") from None
    except RecursionError:
        raise ProjectLoadError("the file nests lists or objects too deeply") from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise ProjectLoadError(f"the file holds an unreadable value ({exc})") from None
    if _too_deep(doc):
        raise ProjectLoadError(f"the file nests lists or objects deeper than {MAX_DEPTH} levels")
    return doc


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


def _build_nodes(nodes: Any, g: Graph) -> None:
    _need(isinstance(nodes, list), "nodes", f"must be a list, got {_type_name(nodes)}")
    specs = []
    for i, nd in enumerate(nodes):
        where = f"nodes[{i}]"
        _need(isinstance(nd, dict), where, f"must be an object, got {_type_name(nd)}")
        _no_unknown_keys(nd, NODE_KEYS, where, "node")
        nid = nd.get("id")
        _need(isinstance(nid, str) and nid != "", f"{where}.id",
              "is missing" if "id" not in nd else f"must be a non-empty string, got {json.dumps(nid)[:60]}")
        t = nd.get("type")
        _need(isinstance(t, str), f"{where}.type",
              "is missing" if "type" not in nd else f"must be a string, got {_type_name(t)}")
        spec = blocks.get(t)
        if spec is None:
            close = difflib.get_close_matches(t, list(blocks.BLOCKS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ProjectLoadError(f"unknown block type {t!r}{hint}", f"{where}.type")
        name = nd.get("name")
        _need(name is None or isinstance(name, str) and name.strip() != "", f"{where}.name",
              f"must be a non-empty string, got {json.dumps(name)[:60]}")
        specs.append((where, nd, spec, name))
    seen: dict[str, int] = {}
    for i, (where, nd, _spec, _name) in enumerate(specs):
        if nd["id"] in seen:
            raise ProjectLoadError(f"duplicate node id {nd['id']!r} (also used by "
                                   f"nodes[{seen[nd['id']]}])", f"{where}.id")
        seen[nd["id"]] = i
    taken = {name for *_, name in specs if name is not None}
    for where, nd, spec, name in specs:
        params = _check_params(nd.get("params", {}), spec, f"{where}.params")
        pos = _check_pos(nd.get("pos"), f"{where}.pos")
        auto = name is None
        if auto:  # made here, not by Graph, so it cannot collide with a later explicit name
            name = default_name(spec.name_prefix, taken)
            taken.add(name)
        node = g.add_node(spec.type, params, name=name, id=nd["id"], pos=pos)
        node.auto_name = auto


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


def _build_edges(edges: Any, g: Graph) -> None:
    _need(isinstance(edges, list), "edges", f"must be a list, got {_type_name(edges)}")
    for i, ed in enumerate(edges):
        where = f"edges[{i}]"
        _need(isinstance(ed, dict), where, f"must be an object, got {_type_name(ed)}")
        _no_unknown_keys(ed, EDGE_KEYS, where, "edge")
        ends = []
        for key in ("source", "target"):
            nid = ed.get(key)
            _need(key in ed, f"{where}.{key}", "is missing")
            _need(isinstance(nid, str), f"{where}.{key}", f"must be a node id (a string), "
                  f"got {_type_name(nid)}")
            _need(nid in g.nodes, f"{where}.{key}", f"there is no node with id {nid!r}")
            ends.append(g.nodes[nid])
        src, dst = ends
        sspec, tspec = src.spec, dst.spec
        sp = _port(ed.get("source_port"), f"{where}.source_port",
                   sspec.outputs[0].name if sspec.outputs else None, sspec.outputs, "output", src)
        tp = _port(ed.get("target_port"), f"{where}.target_port",
                   tspec.inputs[0].name if tspec.inputs else None, tspec.inputs, "input", dst)
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
        _build_nodes(doc.get("nodes", []), g)
        _build_edges(doc.get("edges", []), g)
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
    try:
        doc = _decode(data)
    except ProjectLoadError as exc:
        exc.source = source
        raise
    return project_from_dict(doc, source)


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


# ---------------------------------------------------------------------- save
def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else v


def project_to_dict(project: Project) -> dict:
    """The JSON document of a project, keys in the documented order."""
    g = project.graph
    nodes = []
    for n in g.nodes.values():
        d: dict[str, Any] = {"id": n.id, "type": n.type}
        if not n.auto_name:
            d["name"] = n.name
        d["params"] = dict(n.params)
        if n.pos is not None:
            d["pos"] = [_num(v) for v in n.pos]
        nodes.append(d)
    edges = []
    for e in g.edges:
        d = {"source": e.source, "target": e.target}
        sspec, tspec = g.nodes[e.source].spec, g.nodes[e.target].spec
        if not (sspec and sspec.outputs and sspec.outputs[0].name == e.source_port):
            d["source_port"] = e.source_port
        if not (tspec and tspec.inputs and tspec.inputs[0].name == e.target_port):
            d["target_port"] = e.target_port
        edges.append(d)
    doc = {"format": FORMAT, "version": VERSION, "name": project.name,
           "nodes": nodes, "edges": edges, "training": project.training}
    for k, v in project.extra.items():
        if k not in doc:
            doc[k] = v
    return doc


def _dumps(doc: dict, ascii_only: bool) -> str:
    parts = []
    for key, value in doc.items():
        if key in ("nodes", "edges") and value:
            body = ",\n".join("    " + json.dumps(item, ensure_ascii=ascii_only, allow_nan=False)
                              for item in value)
            text = f"[\n{body}\n  ]"
        else:
            text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=False, indent=2)
            text = text.replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key, ensure_ascii=ascii_only)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def dumps_project(project: Project) -> str:
    """Stable, diff-friendly JSON text: indent 2, one node or edge per line.

    Raises:
        ProjectSaveError: a value cannot be written as JSON (NaN, infinity, ...).
    """
    doc = project_to_dict(project)
    try:
        text = _dumps(doc, ascii_only=False)
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (from a "\ud800" escape): keep it escaped
        text = _dumps(doc, ascii_only=True)
    except (ValueError, TypeError) as exc:
        raise ProjectSaveError(f"the project cannot be written as JSON: {exc}; "
                               "fix that value first") from None
    return text


def save_project(project: Project, path: str | os.PathLike | None = None) -> Path:
    """Write a project atomically, keeping the previous file as ``FILE.bak``.

    Args:
        path: where to write (default: ``project.path``); becomes ``project.path``.

    Returns:
        The path written.

    Raises:
        ProjectSaveError: a value cannot be written as JSON.
        graph.fileio.FileSaveError: the disk refused; the old file is intact.
    """
    path = Path(path if path is not None else project.path)
    atomic_write(path, dumps_project(project).encode("utf-8"))
    project.path = path
    return path
