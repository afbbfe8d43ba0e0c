"""Input and Output: the ends of the network (forward's arguments and result)."""

from __future__ import annotations

from .base import FLOAT, INT, TT, BlockSpec, Ctx, Emit, Param, Port
from .registry import register


def _input_rule(ctx: Ctx) -> TT:
    return TT(("N",) + tuple(ctx.p.shape), ctx.p.dtype)


def _output_rule(ctx: Ctx) -> TT:
    return ctx.x()


register(
    BlockSpec(
        type="Input", family="input/output", role="input",
        doc="A model input: one argument of forward(), a batch of samples of the given shape.",
        formula="x ∈ ℝ^(N×shape)",
        inputs=(),
        params=(
            Param("shape", "shape", (1, 8, 8),
                  "sample shape without the batch dimension; a name such as \"T\" is a variable size"),
            Param("dtype", "choice", FLOAT, "element type: float32 for features, int64 for token ids",
                  choices=(FLOAT, INT)),
        ),
        rule=_input_rule,
        flops=lambda ctx: 0,
        emit=lambda ctx: Emit(),
        name_prefix="x",
    ),
    BlockSpec(
        type="Output", family="input/output", role="output",
        doc="A model output: what forward() returns (a tuple when there are several).",
        formula="y = x",
        inputs=(Port("in", dtype="any"),),
        rule=_output_rule,
        flops=lambda ctx: 0,
        activations=lambda ctx: 0,
        emit=lambda ctx: Emit(),
        name_prefix="output",
    ),
)
