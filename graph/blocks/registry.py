"""The one registry of block types and of the helper code they need.

Family modules call :func:`register` for each spec; the palette, inspector,
validator, code generator and docs read :data:`BLOCKS` through
:func:`get`/:func:`all_specs`.  Nothing else in the code base lists block types.
"""

from __future__ import annotations

import ast

from .base import BlockSpec
from .module_import import MARKER

BLOCKS: dict[str, BlockSpec] = {}
#: Helper source snippets (classes and functions the generated file defines
#: for blocks PyTorch lacks), by name: ``(source, names it depends on)``.
HELPERS: dict[str, tuple[str, tuple[str, ...]]] = {}

#: Display order of families in the palette.
FAMILIES = ("input/output", "fully connected", "convolution", "pooling",
            "activation", "normalization", "regularization", "recurrence",
            "attention", "structure")


def register(*specs: BlockSpec) -> None:
    for spec in specs:
        if spec.type in BLOCKS:
            raise ValueError(f"block type {spec.type} registered twice")
        if spec.family not in FAMILIES:
            raise ValueError(f"{spec.type}: unknown family {spec.family!r}")
        BLOCKS[spec.type] = spec


def register_helper(name: str, source: str, requires: tuple[str, ...] = ()) -> None:
    """Register helper source (a class or function definition) under ``name``.

    A helper class gets the marker attribute ``__netcanvas_block__ = "<name>"``
    after its docstring: the importer recognises NetCanvas's own classes by
    it, never by their name (a user's class may share the name).
    """
    source = _marked(name, source.strip("\n") + "\n")
    if name in HELPERS and HELPERS[name][0] != source:
        raise ValueError(f"helper {name} registered twice")
    HELPERS[name] = (source, requires)


def _marked(name: str, source: str) -> str:
    tree = ast.parse(source)
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    if cls is None:
        return source  # a function: nothing to mark
    first = cls.body[0]
    has_doc = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
               and isinstance(first.value.value, str))
    after = first.end_lineno if has_doc else cls.lineno
    lines = source.splitlines(True)
    indent = " " * first.col_offset
    # black's layout: a blank line between the docstring and the marker
    lines.insert(after, (f"\n{indent}" if has_doc else indent) + f'{MARKER} = "{name}"\n')
    return "".join(lines)


def get(type_name: str) -> BlockSpec | None:
    return BLOCKS.get(type_name)


def all_specs() -> list[BlockSpec]:
    return list(BLOCKS.values())


def by_family() -> dict[str, list[BlockSpec]]:
    out: dict[str, list[BlockSpec]] = {f: [] for f in FAMILIES}
    for spec in BLOCKS.values():
        out[spec.family].append(spec)
    return out
