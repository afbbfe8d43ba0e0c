"""The block catalogue: one declarative spec per block, one registry.

Importing this package registers every family module's specs.
"""

from . import (  # noqa: F401  (importing registers the specs)
    io, dense, conv, pooling, activation, norm, regularization,
    recurrent, attention, transformer, structure,
)
from .base import BlockSpec, Ctx, Emit, P, Param, Port, TT, FLOAT, INT
from .registry import BLOCKS, FAMILIES, HELPERS, all_specs, by_family, get

__all__ = ["BlockSpec", "Ctx", "Emit", "P", "Param", "Port", "TT", "FLOAT", "INT",
           "BLOCKS", "FAMILIES", "HELPERS", "all_specs", "by_family", "get"]
