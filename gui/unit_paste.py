"""Units carried by a pasted fragment.

A copied instance brings its unit's definition (and those of the units it
uses) in the fragment's ``units`` section.  Pasted into a project, each unit
the pasted blocks need is:

- taken as it is when the project has no unit of that name;
- shared with the project's own when that one is the same definition
  (same parameters, blocks and edges; positions do not count);
- otherwise defined under a new name (``BasicBlock_2``), and the pasted
  blocks (and pasted units using it) refer to that name: two different
  definitions are never silently merged.
"""

from __future__ import annotations

import json

from graph import blocks
from graph.project import Project, ProjectLoadError, project_from_dict, project_to_dict
from graph.units import UnitDef, unit_name_problem


class PasteRefused(Exception):
    """The fragment cannot be pasted here (the reason is the message)."""


def _needed(fragment: dict) -> list[str]:
    """The fragment's units its nodes use, each after the units it uses."""
    units = fragment.get("units") or {}
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in units:
            return
        for nd in units[name].get("nodes", []):
            visit(nd.get("type"))
        order.append(name)

    for nd in fragment.get("nodes", []):
        visit(nd.get("type"))
    return order


def _canonical(ud: dict) -> str:
    nodes = [{k: v for k, v in nd.items() if k != "pos"} for nd in ud.get("nodes", [])]
    return json.dumps({"params": ud.get("params", {}), "nodes": nodes,
                       "edges": ud.get("edges", [])}, sort_keys=True)


def _retyped(ud: dict, renames: dict[str, str]) -> dict:
    return {**ud, "nodes": [{**nd, "type": renames.get(nd.get("type"), nd.get("type"))}
                            for nd in ud.get("nodes", [])]}


def _free_unit_name(name: str, taken) -> str:
    k = 2
    while f"{name}_{k}" in taken or unit_name_problem(f"{name}_{k}") is not None:
        k += 1
    return f"{name}_{k}"


def plan_units(graph, fragment: dict) -> tuple[list[UnitDef], dict[str, str]]:
    """The units to define for a paste into ``graph``'s project, and the
    renames of the fragment's unit names (see the module docstring).

    Raises:
        PasteRefused: the fragment's units do not load.
    """
    units = fragment.get("units") or {}
    mine = project_to_dict(Project("mine", graph)).get("units", {}) if graph.units else {}
    renames: dict[str, str] = {}
    new: dict[str, dict] = {}
    taken = set(graph.units) | set(units)
    for name in _needed(fragment):
        ud = _retyped(units[name], renames)
        if name in mine and _canonical(mine[name]) == _canonical(ud):
            continue  # the very same definition: shared
        target = name
        if name in graph.units:
            target = _free_unit_name(name, taken)
            taken.add(target)
            renames[name] = target
        new[target] = ud
    if not new:
        return [], renames
    # the new definitions are checked by the project loader (nothing in them
    # is evaluated); the project's own units they use come along for the check
    doc = {"format": "netcanvas", "version": 2, "name": "paste",
           "units": {**{k: v for k, v in mine.items() if k not in new}, **new},
           "nodes": [], "edges": []}
    try:
        loaded = project_from_dict(doc, "<clipboard>")
    except ProjectLoadError as exc:
        raise PasteRefused(f"the copied units do not load: {exc}") from None
    return [loaded.graph.units[name].copy() for name in new], renames


def name_prefix(graph, type_name: str, planned: list[UnitDef]) -> str:
    """The derived-name prefix of a block type or unit (pasted ones too)."""
    spec = graph.spec_of_type(type_name) or blocks.get(type_name)
    if spec is None:
        spec = next((u.spec() for u in planned if u.name == type_name), None)
    return spec.name_prefix if spec is not None else "block"


def uses_unit(graph, planned: list[UnitDef], type_name: str, unit_name: str) -> bool:
    """Whether a block of ``type_name`` is ``unit_name`` or has it inside."""
    table = {**graph.units, **{u.name: u for u in planned}}
    todo, seen = [type_name], set()
    while todo:
        t = todo.pop()
        if t == unit_name:
            return True
        if t in seen or t not in table:
            continue
        seen.add(t)
        todo.extend(table[t].uses())
    return False
