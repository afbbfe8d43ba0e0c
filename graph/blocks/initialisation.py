"""Weight initialisation: the parameters every block with weights gets, and their checks.

:class:`~graph.blocks.base.BlockSpec` adds :func:`init_params` to a spec with
``weights=True``; the analysis reports :func:`init_problem` on a node whose
initialisation cannot work (the shapes do not depend on it).
"""

from __future__ import annotations

from typing import Any, Mapping

from .params import Param


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
