"""Copy/paste fragments: the selected nodes and the edges among them, as
project-format JSON on the system clipboard (so another window can paste)."""

from __future__ import annotations

import json

from graph.graph import Graph
from graph.project import Project, ProjectLoadError, loads_project, project_to_dict

MIME = "application/x-netcanvas-fragment"


def fragment_text(graph: Graph, ids) -> str:
    """Project-format JSON of the nodes ``ids`` and the edges among them."""
    keep = set(ids)
    sub = graph.copy()
    for nid in [n for n in sub.nodes if n not in keep]:
        sub.remove_node(nid)
    return json.dumps(project_to_dict(Project("clipboard", sub)))


def parse_fragment(text: str) -> dict | None:
    """The ``{"nodes", "edges"}`` of clipboard text, or None if it is not a
    fragment (checked by the project loader: nothing in it is evaluated)."""
    try:
        project = loads_project(text, "<clipboard>")
    except ProjectLoadError:
        return None
    return project_to_dict(project)
