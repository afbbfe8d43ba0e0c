"""The training vocabulary: every loss, optimizer and schedule a project may
name, the settings each one takes, and the values those settings accept.

This is the one list of these names.  :mod:`graph.training_check` validates
a project's ``training`` section against it (without torch, so ``check`` and
the editor see every mistake); :mod:`runtime.optim` builds the torch objects
from the same names (and still checks the keyword arguments against torch's
own signatures); the settings panel offers exactly them, each schedule
starting from :data:`SCHEDULE_STARTS`.  A test keeps the settings here a
subset of what the installed torch accepts.

Each setting is a :class:`Rule`: what it expects, in words for a message,
and a test.  Settings torch has but that make no sense in a project (the
deprecated ``size_average``/``reduce``, ``last_epoch``, callables) are left
out, so naming one is reported as an unknown setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

#: The largest whole number a size-like setting may take: anything larger is
#: a typo (and can hang torch, which loops over such counts).
MAX_INT = 2**31 - 1
#: The largest seed (NumPy and scikit-learn take seeds below 2³²).
MAX_SEED = 2**32 - 1


# ---------------------------------------------------------------------- values
def shown(v: Any) -> str:
    """A value as a message shows it: ``'fast'``, ``-1``, ``true``, ``null``,
    ``a list``, ``an object`` (containers by kind: they may be long)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return repr(v[:60] + "…" if len(v) > 60 else v)
    if isinstance(v, (int, float)):
        return repr(v) if not isinstance(v, int) or abs(v) < 10**12 else f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def listed(v: Any) -> str:
    """Like :func:`shown`, but a short list of plain values is written out: ``[6, 3]``."""
    if isinstance(v, list):
        text = repr(v)
        return text if len(text) <= 60 else text[:59] + "…"
    return shown(v)


def kind_of(v: Any) -> str:
    """What JSON kind a value is, for "got …": ``a string``, ``a number``, …"""
    if isinstance(v, bool):
        return "true/false"
    return {str: "a string", int: "a number", float: "a number", list: "a list",
            dict: "an object", type(None): "null"}.get(type(v), type(v).__name__)


def is_number(v: Any) -> bool:
    """A finite JSON number (true/false are not numbers)."""
    return type(v) in (int, float) and math.isfinite(v)


def is_whole(v: Any) -> bool:
    return type(v) is int


@dataclass(frozen=True)
class Rule:
    """What one setting accepts.

    Attributes:
        expect: the accepted values in words (``"a number > 0"``).
        why: returns None for a good value, else the reason (``"must be …, got …"``).
        required: the setting has no default; the project must give it.
    """

    expect: str
    why: Callable[[Any], "str | None"]
    required: bool = False
    #: what an editor offers: the choices of :func:`choice`, the bounds of :func:`number`
    options: tuple = ()
    lo: float | None = None
    hi: float | None = None

    def needed(self) -> "Rule":
        return replace(self, required=True)


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _bounds_text(lo, hi, lo_open: bool, hi_open: bool) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {_num(lo)}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {_num(hi)}")
    return " and ".join(parts)


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False, nullable: bool = False, whole: bool = False) -> Rule:
    """A finite number (a whole one with ``whole``) within optional bounds.

    Whole numbers are also kept at or below :data:`MAX_INT` unless ``hi`` says otherwise.
    """
    if whole and hi is None:
        hi = MAX_INT
    what = "a whole number" if whole else "a number"
    bounds = _bounds_text(lo, hi if not (whole and hi == MAX_INT) else None, lo_open, hi_open)
    expect = f"{what} {bounds}".strip() + (" or null" if nullable else "")

    kind = what + (" or null" if nullable else "")

    def why(v):
        if v is None and nullable:
            return None
        if not (is_whole(v) if whole else is_number(v)):
            return f"must be {kind}, got {shown(v)}"
        if lo is not None and (v < lo or lo_open and v == lo):
            return f"must be {'greater than' if lo_open else 'at least'} {_num(lo)}, got {shown(v)}"
        if hi is not None and (v > hi or hi_open and v == hi):
            return f"must be {'less than' if hi_open else 'at most'} {_num(hi)}, got {shown(v)}"
        return None
    return Rule(expect, why, lo=lo, hi=hi)


def whole(lo: int | None = None, hi: int | None = None, nullable: bool = False) -> Rule:
    return number(lo, hi, nullable=nullable, whole=True)


def positive(nullable: bool = False) -> Rule:
    return number(0, lo_open=True, nullable=nullable)


def nonneg(nullable: bool = False) -> Rule:
    return number(0, nullable=nullable)


def flag(nullable: bool = False) -> Rule:
    expect = "true or false" + (" or null" if nullable else "")

    def why(v):
        if isinstance(v, bool) or v is None and nullable:
            return None
        return f"must be {expect}, got {shown(v)}"
    return Rule(expect, why)


def choice(*options: Any, expect: str | None = None) -> Rule:
    """One of ``options`` (compared by type too: ``1`` is not ``true``).

    Args:
        expect: the options in words, when a plain list would mislead (``false,
            true, "bf16" or "fp16"``).
    """
    names = ", ".join(o if isinstance(o, str) else shown(o) for o in options)
    expect = expect or f"one of {names}"

    def why(v):
        ok = any(type(v) is type(o) and v == o for o in options)
        return None if ok else f"must be {expect}, got {shown(v)}"
    return Rule(expect, why, options=tuple(options))


def numbers(lo: float | None = None, hi: float | None = None, *, length: int | None = None,
            hi_open: bool = False, nullable: bool = False) -> Rule:
    """A list of finite numbers (``length`` of them) within optional bounds."""
    count = f"{length} numbers" if length else "numbers"
    bounds = _bounds_text(lo, hi, False, hi_open)
    expect = f"a list of {count}" + (f" {bounds}" if bounds else "") + \
        (" or null" if nullable else "")

    def why(v):
        if v is None and nullable:
            return None
        if not isinstance(v, list) or not v or not all(is_number(x) for x in v) \
                or length is not None and len(v) != length:
            return f"must be {expect}, got {listed(v)}"
        for x in v:
            if lo is not None and x < lo or hi is not None and (x > hi or hi_open and x == hi):
                return f"must be {expect}, got {listed(v)}"
        return None
    return Rule(expect, why)


def increasing(lo: int = 1) -> Rule:
    """A non-empty list of strictly increasing whole numbers ≥ ``lo``."""
    expect = f"a list of increasing whole numbers >= {lo}, e.g. [30, 60]"

    def why(v):
        if not isinstance(v, list) or not v or not all(is_whole(x) for x in v):
            return f"must be {expect}, got {listed(v)}"
        if v[0] < lo or any(b <= a for a, b in zip(v, v[1:])) or v[-1] > MAX_INT:
            return f"must be {expect}, got {listed(v)}"
        return None
    return Rule(expect, why)


def one_of_rules(expect: str, *rules: Rule) -> Rule:
    """A value any of ``rules`` accepts (e.g. a number or a list of them)."""
    def why(v):
        if any(r.why(v) is None for r in rules):
            return None
        return f"must be {expect}, got {shown(v)}"
    return Rule(expect, why)


# ---------------------------------------------------------------------- losses
_REDUCTION = choice("mean", "sum")
_WEIGHTS = numbers(0, nullable=True)

#: Loss name → its settings (``project-format.md``: ``{"type": LOSS, ...torch kwargs}``).
LOSSES: Mapping[str, Mapping[str, Rule]] = {
    "CrossEntropyLoss": {"weight": _WEIGHTS, "ignore_index": whole(-MAX_INT),
                         "reduction": _REDUCTION, "label_smoothing": number(0, 1)},
    "NLLLoss": {"weight": _WEIGHTS, "ignore_index": whole(-MAX_INT), "reduction": _REDUCTION},
    "BCEWithLogitsLoss": {"weight": _WEIGHTS, "reduction": _REDUCTION,
                          "pos_weight": _WEIGHTS},
    "MSELoss": {"reduction": _REDUCTION},
    "L1Loss": {"reduction": _REDUCTION},
    "SmoothL1Loss": {"reduction": _REDUCTION, "beta": nonneg()},
    "HuberLoss": {"reduction": _REDUCTION, "delta": positive()},
    "MultiMarginLoss": {"p": choice(1, 2), "margin": number(), "weight": _WEIGHTS,
                        "reduction": _REDUCTION},
    "KLDivLoss": {"reduction": choice("batchmean", "mean", "sum"), "log_target": flag()},
}
#: Losses whose target is a class index per prediction.
INDEX_LOSSES = ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss")
#: Losses that expect log-probabilities, so the network should end in LogSoftmax.
LOG_PROB_LOSSES = ("NLLLoss", "KLDivLoss")


def class_weighted(loss: str) -> bool:
    """Whether the loss's ``weight`` is one weight per class (a class-index loss)."""
    return loss in INDEX_LOSSES and "weight" in LOSSES.get(loss, {})

# ---------------------------------------------------------------------- optimizers
_BETAS = numbers(0, 1, length=2, hi_open=True)
_COMMON = {"lr": nonneg(), "weight_decay": nonneg(), "maximize": flag(),
           "foreach": flag(nullable=True), "differentiable": flag()}
_CAPTURABLE = {"capturable": flag()}
_FUSED = {"fused": flag(nullable=True)}
_ADAM = {"betas": _BETAS, "eps": nonneg()}

#: Optimizer name → its settings (``{"type": OPTIMIZER, "lr": ..., ...}``).
OPTIMIZERS: Mapping[str, Mapping[str, Rule]] = {
    "SGD": {**_COMMON, **_FUSED, "momentum": nonneg(), "dampening": number(),
            "nesterov": flag()},
    "Adagrad": {**_COMMON, **_FUSED, "lr_decay": nonneg(),
                "initial_accumulator_value": nonneg(), "eps": nonneg()},
    "Adadelta": {**_COMMON, **_CAPTURABLE, "rho": number(0, 1), "eps": nonneg()},
    "RMSprop": {**_COMMON, **_CAPTURABLE, "alpha": nonneg(), "eps": nonneg(),
                "momentum": nonneg(), "centered": flag()},
    "Adam": {**_COMMON, **_CAPTURABLE, **_FUSED, **_ADAM, "amsgrad": flag(),
             "decoupled_weight_decay": flag()},
    "AdamW": {**_COMMON, **_CAPTURABLE, **_FUSED, **_ADAM, "amsgrad": flag()},
    "Adamax": {**_COMMON, **_CAPTURABLE, **_ADAM},
    "NAdam": {**_COMMON, **_CAPTURABLE, **_ADAM, "momentum_decay": nonneg(),
              "decoupled_weight_decay": flag()},
    "RAdam": {**_COMMON, **_CAPTURABLE, **_ADAM, "decoupled_weight_decay": flag()},
}
#: Optimizers that take a ``momentum`` setting.
MOMENTUM = ("SGD", "RMSprop")
#: Optimizers with neither momentum nor betas, which a schedule cannot cycle.
NO_MOMENTUM = ("Adagrad", "Adadelta")

# ---------------------------------------------------------------------- schedules
_LR = one_of_rules("a number > 0 (or a list of them, one per parameter group)",
                   positive(), numbers(0))

#: torch scheduler name → its settings.  ``CosineAnnealingLR.T_max`` and
#: ``OneCycleLR.max_lr``/``total_steps`` are filled in from the run when left
#: out (:func:`runtime.optim.build_schedule`).
TORCH_SCHEDULES: Mapping[str, Mapping[str, Rule]] = {
    "StepLR": {"step_size": whole(1).needed(), "gamma": positive()},
    "MultiStepLR": {"milestones": increasing(1).needed(), "gamma": positive()},
    "ExponentialLR": {"gamma": positive().needed()},
    "ConstantLR": {"factor": number(0, 1, lo_open=True), "total_iters": whole(0)},
    "LinearLR": {"start_factor": number(0, 1, lo_open=True), "end_factor": number(0, 1),
                 "total_iters": whole(0)},
    "PolynomialLR": {"total_iters": whole(0), "power": number()},
    "CosineAnnealingLR": {"T_max": whole(1), "eta_min": nonneg()},
    "CosineAnnealingWarmRestarts": {"T_0": whole(1).needed(), "T_mult": whole(1),
                                    "eta_min": nonneg()},
    "CyclicLR": {"base_lr": _LR.needed(), "max_lr": _LR.needed(), "step_size_up": whole(1),
                 "step_size_down": whole(1, nullable=True),
                 "mode": choice("triangular", "triangular2", "exp_range"),
                 "gamma": positive(), "scale_mode": choice("cycle", "iterations"),
                 "cycle_momentum": flag(), "base_momentum": nonneg(),
                 "max_momentum": nonneg()},
    "OneCycleLR": {"max_lr": _LR, "total_steps": whole(1), "epochs": whole(1),
                   "steps_per_epoch": whole(1), "pct_start": number(0, 1, lo_open=True,
                                                                    hi_open=True),
                   "anneal_strategy": choice("cos", "linear"), "cycle_momentum": flag(),
                   "base_momentum": nonneg(), "max_momentum": nonneg(),
                   "div_factor": positive(), "final_div_factor": positive(),
                   "three_phase": flag()},
    "ReduceLROnPlateau": {"mode": choice("min", "max"), "factor": number(0, 1, lo_open=True,
                                                                         hi_open=True),
                          "patience": whole(0), "threshold": nonneg(),
                          "threshold_mode": choice("rel", "abs"), "cooldown": whole(0),
                          "min_lr": nonneg(), "eps": nonneg()},
}
#: Our own schedules (``project-format.md``): their settings; ``LinearWarmup``'s
#: ``then`` is another schedule object, checked as one.
OUR_SCHEDULES: Mapping[str, Mapping[str, Rule]] = {
    "InverseTimeDecay": {"decay": nonneg()},
    "LinearWarmup": {"warmup_steps": whole(1)},
}
#: Every schedule name a project may use, with its settings.
SCHEDULES: Mapping[str, Mapping[str, Rule]] = {**TORCH_SCHEDULES, **OUR_SCHEDULES}
#: torch schedulers that advance once per optimizer step rather than per epoch.
PER_STEP = ("OneCycleLR", "CyclicLR")
#: Schedule name → the settings it starts from when chosen in the settings
#: panel: its required settings and the usual ones (a test checks that every
#: schedule has one and that each is valid and builds in torch).
SCHEDULE_STARTS: Mapping[str, Mapping[str, Any]] = {
    "StepLR": {"step_size": 10, "gamma": 0.5},
    "MultiStepLR": {"milestones": [30, 60], "gamma": 0.1},
    "ExponentialLR": {"gamma": 0.95},
    "ConstantLR": {"factor": 0.5, "total_iters": 5},
    "LinearLR": {"start_factor": 0.1, "total_iters": 5},
    "PolynomialLR": {"total_iters": 10, "power": 1.0},
    "CosineAnnealingLR": {"T_max": 10},
    "CosineAnnealingWarmRestarts": {"T_0": 10},
    "CyclicLR": {"base_lr": 0.0001, "max_lr": 0.01},
    "OneCycleLR": {"max_lr": 0.01},
    "ReduceLROnPlateau": {"factor": 0.5, "patience": 3},
    "InverseTimeDecay": {"decay": 0.1},
    "LinearWarmup": {"warmup_steps": 100},
}

# ---------------------------------------------------------------------- the rest
DEVICES = ("auto", "cpu", "cuda", "mps")
TASKS = ("classification", "regression")
MONITORS = ("val_loss", "val_accuracy", "val_mae", "val_rmse", "train_loss")
#: The metrics each trained Output of a network with several has, named
#: ``<metric>_<output id>`` (``val_accuracy_cls``), which early stopping may watch.
PER_OUTPUT_MONITORS = ("val_loss", "val_accuracy", "val_mae", "val_rmse")


def monitors(outputs=None) -> tuple[str, ...]:
    """The metrics early stopping may watch in a network with these ``Output`` ids:
    :data:`MONITORS`, and with two or more Outputs each one's own (a single
    Output's metrics keep their plain names)."""
    outputs = list(outputs or ())
    if len(outputs) < 2:
        return MONITORS
    return MONITORS + tuple(f"{m}_{oid}" for oid in outputs for m in PER_OUTPUT_MONITORS)


def monitor_rule(outputs=None) -> Rule:
    """The rule of ``early_stopping.monitor``: one of :func:`monitors` of the
    network's Output ids; without them (no network at hand) any
    ``<metric>_<id>`` of :data:`PER_OUTPUT_MONITORS` passes too (the engine
    checks that the run measures it)."""
    if outputs is not None:
        return choice(*monitors(outputs))
    plain = choice(*MONITORS)

    def why(v):
        if isinstance(v, str) and any(v.startswith(f"{m}_") and len(v) > len(m) + 1
                                      for m in PER_OUTPUT_MONITORS):
            return None
        return plain.why(v)
    return Rule(plain.expect + " (or <metric>_<output id>)", why, options=MONITORS)
#: Dataset sources: exactly one names where the samples come from.
DATASET_SOURCES = ("name", "csv", "npz", "image_folder")
#: ``augment`` (project-format.md): each key optional.
AUGMENT: Mapping[str, Rule] = {
    "translate": nonneg(), "rotate": number(0, 180), "crop_pad": whole(0), "hflip": flag(),
    "noise": nonneg(), "token_dropout": number(0, 1, hi_open=True),
    "scale": numbers(0, length=2),  # [LO, HI], LO ≤ HI, checked with the section
}
