"""Structure blocks: combining tensors (Add, Multiply, Concat), rearranging
one (Flatten, Reshape, Permute, Mean, SelectTimestep, Select) and scaling it
by a constant (Scale).

None of them has weights; each becomes one readable line in ``forward``
(``x = a + b``, ``x = torch.cat([a, b], dim=1)``, ``x = x.flatten(1)``, ...).
Symbolic sizes (``"T"``) flow through: flattening ``N×T×16`` gives
``N×16*T``, a mean over ``T`` removes it, and a Reshape accepts one only
where its ``-1`` entry absorbs it.
"""

from __future__ import annotations

from typing import Callable, Mapping

from .. import dims
from ..problems import Code
from ._common import norm_dim
from .base import TT, BlockSpec, Ctx, Emit, Param, Port, lit
from .registry import register

FAMILY = "structure"
_ANY_IN = (Port("in", dtype="any"),)
_MANY_IN = (Port("in", variadic=True, dtype="any", doc="operands, in edge order"),)


def _line(make: Callable[[Ctx, Mapping], str]) -> Callable[[Ctx], Emit]:
    """An emission that is one forward line ``<out> = <expression>``."""
    return lambda ctx: Emit(forward=lambda m: f"{m['out']} = {make(ctx, m)}")


def _no_activations(ctx: Ctx) -> int:
    return 0  # views and selections keep nothing for the backward pass


def _not_batch(ctx: Ctx, name: str, value: int, x: TT) -> int:
    d = norm_dim(ctx, value, x.rank, name)
    if d == 0:
        ctx.fail(Code.PARAM, f"{name}={value} is the batch dimension of {x}; samples must "
                 f"stay separate — use a dim >= 1",
                 fix={"kind": "set_param", "param": name, "value": 1})
    return d


# --------------------------------------------------------------------------
# Several operands: Add, Multiply, Concat
# --------------------------------------------------------------------------

def _operands(ctx: Ctx) -> list[TT]:
    xs = ctx.xs()
    if len(xs) < 2:
        ctx.fail(Code.UNCONNECTED, f"combines several tensors but has {len(xs)} input; "
                 "connect a second block's output to it", port="in")
    kinds = {t.dtype for t in xs}
    if len(kinds) > 1:
        listed = ", ".join(f"{t} ({t.dtype})" for t in xs)
        ctx.fail(Code.DTYPE, f"its inputs mix element types: {listed}; make them all "
                 "float32 (e.g. an Embedding for token ids)", port="in")
    return xs


def _projection(acc: tuple, t: TT, k: int, bad: list[int]) -> dict | None:
    """A quick fix: project operand ``k`` so its size matches the others."""
    want = acc[bad[0]] if len(bad) == 1 else None
    if not isinstance(want, int):
        return None
    if bad == [t.rank - 1] and t.rank in (2, 3):
        return {"kind": "insert", "type": "Linear", "params": {"out_features": want},
                "edge_index": k}
    if bad == [1] and t.rank == 4:
        return {"kind": "insert", "type": "Conv2d",
                "params": {"out_channels": want, "kernel_size": 1}, "edge_index": k}
    return None


def _permutation(want: tuple, t: TT, free: int | None = None) -> list[int] | None:
    """``dims`` for a Permute that turns ``t`` into ``want`` (batch first), or None.

    Every dimension except ``free`` (a concat dimension, which takes whatever
    is left) must find an equal size; a dimension keeps its place when it can,
    so ``N×8×16`` → ``N×16×8`` gives ``[0, 2, 1]``.
    """
    if t.rank != len(want) or t.rank < 3:
        return None
    unused = list(range(1, t.rank))
    order = [0] * t.rank
    targets = [i for i in range(1, t.rank) if i != free]
    for i in targets:
        fits = [j for j in unused if dims.equal(t.shape[j], want[i])]
        if not fits:
            return None
        j = i if i in fits else fits[0]
        order[i] = j
        unused.remove(j)
    if free is not None:
        order[free] = unused.pop()
    if order == list(range(t.rank)):
        return None
    return order


def _permute_fix(order: list[int] | None, k: int) -> dict | None:
    if order is None:
        return None
    return {"kind": "insert", "type": "Permute", "params": {"dims": order}, "edge_index": k}


def _broadcast_rule(ctx: Ctx) -> TT:
    xs = _operands(ctx)
    shape = list(xs[0].shape)
    for k, t in enumerate(xs[1:], start=1):
        if t.rank != len(shape):
            ctx.fail(Code.BROADCAST, f"its inputs must have the same rank, but input 1 is "
                     f"{xs[0]} and input {k + 1} is {t}; add a Reshape or Flatten so they "
                     "match", port="in")
        bad = [i for i, (a, b) in enumerate(zip(shape, t.shape))
               if not dims.equal(a, b) and a != 1 and b != 1]
        if bad:
            have = dims.format_shape(shape)
            where = ", ".join(f"dim {i}: {shape[i]} vs {t.shape[i]}" for i in bad)
            fix = _permute_fix(_permutation(tuple(shape), t), k)
            if fix is not None:
                hint = (f"; they hold the same sizes in another order — insert a Permute "
                        f"with dims={fix['params']['dims']} on input {k + 1}")
            else:
                fix = _projection(tuple(shape), t, k, bad)
                hint = (f"; insert a {fix['type']} projection on input {k + 1}" if fix else
                        "; sizes must be equal or 1 — add a projection or a Reshape")
            ctx.fail(Code.BROADCAST, f"input shapes {have} and {t} do not broadcast "
                     f"({where}){hint}", port="in", fix=fix)
        shape = [b if a == 1 else a for a, b in zip(shape, t.shape)]
    return TT(tuple(shape), xs[0].dtype)


def _dim_sum(a: dims.Dim, b: dims.Dim) -> dims.Dim:
    if isinstance(b, int):
        return dims.add(a, b)
    if isinstance(a, int):
        return dims.add(b, a)
    # dims.add rewrites a linear expression in canonical form ("T+T" -> "2*T").
    return dims.add(dims.add(f"{a}+{b}", 1), -1)


def _concat_rule(ctx: Ctx) -> TT:
    xs = _operands(ctx)
    ref = xs[0]
    d = _not_batch(ctx, "dim", ctx.p.dim, ref)
    total: dims.Dim = 0
    for k, t in enumerate(xs):
        if t.rank != ref.rank or any(not dims.equal(a, b) for i, (a, b)
                                     in enumerate(zip(ref.shape, t.shape)) if i != d):
            fix = _permute_fix(_permutation(ref.shape, t, free=d), k)
            hint = (f"; insert a Permute with dims={fix['params']['dims']} on input {k + 1} "
                    "to line its dimensions up" if fix else "")
            ctx.fail(Code.CONCAT, f"its inputs must agree in every dimension except dim "
                     f"{ctx.p.dim}, but input 1 is {ref} and input {k + 1} is {t}{hint}",
                     port="in", fix=fix)
        total = _dim_sum(total, t.shape[d])
    return TT(ref.shape[:d] + (total,) + ref.shape[d + 1:], ref.dtype)


def _elements_in(ctx: Ctx) -> int:
    return sum(ctx.numel(t) for t in ctx.xs())


# --------------------------------------------------------------------------
# One operand: Flatten, Reshape, Permute, Mean, SelectTimestep
# --------------------------------------------------------------------------

def _flatten_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    s = _not_batch(ctx, "start_dim", ctx.p.start_dim, x)
    e = norm_dim(ctx, ctx.p.end_dim, x.rank, "end_dim")
    if e < s:
        ctx.fail(Code.PARAM, f"end_dim={ctx.p.end_dim} comes before start_dim="
                 f"{ctx.p.start_dim} for input {x}; use end_dim=-1 to flatten to the end")
    return TT(x.shape[:s] + (dims.product(x.shape[s:e + 1]),) + x.shape[e + 1:], x.dtype)


def _flatten_code(ctx: Ctx, m: Mapping) -> str:
    args = [ctx.p.start_dim] + ([] if ctx.p.end_dim == -1 else [ctx.p.end_dim])
    return f"{m['in']}.flatten({', '.join(map(str, args))})"


def _reshape_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    want = tuple(ctx.p.shape)
    if not want or any(v == 0 or v < -1 for v in want):
        ctx.fail(Code.PARAM, f"shape={list(want)} must list sizes that are positive or -1 "
                 "(the sample shape without the batch dimension)")
    if want.count(-1) > 1:
        ctx.fail(Code.PARAM, f"shape={list(want)} has more than one -1; only one size can "
                 "be worked out")
    total = dims.product(x.shape[1:])
    known = dims.product(v for v in want if v != -1)
    target = "N×" + "×".join(str(v) for v in want)
    if -1 not in want:
        if not isinstance(total, int):
            ctx.fail(Code.SYMBOLIC, f"cannot reshape {x} to {target}: the input has the "
                     f"variable size {total} per sample; put -1 in shape for the "
                     "dimension that absorbs it")
        if total != known:
            ctx.fail(Code.RESHAPE, f"cannot reshape {x} ({total} values per sample) into "
                     f"{target} ({known} values); the counts must match — use -1 for one "
                     "size to have it worked out")
        return TT(("N",) + want, x.dtype)
    if isinstance(total, int):
        if total % known:
            ctx.fail(Code.RESHAPE, f"cannot reshape {x} ({total} values per sample) into "
                     f"{target}: {total} is not a multiple of {known}")
        fill: dims.Dim = total // known
    else:
        fill = dims.floordiv(total, known)
        if not dims.equal(dims.mul(fill, known), total):
            ctx.fail(Code.SYMBOLIC, f"cannot reshape {x} into {target}: its variable size "
                     f"({total} values per sample) is not always a multiple of {known}")
    return TT(("N",) + tuple(fill if v == -1 else v for v in want), x.dtype)


def _reshape_code(ctx: Ctx, m: Mapping) -> str:
    want = list(ctx.p.shape)
    batch = f"{m['in']}.shape[0]" if -1 in want else "-1"
    return f"{m['in']}.reshape({', '.join([batch] + [str(v) for v in want])})"


def _permute_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    order = list(ctx.p.dims)
    example = [0] + list(range(x.rank - 1, 0, -1))
    norm = [d + x.rank if d < 0 else d for d in order]
    if sorted(norm) != list(range(x.rank)):
        ctx.fail(Code.PARAM, f"dims={order} must list each of the {x.rank} dimensions of "
                 f"{x} exactly once (0 first), e.g. {example}")
    if norm[0] != 0:
        ctx.fail(Code.PARAM, f"dims={order} must start with 0 so the batch stays first, "
                 f"e.g. {example}")
    return TT(tuple(x.shape[d] for d in norm), x.dtype)


def _mean_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    d = _not_batch(ctx, "dim", ctx.p.dim, x)
    kept = (1,) if ctx.p.keepdim else ()
    return TT(x.shape[:d] + kept + x.shape[d + 1:], x.dtype)


def _mean_code(ctx: Ctx, m: Mapping) -> str:
    keep = ", keepdim=True" if ctx.p.keepdim else ""
    return f"{m['in']}.mean(dim={ctx.p.dim}{keep})"


def _check_index(ctx: Ctx, x: TT, d: int, dim: int, first: str, last: str) -> TT:
    """``x`` without dimension ``d`` once ``ctx.p.index`` is checked against its
    length (``dim``: the dimension as the user wrote it; ``first``/``last``: how
    the message calls indices 0 and -1)."""
    length, i = x.shape[d], ctx.p.index
    if isinstance(length, int):
        if not -length <= i < length:
            ctx.fail(Code.SIZE, f"index {i} is out of range for dim {dim} of {x} (length "
                     f"{length}: valid {-length}..{length - 1}); use -1 for {last}",
                     fix={"kind": "set_param", "param": "index", "value": -1})
    elif i not in (0, -1):
        ctx.fail(Code.SYMBOLIC, f"index {i} may be out of range for the variable length "
                 f"{length} of {x}; use 0 ({first}) or -1 ({last})")
    return TT(x.shape[:d] + x.shape[d + 1:], x.dtype)


def _select_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    if x.rank < 2:
        ctx.need_rank(x, (2,), "N×T×... (steps along dim 1)")
    return _check_index(ctx, x, 1, 1, "first step", "the last step")


def _scale_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    if x.dtype != "float32":
        ctx.fail(Code.DTYPE, f"scales floating-point values but receives {x} ({x.dtype}); "
                 "put it after an Embedding or another layer that gives floats")
    return x


def _index_rule(ctx: Ctx) -> TT:
    x = ctx.x()
    if x.rank < 2:
        ctx.need_rank(x, (2,), "N×... (a dimension after the batch to index)")
    d = _not_batch(ctx, "dim", ctx.p.dim, x)
    return _check_index(ctx, x, d, ctx.p.dim, "the first", "the last")


def _index_code(ctx: Ctx, m: Mapping) -> str:
    # x[:, :, i] reads as the indexing a person writes; a negative dim counts
    # from the end, which the ellipsis says without knowing the rank
    d, i = ctx.p.dim, lit(ctx.p.index)
    if d < 0:
        return f"{m['in']}[..., {i}{', :' * (-d - 1)}]"
    return f"{m['in']}[{':, ' * d}{i}]"


#: Operands up to which Add and Multiply read as one expression (``a + b + c``).
#: Python parses ``a + b + ...`` into a tree as deep as its operands, which
#: overflows the parser's recursion at a few thousand; more operands become one
#: flat call over a list, applied in the same left-to-right order (so the
#: result is the same to the bit): ``sum([b, c, ...], a)``.
CHAIN_MAX = 8


def _joined(op: str, reduce: str) -> Callable[[Ctx, Mapping], str]:
    """``a op b op c`` for a few operands, else ``reduce`` (a format with ``rest``
    and ``first``) over them."""
    def make(ctx: Ctx, m: Mapping) -> str:
        xs = m["in"]
        if len(xs) <= CHAIN_MAX:
            return f" {op} ".join(xs)
        return reduce.format(rest=", ".join(xs[1:]), first=xs[0])
    return make


register(
    BlockSpec(
        type="Add", family=FAMILY, keywords=("skip", "residual", "shortcut", "sum", "plus"),
        doc="Adds its inputs element-wise (residual connections); shapes must broadcast.",
        formula="y = x₁ + x₂ + …", inputs=_MANY_IN,
        rule=_broadcast_rule, emit=_line(_joined("+", "sum([{rest}], {first})")),
        flops=lambda ctx: (len(ctx.xs()) - 1) * ctx.numel(ctx.out),
    ),
    BlockSpec(
        type="Multiply", family=FAMILY, keywords=("product", "gate", "mul"),
        doc="Multiplies its inputs element-wise (gating); shapes must broadcast.",
        formula="y = x₁ ⊙ x₂ ⊙ …", inputs=_MANY_IN,
        rule=_broadcast_rule, emit=_line(_joined("*", "math.prod([{rest}], start={first})")),
        flops=lambda ctx: (len(ctx.xs()) - 1) * ctx.numel(ctx.out),
    ),
    BlockSpec(
        type="Concat", family=FAMILY, keywords=("cat", "merge", "join", "stack"),
        doc="Joins its inputs along one dimension (e.g. channels); the other sizes must agree.",
        formula="y = [x₁, x₂, …] along dim", inputs=_MANY_IN,
        params=(Param("dim", "int", 1, "dimension to join along (batch = 0)"),),
        rule=_concat_rule, flops=lambda ctx: 0,
        emit=_line(lambda ctx, m: f"torch.cat([{', '.join(m['in'])}], dim={ctx.p.dim})"),
    ),
    BlockSpec(
        type="Flatten", family=FAMILY,
        doc="Merges dimensions start_dim..end_dim into one (e.g. images to feature vectors).",
        formula="N×C×H×W → N×(C·H·W)", inputs=_ANY_IN,
        params=(Param("start_dim", "int", 1, "first dimension to merge (batch = 0)"),
                Param("end_dim", "int", -1, "last dimension to merge (-1: the last)")),
        rule=_flatten_rule, emit=_line(_flatten_code),
        flops=lambda ctx: 0, activations=_no_activations,
    ),
    BlockSpec(
        type="Reshape", family=FAMILY,
        doc="Gives each sample a new shape with the same number of values.",
        formula="N×… → N×shape", inputs=_ANY_IN,
        params=(Param("shape", "ints", (-1,), "new sample shape without the batch; one "
                      "entry may be -1 (worked out from the others)"),),
        rule=_reshape_rule, emit=_line(_reshape_code),
        flops=lambda ctx: 0, activations=_no_activations,
    ),
    BlockSpec(
        type="Permute", family=FAMILY,
        doc="Reorders dimensions, e.g. N×T×C ↔ N×C×T; the batch stays first.",
        formula="y = x.permute(dims)", inputs=_ANY_IN,
        params=(Param("dims", "ints", (0, 2, 1), "the new order of all dimensions, 0 first"),),
        rule=_permute_rule,
        emit=_line(lambda ctx, m: f"{m['in']}.permute({', '.join(map(str, ctx.p.dims))})"),
        flops=lambda ctx: 0, activations=_no_activations,
    ),
    BlockSpec(
        type="Mean", family=FAMILY,
        doc="Averages over one dimension (e.g. pooling a sequence over time).",
        formula="y = mean of x along dim",
        params=(Param("dim", "int", 1, "dimension to average over (batch = 0)"),
                Param("keepdim", "bool", False, "keep that dimension with size 1")),
        rule=_mean_rule, emit=_line(_mean_code), flops=_elements_in,
    ),
    BlockSpec(
        type="SelectTimestep", family=FAMILY,
        doc="Takes one step of a sequence along dim 1 (e.g. the last RNN output).",
        formula="y = x[:, index]", inputs=_ANY_IN,
        params=(Param("index", "int", -1, "which step: 0 the first, -1 the last"),),
        rule=_select_rule, emit=_line(lambda ctx, m: f"{m['in']}[:, {lit(ctx.p.index)}]"),
        flops=lambda ctx: 0, activations=_no_activations,
    ),
    BlockSpec(
        type="Select", family=FAMILY,
        doc="Takes one entry along a dimension and drops that dimension "
            "(e.g. one channel, or one step of a sequence).",
        formula="y = x.select(dim, index)", inputs=_ANY_IN,
        # dim 1 is SelectTimestep's (an import of x[:, i] gives that block)
        params=(Param("dim", "int", -1, "dimension to index (-1: the last; not the batch, 0)"),
                Param("index", "int", -1, "which entry: 0 the first, -1 the last")),
        rule=_index_rule, emit=_line(_index_code),
        flops=lambda ctx: 0, activations=_no_activations,
    ),
    BlockSpec(
        type="Scale", family=FAMILY,
        doc="Multiplies by a constant (e.g. embeddings by √d in a Transformer).",
        formula="y = x · c",
        params=(Param("value", "float", 1.0, "the constant factor c"),),
        rule=_scale_rule, emit=_line(lambda ctx, m: f"{m['in']} * {lit(ctx.p.value)}"),
        functional=("operator.mul(input, value)", "operator.mul(value, input)",
                    "torch.mul(input, value)", ".mul(value)"),
    ),
)
