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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from .. import dims
from ..problems import Code, ParamError, ShapeError
from .rank_fixes import rank_fix, rank_hint

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
# Ports and parameters
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


#: Parameter kinds and the values they accept.
KINDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "choice": "one of the listed choices",
    "size": "a whole number or a list of them (one per spatial dimension)",
    "ints": "a list of whole numbers",
    "shape": "a list of positive whole numbers or names such as \"T\"",
}


#: The largest whole number any parameter may take: more is a typo, never a
#: layer (and torch loops over counts such as ``num_layers``).
MAX_INT = 2**31 - 1


@dataclass(frozen=True)
class Param:
    """One parameter of a block.

    Args:
        name: PyTorch's parameter name (or ours, see product.md §2).
        kind: a key of :data:`KINDS`.
        default: the value when the project leaves it out.
        doc: one line for the inspector.
        min, max: inclusive bounds (``min_open``/``max_open`` make them strict).
        choices: the allowed values of a ``choice`` (or the extra strings a
            ``size`` accepts, such as ``"same"``).
        length: for ``size``, how many entries a list must have.
        nullable: ``None`` (JSON null) is allowed.
        required: there is no default; the user must give a value.
    """

    name: str
    kind: str
    default: Any
    doc: str = ""
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    choices: tuple = ()
    length: int | None = None
    nullable: bool = False
    required: bool = False
    advanced: bool = False

    def is_default(self, value: Any) -> bool:
        """Whether ``value`` means the default (``[1, 1]`` for a size default of 1)."""
        return _same(self.default, value)

    def range_text(self) -> str:
        lo = "" if self.min is None else f"{'>' if self.min_open else '>='} {self.min:g}"
        hi = "" if self.max is None else f"{'<' if self.max_open else '<='} {self.max:g}"
        return " and ".join(x for x in (lo, hi) if x)

    def _bounded(self, v) -> None:
        if type(v) is int and abs(v) > MAX_INT and self.kind != "float":
            # no layer has 2³¹ of anything; torch would loop over it (train hangs)
            raise ParamError(f"{self.name} must be at most {MAX_INT:,} (2³¹ − 1), got {v:,}")
        if self.min is not None and (v < self.min or (self.min_open and v == self.min)):
            raise ParamError(f"{self.name} must be {self.range_text()}, got {v!r}")
        if self.max is not None and (v > self.max or (self.max_open and v == self.max)):
            raise ParamError(f"{self.name} must be {self.range_text()}, got {v!r}")

    def check(self, value: Any) -> Any:
        """Return the normalised value, or raise :class:`ParamError` saying why."""
        if value is None:
            if self.nullable:
                return None
            raise ParamError(f"{self.name} needs a value ({KINDS[self.kind]})")
        k = self.kind
        if k == "int":
            if type(value) is not int:
                raise ParamError(f"{self.name} must be a whole number, got {value!r}")
            self._bounded(value)
            return value
        if k == "float":
            if type(value) not in (int, float) or value != value or value in (float("inf"), float("-inf")):
                raise ParamError(f"{self.name} must be a finite number, got {value!r}")
            self._bounded(value)
            return float(value)
        if k == "bool":
            if type(value) is not bool:
                raise ParamError(f"{self.name} must be true or false, got {value!r}")
            return value
        if k == "choice":
            if not isinstance(value, (str, int, float)) or isinstance(value, bool) or value not in self.choices:
                options = ", ".join(repr(c) for c in self.choices)
                raise ParamError(f"{self.name} must be one of {options}, got {value!r}")
            return value
        if k == "size":
            if isinstance(value, str):
                if value in self.choices:
                    return value
                raise ParamError(f"{self.name} must be a whole number{', ' + ' or '.join(map(repr, self.choices)) if self.choices else ''}, got {value!r}")
            if type(value) is int:
                self._bounded(value)
                return value
            if isinstance(value, (list, tuple)):
                if self.length is not None and len(value) != self.length:
                    raise ParamError(f"{self.name} must have {self.length} entries (one per spatial dimension), got {len(value)}")
                if not value or any(type(v) is not int for v in value):
                    raise ParamError(f"{self.name} must be a list of whole numbers, got {value!r}")
                for v in value:
                    self._bounded(v)
                return tuple(value)
            raise ParamError(f"{self.name} must be a whole number or a list of them, got {value!r}")
        if k == "ints":
            if not isinstance(value, (list, tuple)) or any(type(v) is not int for v in value):
                raise ParamError(f"{self.name} must be a list of whole numbers, got {value!r}")
            if self.length is not None and len(value) != self.length:
                raise ParamError(f"{self.name} must have {self.length} entries, got {len(value)}")
            for v in value:
                self._bounded(v)
            return tuple(value)
        if k == "shape":
            if not isinstance(value, (list, tuple)) or not value:
                raise ParamError(f"{self.name} must be a non-empty list of sizes, e.g. [1, 28, 28] or [\"T\"], got {value!r}")
            out = []
            for v in value:
                if type(v) is int:
                    if v <= 0:
                        raise ParamError(f"{self.name}: every size must be positive, got {v}")
                    if v > MAX_INT:
                        raise ParamError(f"{self.name}: every size must be at most "
                                         f"{MAX_INT:,} (2³¹ − 1), got {v:,}")
                elif isinstance(v, str):
                    if not dims.is_valid_name(v):
                        raise ParamError(f"{self.name}: {v!r} is not a valid size name (use a name such as \"T\")")
                else:
                    raise ParamError(f"{self.name}: sizes must be whole numbers or names, got {v!r}")
                out.append(v)
            return tuple(out)
        raise AssertionError(f"unknown parameter kind {k}")


INITS = ("default", "xavier_uniform", "xavier_normal", "kaiming_uniform",
         "kaiming_normal", "orthogonal", "normal", "uniform", "zeros", "constant")
CONV_INITS = INITS[:6] + ("delta_orthogonal",) + INITS[6:]


def init_params(conv: bool = False) -> tuple[Param, ...]:
    """The weight-initialisation parameters every block with weights has."""
    return (
        Param("init", "choice", "default",
              "weight initialisation (default: PyTorch's own)",
              choices=CONV_INITS if conv else INITS, advanced=True),
        Param("init_scale", "float", None,
              "gain (xavier, orthogonal), std (normal), bound (uniform) or value "
              "(constant); empty for the usual value",
              nullable=True, advanced=True),
    )


#: what ``init_scale`` means for each method that uses it
INIT_SCALE_MEANS = {"xavier_uniform": "gain", "xavier_normal": "gain", "orthogonal": "gain",
                    "delta_orthogonal": "gain", "normal": "standard deviation",
                    "uniform": "bound", "constant": "value"}


def init_scale_problem(p: Mapping[str, Any]) -> str | None:
    """Why a block's ``init_scale`` does not fit its ``init`` method, or None.

    Gains, standard deviations and bounds must be positive (PyTorch refuses a
    negative standard deviation and an empty range); a constant may be anything.
    """
    method, scale = p.get("init"), p.get("init_scale")
    if scale is None or method in (None, "default", "constant"):
        return None
    means = INIT_SCALE_MEANS.get(method)
    if means is None:
        return (f"init_scale is not used by {method} initialisation; clear it "
                "(or choose xavier, orthogonal, normal, uniform or constant)")
    if scale <= 0:
        return f"init_scale is the {means} of {method} initialisation and must be positive, got {scale:g}"
    return None


def init_problem(p: Mapping[str, Any]) -> str | None:
    """Why a block's initialisation cannot work, or None.

    On top of :func:`init_scale_problem`: weight normalisation computes
    ``g·v/‖v‖`` from the initial weight, so an all-zero start (``zeros``, or
    ``constant`` with value 0, its default) divides by zero and every output
    is NaN.
    """
    if p.get("weight_norm") and (p.get("init") == "zeros" or p.get("init") == "constant"
                                 and not p.get("init_scale")):
        how = "zeros" if p.get("init") == "zeros" else "constant 0"
        return (f"weight_norm divides the weight by its norm, and init {how} makes that norm "
                "0: every output would be NaN; choose another init (or a non-zero "
                "init_scale for constant), or turn weight_norm off")
    return init_scale_problem(p)


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
# Code emission
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Emit:
    """How one node becomes PyTorch source.

    Args:
        init: constructor expression assigned to ``self.<name>`` in
            ``__init__`` (e.g. ``"nn.Conv2d(1, 16, kernel_size=3)"``), or None
            for blocks that are plain operations in ``forward``.
        forward: None for the usual ``y = self.<name>(x)``; else a template
            formatted with ``out`` (the result variable), ``self`` (the layer
            attribute, e.g. ``self.conv1``) and one entry per input port (the
            variable name, or for a variadic port a list of names — use a
            callable for those).  A callable receives that mapping and
            returns the line(s).
        helpers: names of helper classes/functions (see
            :func:`graph.blocks.registry.register_helper`) the code uses.
    """

    init: str | None = None
    forward: str | Callable[[Mapping[str, Any]], str] | None = None
    helpers: tuple[str, ...] = ()


def lit(v: Any) -> str:
    """A Python literal for a parameter value (lists become tuples).

    Strings are their ``repr``, in double quotes where that needs no escape
    (black's preferred quotes; the same characters otherwise).
    """
    if isinstance(v, (list, tuple)):
        inner = ", ".join(lit(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    text = repr(v)
    if isinstance(v, str) and text[0] == "'" and '"' not in v:
        # repr chose single quotes and v has no double quote: nothing inside
        # is an escaped quote, so only the delimiters change
        return f'"{text[1:-1]}"'
    return text


def call(func: str, *args: Any, defaults: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """Source of a call, leaving out keyword arguments equal to PyTorch's defaults."""
    defaults = defaults or {}
    parts = [a if isinstance(a, Src) else lit(a) for a in args]
    for k, v in kwargs.items():
        # a value that names its source (a unit class's argument) is always written
        if k in defaults and _same(defaults[k], v) and not hasattr(v, "source"):
            continue
        parts.append(f"{k}={v if isinstance(v, Src) else lit(v)}")
    return f"{func}({', '.join(parts)})"


class Src(str):
    """A string that is already source code (not to be quoted by :func:`call`)."""


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        ta = tuple(a) if isinstance(a, (list, tuple)) else None
        tb = tuple(b) if isinstance(b, (list, tuple)) else None
        if ta is None or tb is None:
            seq, scalar = (ta, b) if ta is not None else (tb, a)
            return all(x == scalar for x in seq)
        return ta == tb
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


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
