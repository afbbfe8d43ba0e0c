"""The one registry of block types and of the helper code they need.

Family modules call :func:`register` for each spec; the palette, inspector,
validator, code generator and docs read :data:`BLOCKS` through
:func:`get`/:func:`all_specs`.  Nothing else in the code base lists block types.
"""

from __future__ import annotations

from .base import BlockSpec

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
    """Register helper source (a class or function definition) under ``name``."""
    if name in HELPERS and HELPERS[name][0] != source:
        raise ValueError(f"helper {name} registered twice")
    HELPERS[name] = (source.strip("\n") + "\n", requires)


def get(type_name: str) -> BlockSpec | None:
    return BLOCKS.get(type_name)


def all_specs() -> list[BlockSpec]:
    return list(BLOCKS.values())


def by_family() -> dict[str, list[BlockSpec]]:
    out: dict[str, list[BlockSpec]] = {f: [] for f in FAMILIES}
    for spec in BLOCKS.values():
        out[spec.family].append(spec)
    return out
