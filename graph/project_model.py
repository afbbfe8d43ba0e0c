"""The project document and the file format's constants.

:class:`Project` is what a project file holds once read; the constants name
the format, its versions and the keys of each entry
(``docs/project-format.md``).  Reading (:mod:`graph.project_load`) and
writing (:mod:`graph.project_save`) share them; :mod:`graph.project` is the
door the rest of the program uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .graph import Graph

FORMAT = "netcanvas"
VERSION = 2
#: The version a project without units is saved as, so that older programs
#: still open it (version 2 only adds units).
VERSION_WITHOUT_UNITS = 1
#: Most copies a repeated unit instance may have (more is a typo, never a network).
MAX_REPEAT = 10_000
TOP_KEYS = ("format", "version", "name", "units", "nodes", "edges", "training")
NODE_KEYS = ("id", "type", "name", "params", "pos", "repeat", "frozen")
UNIT_KEYS = ("params", "nodes", "edges")
EDGE_KEYS = ("source", "target", "source_port", "target_port")


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

