"""No import loops between any two modules of the project (issue 16).

``lint-imports`` (the ``acyclic_siblings`` contract in ``pyproject.toml``)
checks loops between sibling packages and modules; it does not see a loop
that runs through a package's ``__init__`` (``runtime.data.loader`` importing
``runtime.data``, which imports the loader back).  This test looks at the
file level: every import of one project module by another (also those inside
functions, which run later but still tie the two files together; imports for
type annotations only are left out, as they never run) is an edge, and no
strongly connected group of modules may have more than one member.
"""

from __future__ import annotations

import grimp
import networkx as nx
import pytest

PACKAGES = ("graph", "codegen", "runtime", "gui")


@pytest.fixture(scope="module")
def loops() -> list[tuple[list[str], list[str]]]:
    """Each loop: its modules, and the imports between them (``a -> b: line``)."""
    g = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)
    net = nx.DiGraph()
    for m in g.modules:
        for imported in g.find_modules_directly_imported_by(m):
            if imported.split(".")[0] in PACKAGES:
                net.add_edge(m, imported)
    found = []
    for group in nx.strongly_connected_components(net):
        if len(group) < 2:
            continue
        members = sorted(group)
        edges = [f"{a} -> {b}: " + "; ".join(
                     f"line {d['line_number']} {d['line_contents']!r}"
                     for d in g.get_import_details(importer=a, imported=b))
                 for a in members for b in members if net.has_edge(a, b)]
        found.append((members, edges))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_itself_through_others(loops, package):
    mine = [(members, edges) for members, edges in loops
            if any(m.split(".")[0] == package for m in members)]
    text = "\n\n".join(", ".join(members) + "\n  " + "\n  ".join(edges)
                       for members, edges in mine)
    assert not mine, f"import loops in {package}/:\n{text}"
