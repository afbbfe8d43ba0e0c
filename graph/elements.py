"""The two elements of a network: :class:`Node` (a block) and :class:`Edge` (a
connection between ports).

Kept apart from :mod:`graph.graph` so that the unit edits, which build inner
graphs out of nodes and edges, need not import the module that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import blocks


@dataclass(eq=False, slots=True)
class Node:
    """One block on the canvas.

    Attributes:
        id: unique, stable string.
        type: block type name from the catalogue.
        name: label, and exactly the layer's attribute name in the generated
            code (see :mod:`graph.names`).
        params: the parameters the user set (others take the spec's defaults).
        pos: canvas position ``(x, y)`` or None (laid out when opened).
        auto_name: the name was made by the program, not typed by the user.
        repeat: for a unit instance, how many copies in a chain (default 1).
        frozen: the block's (or whole unit's) parameters are not trained.
        units: the units table of the node's project (set by its graph), so
            that a node of a unit type finds its spec.
    """

    id: str
    type: str
    name: str
    params: dict = field(default_factory=dict)
    pos: tuple[float, float] | None = None
    auto_name: bool = False
    repeat: int = 1
    frozen: bool = False
    units: dict | None = field(default=None, repr=False)

    @property
    def spec(self) -> blocks.BlockSpec | None:
        spec = blocks.BLOCKS.get(self.type)
        if spec is None and self.units:
            unit = self.units.get(self.type)
            if unit is not None:
                return unit.spec(self.repeat if type(self.repeat) is int and self.repeat >= 1
                                 else 1)
        return spec

    def label(self) -> str:
        return f'{self.type} "{self.name}"'


@dataclass(eq=False, slots=True)
class Edge:
    """A connection from an output port to an input port (identity matters:
    the same pair of ports may be connected twice, e.g. ``x + x``)."""

    source: str
    target: str
    source_port: str = "out"
    target_port: str = "in"

    def key(self) -> tuple[str, str, str, str]:
        return (self.source, self.source_port, self.target, self.target_port)

    def __repr__(self) -> str:
        return f"Edge({self.source}.{self.source_port} -> {self.target}.{self.target_port})"
