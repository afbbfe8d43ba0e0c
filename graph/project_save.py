"""Writing project files (``docs/project-format.md``).

Saving writes a stable, diff-friendly text (keys in the documented order, one
node or edge per line) through :func:`graph.fileio.atomic_write`; a project
without units is written as version 1, which older programs still open.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .fileio import atomic_write
from .graph import Graph
from .project_model import FORMAT, VERSION, VERSION_WITHOUT_UNITS, Project, ProjectSaveError

# ---------------------------------------------------------------------- save
def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else v


def _graph_lists(g: Graph) -> tuple[list, list]:
    """The ``nodes`` and ``edges`` lists of a graph (the project's or a unit's)."""
    nodes = []
    for n in g.nodes.values():
        # every name, derived ones too: a name is the layer's attribute and
        # checkpoint key, and must not be derived afresh on the next load
        d: dict[str, Any] = {"id": n.id, "type": n.type, "name": n.name}
        d["params"] = dict(n.params)
        if n.pos is not None:
            d["pos"] = [_num(v) for v in n.pos]
        if n.repeat != 1:
            d["repeat"] = n.repeat
        if n.frozen:
            d["frozen"] = True
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
    return nodes, edges


def project_to_dict(project: Project) -> dict:
    """The JSON document of a project, keys in the documented order.

    A project without units is written as version 1, which older programs
    still open; one with units as version 2.
    """
    g = project.graph
    nodes, edges = _graph_lists(g)
    doc: dict[str, Any] = {"format": FORMAT,
                           "version": VERSION if g.units else VERSION_WITHOUT_UNITS,
                           "name": project.name}
    if g.units:
        units = {}
        for name, unit in g.units.items():
            u_nodes, u_edges = _graph_lists(unit.graph)
            units[name] = {"params": dict(unit.params), "nodes": u_nodes, "edges": u_edges}
        doc["units"] = units
    doc.update({"nodes": nodes, "edges": edges, "training": project.training})
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
