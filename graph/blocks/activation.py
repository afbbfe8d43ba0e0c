"""Activation blocks: PyTorch's non-linearities and the ones it lacks.

Most activations are element-wise, keep the shape, and differ only in their
name, formula and a few scalar parameters, so they come from one factory,
:func:`_act`.  The ones PyTorch lacks (``ArcTan``, ``BinaryStep``, ``ISRU``,
``ISRLU``, ``SquareNonlinearity``, ``BipolarReLU``, ``AbsoluteReLU``) are
small documented ``nn.Module`` classes registered as helpers; the code
generator writes only those a graph uses.
"""

from __future__ import annotations

from typing import Any, Callable

from ..problems import Code
from ._common import module, norm_dim, same_shape
from .base import TT, BlockSpec, Ctx, Param, call
from .module_import import read_module
from .registry import get, register, register_helper


def _act(type_: str, doc: str, formula: str, params: tuple[Param, ...] = (),
         saturating: bool = False, helper: bool = False,
         rule: Callable[[Ctx], TT] = same_shape, count: Callable[[Ctx], int] | None = None,
         always: tuple[str, ...] = (), **flags: Any) -> BlockSpec:
    """The spec of an activation whose code is ``nn.<Type>(params)`` (or the
    helper class ``<Type>(params)``).

    Our parameter defaults are PyTorch's, so arguments equal to them are left
    out of the generated call; names in ``always`` are written regardless.
    ``flags`` are :class:`BlockSpec`'s behaviour flags (``dead_units``,
    ``outputs_probabilities``).
    """
    defaults = {p.name: p.default for p in params if p.name not in always}

    def emit(ctx: Ctx):
        ctor = call(type_ if helper else f"nn.{type_}", defaults=defaults,
                    **{p.name: ctx.p[p.name] for p in params})
        return module(ctor, helpers=(type_,) if helper else ())

    extra = {"count": count} if count is not None else {}
    return BlockSpec(type=type_, family="activation", doc=doc, formula=formula,
                     params=params, rule=rule, emit=emit, saturating=saturating, **extra,
                     **flags)


# --------------------------------------------------------------------------
# Rules with parameter checks PyTorch would otherwise raise at run time
# --------------------------------------------------------------------------

def _hardtanh_rule(ctx: Ctx) -> TT:
    if ctx.p.min_val >= ctx.p.max_val:
        ctx.fail(Code.PARAM, f"min_val ({ctx.p.min_val:g}) must be below max_val "
                 f"({ctx.p.max_val:g}); swap them")
    return ctx.x()


def _rrelu_rule(ctx: Ctx) -> TT:
    if ctx.p.lower > ctx.p.upper:
        ctx.fail(Code.PARAM, f"lower ({ctx.p.lower:g}) must not exceed upper "
                 f"({ctx.p.upper:g}); swap them")
    return ctx.x()


def _celu_rule(ctx: Ctx) -> TT:
    if ctx.p.alpha == 0:
        ctx.fail(Code.PARAM, "alpha must not be 0 (CELU divides by it); use e.g. 1.0")
    return ctx.x()


def _softmax_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    if norm_dim(ctx, ctx.p.dim, x.rank) == 0:
        ctx.fail(Code.PARAM, f"dim={ctx.p.dim} is the batch dimension of {x}; samples "
                 "would be mixed — use -1 (the last dimension) or a dim >= 1",
                 fix={"kind": "set_param", "param": "dim", "value": -1})
    return x


def _prelu_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    n = ctx.p.num_parameters
    if n != 1:
        if x.rank < 2:
            ctx.need_rank(x, (2,), "N×C×... (channels on dim 1)")
        c = ctx.need_concrete(x.shape[1], "number of channels (dim 1)")
        if n != c:
            ctx.fail(Code.SIZE, f"num_parameters={n} must be 1 (one shared slope) or the "
                     f"number of channels, {c} for input {x}; set it to 1 or {c}",
                     fix={"kind": "set_param", "param": "num_parameters", "value": c})
    return x


def _bipolar_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    if x.rank < 2:
        ctx.need_rank(x, (2,), "N×C×... (channels on dim 1)")
    return x


# --------------------------------------------------------------------------
# Helper modules for the activations PyTorch lacks
# --------------------------------------------------------------------------

_HELPERS = {
    "ArcTan": '''
class ArcTan(nn.Module):
    """ArcTan activation: y = arctan(x), a smooth sigmoid-like curve in (-pi/2, pi/2)."""

    def forward(self, x):
        return torch.atan(x)
''',
    "BinaryStep": '''
class BinaryStep(nn.Module):
    """Binary step: y = 1 if x >= 0 else 0.

    Its gradient is zero everywhere (undefined at 0), so layers before it
    receive no learning signal through it.
    """

    def forward(self, x):
        return (x >= 0).to(x.dtype)
''',
    "ISRU": '''
class ISRU(nn.Module):
    """Inverse square root unit: y = x / sqrt(1 + alpha * x^2), a sigmoid-like curve
    with values in (-1/sqrt(alpha), 1/sqrt(alpha))."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return x * torch.rsqrt(1 + self.alpha * x * x)

    def extra_repr(self):
        return f"alpha={self.alpha}"
''',
    "ISRLU": '''
class ISRLU(nn.Module):
    """Inverse square root linear unit: y = x if x >= 0 else x / sqrt(1 + alpha * x^2)."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return torch.where(x >= 0, x, x * torch.rsqrt(1 + self.alpha * x * x))

    def extra_repr(self):
        return f"alpha={self.alpha}"
''',
    "SquareNonlinearity": '''
class SquareNonlinearity(nn.Module):
    """Square nonlinearity (SQNL): 1 for x > 2, x - x^2/4 on [0, 2],
    x + x^2/4 on [-2, 0), -1 for x < -2."""

    def forward(self, x):
        x = x.clamp(-2, 2)
        return x - x * x.abs() / 4
''',
    "BipolarReLU": '''
class BipolarReLU(nn.Module):
    """Bipolar ReLU: ReLU(x) on even channels, -ReLU(-x) on odd channels (dim 1),
    which keeps the layer's mean output near zero."""

    def forward(self, x):
        even = torch.arange(x.shape[1], device=x.device) % 2 == 0
        even = even.view(-1, *([1] * (x.dim() - 2)))
        return torch.where(even, x.clamp(min=0), x.clamp(max=0))
''',
    "AbsoluteReLU": '''
class AbsoluteReLU(nn.Module):
    """Absolute-value activation: y = |x|."""

    def forward(self, x):
        return x.abs()
''',
}

for _name, _source in _HELPERS.items():
    register_helper(_name, _source)


# --------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------

_ALPHA = Param("alpha", "float", 1.0, "scale α of the negative (or saturating) part")
_POSITIVE_ALPHA = Param("alpha", "float", 1.0, "α: larger values saturate sooner",
                        min=0, min_open=True)

register(
    _act("ReLU", "Rectified linear unit: keeps positives, zeroes negatives.",
         "ReLU(x) = max(0, x)", dead_units=True,
         functional=("F.relu(input, inplace)", "torch.relu(input)", ".relu()")),
    _act("LeakyReLU", "ReLU with a small slope for negatives, so they still get gradient.",
         "LeakyReLU(x) = x if x≥0 else slope·x",
         params=(Param("negative_slope", "float", 0.01, "slope for negative inputs"),),
         functional=("F.leaky_relu(input, negative_slope, inplace)",)),
    _act("PReLU", "ReLU whose negative slope is learned (one shared, or one per channel).",
         "PReLU(x) = x if x≥0 else a·x (a learned)",
         params=(Param("num_parameters", "int", 1,
                       "number of learned slopes: 1 (shared) or the number of channels", min=1),
                 Param("init", "float", 0.25, "initial value of the slope a")),
         rule=_prelu_rule, count=lambda ctx: ctx.p.num_parameters),
    _act("RReLU", "Leaky ReLU with a random slope in [lower, upper] while training "
         "(the average slope in evaluation).",
         "RReLU(x) = x if x≥0 else a·x, a ~ U(lower, upper)",
         params=(Param("lower", "float", 1 / 8, "smallest random slope"),
                 Param("upper", "float", 1 / 3, "largest random slope")),
         rule=_rrelu_rule),
    _act("ELU", "Exponential linear unit: smooth, negative values saturate at -α.",
         "ELU(x) = x if x>0 else α(eˣ−1)", params=(_ALPHA,),
         functional=("F.elu(input, alpha, inplace)",)),
    _act("SELU", "Scaled ELU with fixed constants that keep activations normalised "
         "(self-normalising networks; pair with AlphaDropout).",
         "SELU(x) = λ·(x if x>0 else α(eˣ−1)), λ≈1.0507, α≈1.6733",
         functional=("F.selu(input, inplace)", "torch.selu(input)")),
    _act("CELU", "Continuously differentiable ELU.",
         "CELU(x) = max(0, x) + min(0, α(e^(x/α)−1))", params=(_ALPHA,), rule=_celu_rule,
         functional=("F.celu(input, alpha, inplace)",)),
    _act("GELU", "Gaussian error linear unit: x weighted by the chance it is positive "
         "(Transformers).",
         "GELU(x) = x·Φ(x)",
         params=(Param("approximate", "choice", "none",
                       "\"tanh\" uses the faster tanh approximation", choices=("none", "tanh")),),
         functional=("F.gelu(input, approximate)",)),
    _act("SiLU", "Sigmoid linear unit (Swish): smooth, slightly non-monotonic ReLU.",
         "SiLU(x) = x·σ(x)",
         functional=("F.silu(input, inplace)",)),
    _act("Mish", "Mish: a smooth, self-gated ReLU-like curve.",
         "Mish(x) = x·tanh(softplus(x))",
         functional=("F.mish(input, inplace)",)),
    _act("Sigmoid", "Logistic sigmoid: squashes to (0, 1); saturates for large |x|.",
         "σ(x) = 1 / (1 + e⁻ˣ)", saturating=True,
         functional=("F.sigmoid(input)", "torch.sigmoid(input)", ".sigmoid()")),
    _act("Tanh", "Hyperbolic tangent: squashes to (−1, 1); saturates for large |x|.",
         "tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)", saturating=True,
         functional=("F.tanh(input)", "torch.tanh(input)", ".tanh()")),
    _act("Hardtanh", "Clips values to [min_val, max_val].",
         "Hardtanh(x) = min(max(x, min_val), max_val)",
         params=(Param("min_val", "float", -1.0, "lower clip value"),
                 Param("max_val", "float", 1.0, "upper clip value")),
         saturating=True, rule=_hardtanh_rule,
         # min_value/max_value: deprecated spellings, folded into min_val/max_val
         from_module=lambda mod, kw: read_module(get("Hardtanh"), mod,
                                                 skip=("min_value", "max_value")),
         functional=("F.hardtanh(input, min_val, max_val, inplace)",)),
    _act("ReLU6", "ReLU capped at 6 (mobile networks).", "ReLU6(x) = min(max(0, x), 6)",
         dead_units=True,
         functional=("F.relu6(input, inplace)",)),
    _act("Softplus", "A smooth approximation of ReLU.",
         "Softplus(x) = log(1 + e^(βx)) / β",
         params=(Param("beta", "float", 1.0, "sharpness β", min=0, min_open=True),
                 Param("threshold", "float", 20.0, "above β·x > threshold the output is x")),
         functional=("F.softplus(input, beta, threshold)",)),
    _act("Softsign", "Squashes to (−1, 1), more gently than tanh.",
         "Softsign(x) = x / (1 + |x|)", saturating=True,
         functional=("F.softsign(input)",)),
    _act("Softmax", "Turns scores into probabilities that sum to 1 along dim.",
         "Softmax(x)ᵢ = eˣⁱ / Σⱼ eˣʲ",
         params=(Param("dim", "int", -1, "dimension that sums to 1 (batch = 0)"),),
         rule=_softmax_rule, always=("dim",), outputs_probabilities=True,
         functional=("F.softmax(input, dim!, _stacklevel, dtype)",
                     "torch.softmax(input, dim!, dtype)", ".softmax(dim!, dtype)")),
    _act("LogSoftmax", "Logarithm of softmax along dim (pair with NLLLoss).",
         "LogSoftmax(x)ᵢ = xᵢ − log Σⱼ eˣʲ",
         params=(Param("dim", "int", -1, "dimension of the softmax (batch = 0)"),),
         rule=_softmax_rule, always=("dim",),
         functional=("F.log_softmax(input, dim!, _stacklevel, dtype)",
                     "torch.log_softmax(input, dim!, dtype)", ".log_softmax(dim!, dtype)")),
    _act("ArcTan", "Arctangent: a smooth sigmoid-like curve in (−π/2, π/2).",
         "ArcTan(x) = arctan(x)", saturating=True, helper=True,
         functional=("torch.atan(input)", ".atan()")),
    _act("BinaryStep", "Step function: 1 for x ≥ 0, else 0 (its gradient is zero, so "
         "nothing before it learns).", "BinaryStep(x) = 1 if x≥0 else 0", helper=True),
    _act("ISRU", "Inverse square root unit: a cheap sigmoid-like curve.",
         "ISRU(x) = x / √(1 + αx²)", params=(_POSITIVE_ALPHA,), saturating=True, helper=True),
    _act("ISRLU", "Inverse square root linear unit: identity for positives, ISRU for negatives.",
         "ISRLU(x) = x if x≥0 else x / √(1 + αx²)", params=(_POSITIVE_ALPHA,), helper=True),
    _act("SquareNonlinearity", "Piecewise square curve that saturates at ±1 beyond |x| > 2.",
         "SQNL(x) = 1 if x>2; x−x²/4 if 0≤x≤2; x+x²/4 if −2≤x<0; −1 if x<−2", helper=True),
    _act("BipolarReLU", "ReLU on even channels, −ReLU(−x) on odd channels (dim 1): "
         "keeps the mean output near zero.",
         "BReLU(x)_c = max(0, x) if c even else min(0, x)", helper=True, rule=_bipolar_rule),
    _act("AbsoluteReLU", "Absolute value: |x|.", "AbsoluteReLU(x) = |x|", helper=True,
         functional=("torch.abs(input)", ".abs()")),
)
