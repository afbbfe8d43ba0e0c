"""Copy/paste fragments: the selected nodes and the edges among them, as
project-format JSON on the system clipboard (so another window can paste)."""

from __future__ import annotations

import atexit
import json

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

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


def put_fragment(text: str) -> None:
    """Put a fragment on the system clipboard, as our MIME type and as text."""
    data = QMimeData()
    data.setData(MIME, text.encode("utf-8"))
    data.setText(text)
    QApplication.clipboard().setMimeData(data)
    global _release_registered
    if not _release_registered:
        atexit.register(_release)
        _release_registered = True


_release_registered = False


def _release() -> None:
    """Swap our mime data on the clipboard for plain text while Python is alive.

    The clipboard owns a ``QMimeData`` made in Python and deletes it in a C++
    exit handler, after the interpreter is gone: PySide6 then crashes the
    process on the way out (exit code 139 after every copy).  Plain text set
    through Qt is all C++; it keeps the copied blocks pasteable elsewhere.
    """
    app = QApplication.instance()
    if app is None:
        return
    clipboard = app.clipboard()
    data = clipboard.mimeData()
    if data is not None and data.hasFormat(MIME):
        clipboard.setText(data.text())
