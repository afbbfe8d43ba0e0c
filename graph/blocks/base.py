"""The declarative block spec: ports, parameters, shape rule, counts, code.

Every block type is one :class:`BlockSpec`, written in ``graph/blocks/<family>.py``
and registered in :mod:`graph.blocks.registry`.  A spec is data plus a few
small pure functions that all take one :class:`Ctx`:

``rule(ctx)``
    The shape rule.  Reads ``ctx.p`` (resolved parameters) and the input
    tensor types (``ctx.x()``, ``ctx.xs(port)``), records inferred PyTorch
    arguments with ``ctx.infer(name, value)``, and returns the output
    :class:`TT` (or a ``{port: TT}`` dict).  A problem raises
    :class:`~graph.problems.ShapeError` through ``ctx.fail``.
``count(ctx)``
    Number of trainable parameters (as ``sum(p.numel() for p in m.parameters())``).
``flops(ctx)``
    Approximate floating-point operations per sample (a multiply-add is 2).
``activations(ctx)``
    Elements per sample kept for the backward pass (memory estimates).
``emit(ctx)``
    How the block becomes PyTorch source: an :class:`Emit`.

Shapes are :class:`TT` (shape tuple with the batch ``"N"`` first, dtype
``"float32"`` or ``"int64"``).  Dimension indices in parameters count the
batch as 0, as PyTorch does.

A spec's parameters are :class:`~graph.blocks.params.Param` (kinds and
checks), its weights' initialisation parameters come from
:mod:`graph.blocks.initialisation`, and its code from the helpers of
:mod:`graph.blocks.emit`; this module re-exports them, so a block family
imports everything it writes a spec with from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from .. import dims
from ..problems import Code, ParamError, ShapeError
from .emit import Emit, Src, call, lit
from .initialisation import (CONV_INITS, INIT_SCALE_MEANS, INITS, init_params, init_problem,
                             init_scale_problem)
from .params import KINDS, MAX_INT, Param
from .rank_fixes import rank_fix, rank_hint

__all__ = ["FLOAT", "INT", "TT", "Port", "P", "Ctx", "BlockSpec",
           # the spec vocabulary defined beside this module
           "KINDS", "MAX_INT", "Param", "ParamError", "INITS", "CONV_INITS", "INIT_SCALE_MEANS",
           "init_params", "init_scale_problem", "init_problem", "Emit", "Src", "call", "lit"]

FLOAT = "float32"
INT = "int64"


class TT(NamedTuple):
    """A tensor type: the full shape (batch first, written ``"N"``) and dtype."""

    shape: tuple
    dtype: str = FLOAT

    @property
    def rank(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return dims.format_shape(self.shape)


# --------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Port:
    """A named input or output of a block.

    Args:
        name: port name (``"in"``, ``"query"``, ...).
        variadic: accepts several edges (operands in edge order).
        optional: may be left unconnected.
        dtype: what the port accepts: ``"float"``, ``"int"`` or ``"any"``.
    """

    name: str
    variadic: bool = False
    optional: bool = False
    dtype: str = "float"
    doc: str = ""


# --------------------------------------------------------------------------
# The context a spec's functions receive
# --------------------------------------------------------------------------

class P(dict):
    """Resolved parameters: every parameter present, defaults filled in."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


_NOTHING: Mapping[str, Any] = MappingProxyType({})


class Ctx:
    """What a spec function sees: parameters, inputs, inferred values, outputs."""

    __slots__ = ("spec", "p", "ins", "inferred", "outs", "label")

    def __init__(self, spec: "BlockSpec", p: P, ins: Mapping[str, list[TT]],
                 label: str = ""):
        self.spec = spec
        self.p = p
        self.ins = ins
        # shared empty stand-ins until set: analysis makes a Ctx per node
        self.inferred: Mapping[str, Any] = _NOTHING
        self.outs: Mapping[str, TT] = _NOTHING
        self.label = label

    # inputs ---------------------------------------------------------------
    def x(self, port: str = "in") -> TT | None:
        """The single tensor on ``port`` (None for an unconnected optional port)."""
        got = self.ins.get(port)
        return got[0] if got else None

    def xs(self, port: str = "in") -> list[TT]:
        return list(self.ins.get(port, ()))

    @property
    def out(self) -> TT:
        return next(iter(self.outs.values()))

    # recording and failing --------------------------------------------------
    def infer(self, name: str, value: Any) -> Any:
        if self.inferred is _NOTHING:
            self.inferred = {}
        self.inferred[name] = value
        return value

    def fail(self, code: str, message: str, port: str | None = None,
             fix: dict | None = None):
        raise ShapeError(code, message, port=port, fix=fix)

    def need_rank(self, t: TT, ranks: Sequence[int], layout: str, port: str = "in",
                  fix: dict | None = None, adds: str = "channels") -> None:
        """Fail with a clear message unless ``t`` has one of ``ranks``.

        Args:
            adds: how a lower-rank input is best reshaped (the quick fix):
                ``"channels"`` (a channel dimension in front, N×64 → N×1×8×8),
                ``"steps"`` (each feature a time step, N×F → N×F×1) or
                ``"tokens"`` (one token of F features, N×F → N×1×F).
        """
        if t.rank in ranks:
            return
        want = " or ".join(str(r) for r in ranks)
        if fix is None:
            fix = rank_fix(t, min(ranks), adds)
        hint = rank_hint(t, min(ranks), fix)
        self.fail(Code.RANK, f"expects input {layout} (rank {want}) but receives "
                  f"{t} (rank {t.rank}){hint}", port=port, fix=fix)

    def need_concrete(self, d: dims.Dim, what: str, port: str = "in") -> int:
        if not isinstance(d, int):
            self.fail(Code.SYMBOLIC, f"needs a fixed {what} but it is the variable "
                      f"size {d}; give the Input a fixed size or pool over it first (e.g. Mean)",
                      port=port)
        return d

    # estimates -------------------------------------------------------------
    @staticmethod
    def numel(t: TT) -> int:
        return dims.numel(t.shape)

    @staticmethod
    def size(d: dims.Dim) -> int:
        return dims.nominal(d)




# --------------------------------------------------------------------------
# The spec
# --------------------------------------------------------------------------

def _no_params(ctx: Ctx) -> int:
    return 0


def _out_elements(ctx: Ctx) -> int:
    return sum(dims.numel(t.shape) for t in ctx.outs.values())


def _call_module(ctx: Ctx) -> Emit:
    raise NotImplementedError(f"{ctx.spec.type} has no code emission")


@dataclass(frozen=True, eq=False)
class BlockSpec:
    """Everything about one block type, in one place."""

    type: str
    family: str
    doc: str
    rule: Callable[[Ctx], TT | dict]
    emit: Callable[[Ctx], Emit] = _call_module
    formula: str = ""
    inputs: tuple[Port, ...] = (Port("in"),)
    outputs: tuple[Port, ...] = (Port("out"),)
    params: tuple[Param, ...] = ()
    inferred: tuple[str, ...] = ()
    count: Callable[[Ctx], int] = _no_params
    flops: Callable[[Ctx], int] = _out_elements
    activations: Callable[[Ctx], int] = _out_elements
    #: "layer", or "input"/"output" for the graph's ends.
    role: str = "layer"
    #: has weights: gets the ``init``/``init_scale`` parameters.
    weights: bool = False
    #: sigmoid-like (counts towards the vanishing-gradient warning).
    saturating: bool = False
    #: zero, with zero gradient, for every input <= 0 (ReLU-like): a unit that
    #: is never positive has stopped learning, so training counts those units
    #: during validation (the "dead units" diagnosis).
    dead_units: bool = False
    #: its output is a probability distribution (sums to 1 along a dimension):
    #: right before an output trained with a loss that applies log-softmax
    #: itself (CrossEntropyLoss), it squashes the gradients, and validation warns.
    outputs_probabilities: bool = False
    details: str = ""
    #: the functional forms and tensor methods that compute this block, as the
    #: importer reads them (``codegen/import_functional.py``): each
    #: ``"F.relu(input, inplace)"``, ``"torch.relu(input)"`` or ``".relu()"``
    #: (a method of the input tensor), with its positional argument names;
    #: an argument named like a parameter sets it, ``name!`` must be given,
    #: ``name=value`` is PyTorch's default where it differs from the block's.
    functional: tuple[str, ...] = ()
    #: import: what a ``forward`` computes only while training (under ``if
    #: self.training:``) that this block computes, being the identity in
    #: evaluation: a Python expression of ``input``, ``torch`` functions and
    #: the block's parameters (``"input + torch.randn_like(input) * std"``);
    #: ``+`` and ``*`` match their operands in either order
    #: (``codegen/import_training.py``).
    training_forms: tuple[str, ...] = ()
    #: prefix of default node names (``conv2d`` → ``conv2d_1``).
    name_prefix: str = ""
    #: the parameters a node on the canvas always shows; None: the first two
    #: that are neither advanced nor true/false.
    key_params: tuple[str, ...] | None = None
    #: other words people search for this block by (``dense``, ``fc`` for
    #: Linear): the palette and Add Block Here match them, and the doc.
    keywords: tuple[str, ...] = ()
    #: import: ``from_module(module, call_kwargs) -> params`` reads a module
    #: of this block's class back into raw parameter values, raising
    #: :class:`graph.blocks.module_import.ImportRefused` for a constructor
    #: argument it cannot represent; None: the generic reader
    #: (:func:`graph.blocks.module_import.read_module`: each constructor
    #: argument is a parameter of the same name or keeps its default).
    from_module: Callable[[Any, Mapping[str, Any]], dict] | None = None
    #: import: the module's ``forward`` arguments as input ports, when a call
    #: passes more than one tensor by position: one ``(argument name, port)``
    #: per argument, the port a tuple of ports for a tuple argument (an LSTM's
    #: ``("hx", ("h0", "c0"))``); None: positional arguments fill the input
    #: ports in order.
    module_args: tuple | None = None
    #: import: the structure of what the module returns, output port names in
    #: place of tensors (``("out", ("h_n", "c_n"))``; None for a value no port
    #: gives, such as attention weights); None: one tensor, the first output.
    module_result: tuple | None = None
    #: ports whose PyTorch tensor has the batch in dim 1 while the canvas has
    #: it first (a recurrent layer's states): the code transposes them at the
    #: call, and the importer keeps track of the two layouts.
    batch_second: tuple[str, ...] = ()
    param_index: Mapping[str, Param] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        params = self.params
        if self.weights and not any(p.name == "init" for p in params):
            params = params + init_params(conv="Conv" in self.type)
            object.__setattr__(self, "params", params)
        object.__setattr__(self, "param_index", {p.name: p for p in params})
        if not self.name_prefix:
            object.__setattr__(self, "name_prefix", _snake(self.type))
        if self.key_params is None:
            key = tuple(p.name for p in params if not p.advanced and p.kind != "bool")[:2]
            object.__setattr__(self, "key_params", key)

    def input_port(self, name: str | None) -> Port | None:
        if name is None:
            return self.inputs[0] if self.inputs else None
        return next((p for p in self.inputs if p.name == name), None)

    def output_port(self, name: str | None) -> Port | None:
        if name is None:
            return self.outputs[0] if self.outputs else None
        return next((p for p in self.outputs if p.name == name), None)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params if not p.required}


def _snake(name: str) -> str:
    """``MaxPool2d`` → ``max_pool2d``, ``ReLU`` → ``relu``, ``GELU`` → ``gelu``."""
    out = []
    for i, ch in enumerate(name):
        if (ch.isupper() and 0 < i < len(name) - 1 and name[i - 1].islower()
                and name[i + 1].islower()):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
