"""Project files (``docs/project-format.md``, versions 1 and 2): load, check, save.

The door the rest of the program uses for project files; the work is done in
modules named for it:

- :mod:`graph.project_model`: :class:`Project` (the document) and the format's
  constants (versions, the keys of each entry);
- :mod:`graph.project_load`: reading, defensively: decoded by
  :mod:`graph.project_json`, migrated, checked entry by entry, every problem
  one :class:`ProjectLoadError` naming its location; nothing in a file is
  ever evaluated as code;
- :mod:`graph.project_save`: writing a stable, diff-friendly text atomically
  (a project without units as version 1, which older programs still open).
"""

from __future__ import annotations

# The project's public names, in one place: reading and writing live in
# graph.project_load and graph.project_save, the document and the format's
# constants in graph.project_model.
from .project_json import MAX_BYTES, ProjectLoadError
from .project_load import MIGRATIONS, load_project, loads_project, project_from_dict
from .project_model import (EDGE_KEYS, FORMAT, MAX_REPEAT, NODE_KEYS, TOP_KEYS, UNIT_KEYS,
                            VERSION, VERSION_WITHOUT_UNITS, Project, ProjectSaveError)
from .project_save import dumps_project, project_to_dict, save_project

__all__ = ["EDGE_KEYS", "FORMAT", "MAX_BYTES", "MAX_REPEAT", "MIGRATIONS", "NODE_KEYS",
           "TOP_KEYS", "UNIT_KEYS", "VERSION", "VERSION_WITHOUT_UNITS", "Project",
           "ProjectLoadError", "ProjectSaveError", "dumps_project", "load_project",
           "loads_project", "project_from_dict", "project_to_dict", "save_project"]
