"""Regularisation blocks: dropout variants and Gaussian noise injection.

All of them act only while training and pass their input through unchanged
in evaluation; none has trainable weights.  ``GaussianNoise`` is not in PyTorch and
is emitted as a small helper module.
"""

from __future__ import annotations

from ._common import module, same_shape
from .base import TT, BlockSpec, Ctx, Param, call
from .registry import register, register_helper

FAMILY = "regularization"

# p = 1 is allowed, as in PyTorch: nothing passes while training (all zeros).
_P = Param("p", "float", 0.5, "probability of zeroing an element (or channel) while training; "
           "1 zeroes everything", min=0, max=1)


def _ranked(ranks: tuple[int, ...], layout: str):
    def rule(ctx: Ctx) -> TT:
        x = ctx.x()
        ctx.need_rank(x, ranks, layout)
        return x
    return rule


def _dropout(type_: str, doc: str, formula: str, rule=same_shape,
             functional: str = "") -> BlockSpec:
    return BlockSpec(
        type=type_, family=FAMILY, doc=doc, formula=formula, params=(_P,), rule=rule,
        emit=lambda ctx: module(call(f"nn.{type_}", p=ctx.p.p, defaults={"p": 0.5})),
        functional=(functional,),
    )


register_helper("GaussianNoise", '''
class GaussianNoise(nn.Module):
    """Adds zero-mean Gaussian noise with standard deviation std while training;
    the identity in evaluation."""

    def __init__(self, std=0.1):
        super().__init__()
        self.std = std

    def forward(self, x):
        if self.training and self.std > 0:
            return x + torch.randn_like(x) * self.std
        return x

    def extra_repr(self):
        return f"std={self.std}"
''')


register(
    _dropout("Dropout", "Zeroes random elements while training and scales the rest by "
             "1/(1−p); the identity in evaluation.",
             "y = x·m/(1−p), m ~ Bernoulli(1−p) per element",
             functional="F.dropout(input, p, training=True, inplace)"),
    _dropout("Dropout1d", "Zeroes whole random channels of a sequence (N×C×L) while training.",
             "y = x·m/(1−p), m ~ Bernoulli(1−p) per channel",
             rule=_ranked((3,), "N×C×L"),
             functional="F.dropout1d(input, p, training=True, inplace)"),
    _dropout("Dropout2d", "Zeroes whole random feature maps (N×C×H×W) while training.",
             "y = x·m/(1−p), m ~ Bernoulli(1−p) per channel",
             rule=_ranked((4,), "N×C×H×W"),
             functional="F.dropout2d(input, p, training=True, inplace)"),
    _dropout("AlphaDropout", "Dropout that keeps the mean and variance of its input "
             "(use with SELU).",
             "y = a·(x·m + α′(1−m)) + b, keeping mean and variance",
             functional="F.alpha_dropout(input, p, training=False, inplace)"),
    BlockSpec(
        type="GaussianNoise", family=FAMILY,
        doc="Adds Gaussian noise while training (a regulariser); the identity in evaluation.",
        formula="y = x + ε, ε ~ 𝒩(0, std²) (training only)",
        params=(Param("std", "float", 0.1, "standard deviation of the noise", min=0),),
        rule=same_shape,
        emit=lambda ctx: module(call("GaussianNoise", std=ctx.p.std, defaults={"std": 0.1}),
                                helpers=("GaussianNoise",)),
        # the helper's forward: the same draw (randn_like) and the same sum
        training_forms=("input + torch.randn_like(input) * std",),
    ),
)
