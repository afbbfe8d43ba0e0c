"""Copy top-level definitions of the project's modules, with everything they use.

:func:`bundle` takes the public names a generated file calls (``from_csv``
of :mod:`runtime.data.tabular`, …) and returns their source, verbatim, with
every module-level definition they reach: the functions, classes and
constants they name, followed through ``from … import …`` into other modules
of the project, and the imports of other packages they need (``numpy``,
``csv``…) as import lines.  So an exported training script holds the app's own
dataset code under its public names, and renaming a private helper of
:mod:`runtime.data` never breaks export.

The algorithm: parse each module's source (nothing is imported), map every
top-level name to the statements that bind it, and walk the names each
needed statement loads (annotations aside: the generated file has
``from __future__ import annotations``).  Modules come out dependencies
first, each in file order, so module-level code runs after what it uses.
Nothing is guessed: a name that resolves nowhere, a module imported as a
whole, a relative import inside a function, or one name defined by two
modules is a :class:`~codegen.errors.CodegenError` at export, never a
script that fails later.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CodegenError

#: Top-level packages whose modules are copied (any other import is kept as an import).
PROJECT = ("graph", "runtime", "codegen")


@dataclass
class _Module:
    """One parsed module: its top-level bindings and imports."""

    name: str
    text: str
    package: str
    #: name → the top-level statements that bind it, in file order.
    defs: dict[str, list[ast.stmt]] = field(default_factory=dict)
    #: name → (module, attribute) for ``from PROJECT_MODULE import attribute``; a
    #: third item marks what cannot be copied (a renamed name, a whole module).
    project: dict[str, tuple] = field(default_factory=dict)
    #: name → (module, attribute or None, alias) for other imports.
    external: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)


def _internal(message: str) -> CodegenError:
    return CodegenError(f"internal error while copying the dataset code: {message}")


def _parse(name: str, project: tuple[str, ...]) -> _Module:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise _internal(f"no source for module {name}")
    text = Path(spec.origin).read_text(encoding="utf-8")
    is_package = Path(spec.origin).name == "__init__.py"
    mod = _Module(name, text, name if is_package else name.rpartition(".")[0])
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            mod.defs.setdefault(node.name, []).append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):  # ``a = …`` and ``a, b = …``
                    if isinstance(n, ast.Name):
                        mod.defs.setdefault(n.id, []).append(node)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, mod.package)
            for a in node.names:
                bound = a.asname or a.name
                if source.split(".")[0] in project:
                    if a.asname and a.asname != a.name:
                        mod.project[bound] = (source, a.name, a.asname)  # refused if used
                    else:
                        mod.project[bound] = (source, a.name)
                elif source != "__future__":
                    mod.external[bound] = (source, a.name, a.asname)
        elif isinstance(node, ast.Import):
            for a in node.names:
                bound = a.asname or a.name.split(".")[0]
                if a.name.split(".")[0] in project:
                    mod.project[bound] = (a.name, "", "a module")  # refused if used
                else:
                    mod.external[bound] = (a.name, None, a.asname)
    return mod


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[:len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _loads(node: ast.stmt, project: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(names the statement loads, names it binds locally), annotations left out."""
    loads: set[str] = set()
    binds: set[str] = set()

    def visit(n: ast.AST) -> None:
        if isinstance(n, ast.Name):
            (loads if isinstance(n.ctx, ast.Load) else binds).add(n.id)
        elif isinstance(n, ast.arg):
            binds.add(n.arg)
            return  # its annotation is not evaluated
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not node:
            binds.add(n.name)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            binds.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            if isinstance(n, ast.ImportFrom) and (n.level or (n.module or "").split(".")[0]
                                                   in project):
                raise _internal(f"line {n.lineno}: a function imports "
                                f"{'.' * n.level}{n.module or ''} inside itself; import it "
                                "at the top of its module")
            binds.update(a.asname or a.name.split(".")[0] for a in n.names)
            return
        for name, child in ast.iter_fields(n):
            if name in ("annotation", "returns"):
                continue
            for c in child if isinstance(child, list) else [child]:
                if isinstance(c, ast.AST):
                    visit(c)
    visit(node)
    return loads, binds


def _segment(mod: _Module, node: ast.stmt) -> str:
    """The statement's source with its decorators."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return "\n".join(mod.text.splitlines()[first - 1:node.end_lineno])


def bundle(roots: list[tuple[str, str]], provided: tuple[str, ...] = (),
           project: tuple[str, ...] = PROJECT) -> str:
    """The source of ``roots`` (``(module, name)`` pairs) and all they use.

    Args:
        roots: the definitions wanted, by module and public name.
        provided: names the generated file defines itself (not copied).
        project: the top-level packages whose code is copied, not imported.

    Returns:
        Import lines for other packages, then each module's needed statements
        (under a ``# runtime/data/npz.py`` heading), dependencies first.

    Raises:
        CodegenError: the code cannot be copied as it is (see the module docstring).
    """
    parsed: dict[str, _Module] = {}
    needed: dict[str, set[str]] = {}
    uses: dict[str, set[str]] = {}  # module → the project modules its needed code imports
    imports: dict[str, tuple[str, str | None, str | None]] = {}
    owner: dict[str, str] = {}

    def module(name: str) -> _Module:
        if name not in parsed:
            parsed[name] = _parse(name, project)
        return parsed[name]

    def need(mod_name: str, name: str) -> None:
        mod = module(mod_name)
        if name in needed.get(mod_name, set()) or name in provided:
            return
        if name in mod.project:
            source, *attr = mod.project[name]
            if len(attr) > 1 and not attr[0]:
                raise _internal(f"{mod_name} imports the module {source} as a whole; import "
                                "the names it uses from it")
            if len(attr) > 1:
                raise _internal(f"{mod_name} imports {attr[0]} from {source} as {attr[1]}; "
                                "import each name it uses under its own name")
            uses.setdefault(mod_name, set()).add(source)
            need(source, attr[0])
            return
        if name not in mod.defs:
            raise _internal(f"{mod_name} has no definition of {name}")
        if owner.setdefault(name, mod_name) != mod_name:
            raise _internal(f"{name} is defined in both {owner[name]} and {mod_name}")
        needed.setdefault(mod_name, set()).add(name)
        for node in mod.defs[name]:
            loads, binds = _loads(node, project)
            for ref in sorted(loads - binds):
                if ref in mod.defs or ref in mod.project:
                    need(mod_name, ref)
                elif ref in mod.external:
                    imports[ref] = mod.external[ref]
                elif not hasattr(builtins, ref):
                    raise _internal(f"{mod_name}.{name} uses {ref}, defined nowhere")

    for mod_name, name in roots:
        need(mod_name, name)
    order: list[str] = []  # each module after those it imports from, as Python runs them
    started: set[str] = set()

    def place(mod_name: str) -> None:
        if mod_name in started:
            return  # placed, or an import cycle: Python too runs the first module partly
        started.add(mod_name)
        for dep in sorted(uses.get(mod_name, ())):
            place(dep)
        if mod_name in needed:
            order.append(mod_name)

    for mod_name in list(needed):
        place(mod_name)
    lines = _import_lines(imports)
    blocks = []
    for mod_name in order:
        mod = parsed[mod_name]
        keep = needed[mod_name]
        nodes = sorted({id(n): n for name in keep for n in mod.defs[name]}.values(),
                       key=lambda n: n.lineno)
        body = "\n\n\n".join(_segment(mod, n) for n in nodes)
        blocks.append(f"# {mod_name.replace('.', '/')}.py\n{body}")
    return "\n".join(lines) + "\n\n\n" + "\n\n\n".join(blocks)


def _import_lines(imports: dict[str, tuple[str, str | None, str | None]]) -> list[str]:
    """``import x`` / ``from m import a, b`` lines for the other packages used."""
    plain: list[str] = []
    froms: dict[str, list[str]] = {}
    for bound, (source, attr, alias) in sorted(imports.items(), key=lambda kv: kv[1][0]):
        if attr is None:
            line = f"import {source}" + (f" as {alias}" if alias else "")
            if line not in plain:
                plain.append(line)
        else:
            froms.setdefault(source, []).append(attr + (f" as {alias}" if alias else ""))
    return plain + [f"from {m} import {', '.join(sorted(set(names)))}"
                    for m, names in froms.items()]
