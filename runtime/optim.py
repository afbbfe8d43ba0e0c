"""Losses, optimizers and learning-rate schedules built from the training settings.

Each is named by its PyTorch class name and takes that class's keyword
arguments (``{"type": "SGD", "lr": 0.1, "momentum": 0.9, "nesterov": true}``).
Keyword arguments are checked against the class signature first, so a typo is
a :class:`~runtime.errors.ConfigError` naming the key rather than a
``TypeError`` from deep inside torch.

Schedules come wrapped in :class:`Schedule`, which knows whether its torch
scheduler advances per optimizer step (``OneCycleLR``, ``CyclicLR``, the
warm-up) or per epoch (the others; ``ReduceLROnPlateau`` gets the validation
loss).  Two schedules are ours: ``InverseTimeDecay`` (lr / (1 + decay·epoch))
and ``LinearWarmup`` (a linear ramp over ``warmup_steps`` optimizer steps,
then constant or the schedule given as ``"then"``).

Some schedules are made for the run's length (``OneCycleLR.total_steps``,
``CosineAnnealingLR.T_max``, filled in from the epochs): :meth:`Schedule.lengths`
names those settings, so a resume can refuse to stretch them, and
:meth:`Schedule.check_fits` refuses a ``OneCycleLR`` shorter than the run
before training (torch would raise halfway through).
"""

from __future__ import annotations

import inspect

import torch
from torch import nn
from torch.optim import lr_scheduler

from graph import training_names as vocab

from .config import did_you_mean
from .errors import ConfigError

#: The names come from the one registry in graph/ (the check and the settings
#: panel read it too).
LOSSES = tuple(vocab.LOSSES)
#: Losses whose target is a class index per prediction.
INDEX_LOSSES = vocab.INDEX_LOSSES
OPTIMIZERS = tuple(vocab.OPTIMIZERS)
#: torch schedulers that advance once per optimizer step rather than per epoch.
PER_STEP = vocab.PER_STEP
OUR_SCHEDULES = tuple(vocab.OUR_SCHEDULES)
#: Settings that fix how long a torch scheduler runs: continuing one for a run
#: of another length would run past its end (OneCycleLR raises, a cosine hits 0).
LENGTH_KEYS = ("total_steps", "T_max")


def schedule_names() -> tuple[str, ...]:
    """Every schedule name a project may use."""
    return tuple(vocab.SCHEDULES)


def _construct(cls, first_args: tuple, kwargs: dict, key: str, skip: int):
    """``cls(*first_args, **kwargs)`` with kwargs checked against the signature.

    ``skip`` is how many leading parameters (after ``self``) ``first_args`` fills.
    """
    params = list(inspect.signature(cls.__init__).parameters.values())[1 + skip:]
    names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for k in kwargs:
        if k not in names:
            raise ConfigError(f"{cls.__name__} has no setting {k!r}{did_you_mean(k, names)}",
                              f"{key}.{k}")
    for p in params:
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) \
                and p.name not in kwargs:
            raise ConfigError(f"{cls.__name__} needs the setting {p.name!r}", f"{key}.{p.name}")
    try:
        return cls(*first_args, **kwargs)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"{cls.__name__}: {exc}", key) from None


def _type(spec: dict, known, key: str) -> str:
    name = spec.get("type")
    if name not in known:
        raise ConfigError(f"unknown {key} {name!r}{did_you_mean(name, known)}", f"{key}.type")
    return name


# ---------------------------------------------------------------------- losses
def default_loss(task: str) -> dict:
    return {"type": "CrossEntropyLoss" if task == "classification" else "MSELoss"}


def build_loss(spec: dict, device: torch.device) -> nn.Module:
    """A loss module from ``{"type": NAME, ...kwargs}``.

    List-valued ``weight``/``pos_weight`` become tensors on ``device``;
    ``KLDivLoss`` defaults to ``reduction="batchmean"`` (the mathematically
    correct mean, without torch's warning).

    Raises:
        ConfigError: unknown loss or setting, or a bad value.
    """
    name = _type(spec, LOSSES, "loss")
    kwargs = {k: v for k, v in spec.items() if k != "type"}
    for k in ("weight", "pos_weight"):
        if isinstance(kwargs.get(k), list):
            try:
                kwargs[k] = torch.tensor(kwargs[k], dtype=torch.float32, device=device)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"must be a list of numbers ({exc})", f"loss.{k}") from None
    if name == "KLDivLoss":
        kwargs.setdefault("reduction", "batchmean")
    return _construct(getattr(nn, name), (), kwargs, "loss", 0)


# ---------------------------------------------------------------------- optimizers
def build_optimizer(spec: dict, params) -> torch.optim.Optimizer:
    """An optimizer from ``{"type": NAME, "lr": ..., ...kwargs}`` (``betas`` as a list is fine).

    Only parameters that are trained reach the optimizer: a frozen block's
    (``requires_grad`` False, set by the generated model) would otherwise still
    move under weight decay or momentum.

    Raises:
        ConfigError: unknown optimizer or setting, or a bad value (e.g. a negative lr),
            or every parameter is frozen.
    """
    name = _type(spec, OPTIMIZERS, "optimizer")
    kwargs = {k: (tuple(v) if isinstance(v, list) else v) for k, v in spec.items() if k != "type"}
    params = list(params)
    trained = [p for p in params if p.requires_grad]
    if params and not trained:
        raise ConfigError("every block with parameters is frozen: there is nothing to train "
                          "(untick Frozen on the blocks to train)", "optimizer")
    return _construct(getattr(torch.optim, name), (trained,), kwargs, "optimizer", 1)


# ---------------------------------------------------------------------- schedules
class _InverseTime:
    """lr factor 1 / (1 + decay·t); a class (not a lambda) so its state is saved."""

    def __init__(self, decay: float):
        self.decay = decay

    def __call__(self, t: int) -> float:
        return 1.0 / (1.0 + self.decay * t)


class _Ramp:
    """lr factor rising linearly to 1 over ``steps`` optimizer steps."""

    def __init__(self, steps: int):
        self.steps = steps

    def __call__(self, t: int) -> float:
        return min(1.0, (t + 1) / self.steps)


class Schedule:
    """A learning-rate schedule that the engine ticks per step and per epoch.

    Attributes:
        per_step: whether the scheduler advances per optimizer step.
        name: for messages (``"LinearWarmup then OneCycleLR"``).
        ticks: whether :meth:`step_batch` does anything (the loop skips it otherwise).
    """

    def __init__(self, scheduler=None, per_step: bool = False, plateau: bool = False,
                 warmup=None, warmup_steps: int = 0, name: str = "none"):
        self.scheduler = scheduler
        self.per_step = per_step
        self.plateau = plateau
        self.warmup = warmup
        self.warmup_steps = warmup_steps
        self.name = name
        self.ticks = warmup is not None or (scheduler is not None and per_step)
        self.steps = 0

    def lengths(self) -> dict:
        """The settings fixing this schedule's length (see :data:`LENGTH_KEYS`)."""
        if self.scheduler is None:
            return {}
        return {k: getattr(self.scheduler, k) for k in LENGTH_KEYS
                if isinstance(getattr(self.scheduler, k, None), (int, float))}

    def check_fits(self, steps: int, what: str) -> None:
        """Refuse a per-step schedule that would end before the run's ``steps`` optimizer steps.

        Raises:
            ConfigError: naming the schedule's length and the run's.
        """
        total = self.lengths().get("total_steps")
        if total is None or not self.per_step:
            return
        need = steps - (self.warmup_steps if self.warmup is not None else 0)
        if total < need:
            raise ConfigError(f"{self.name} lasts {total} optimizer steps (total_steps) but this "
                              f"run makes {steps} ({what}); leave out total_steps, epochs and "
                              f"steps_per_epoch so it fits the run, or make it at least {need}",
                              "scheduler")

    def step_batch(self) -> None:
        """Call after each optimizer step."""
        if self.warmup is not None and self.steps < self.warmup_steps:
            self.steps += 1
            if self.steps < self.warmup_steps:
                self.warmup.step()
            return
        if self.scheduler is not None and self.per_step:
            self.scheduler.step()

    def step_epoch(self, val_loss: float | None) -> None:
        """Call at the end of each epoch with the validation loss."""
        if self.scheduler is None or self.per_step:
            return
        if self.warmup is not None and self.steps < self.warmup_steps:
            return
        if self.plateau:
            if val_loss is not None:
                self.scheduler.step(val_loss)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return {"steps": self.steps,
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "warmup": self.warmup.state_dict() if self.warmup is not None else None}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.warmup is not None and state.get("warmup") is not None:
            self.warmup.load_state_dict(state["warmup"])


def build_schedule(spec: dict | None, optimizer, epochs: int, steps_per_epoch: int,
                   key: str = "scheduler") -> Schedule:
    """A :class:`Schedule` from ``None`` or ``{"type": NAME, ...kwargs}``.

    Defaults filled in where torch has none: ``CosineAnnealingLR.T_max`` =
    epochs; ``OneCycleLR.max_lr`` = the optimizer's lr and ``total_steps`` =
    all optimizer steps; ``ReduceLROnPlateau.factor`` = 0.5 (halve).

    Args:
        steps_per_epoch: optimizer steps per epoch (after gradient accumulation).

    Raises:
        ConfigError: unknown schedule or setting, or a bad value.
    """
    if spec is None:
        return Schedule()
    name = _type(spec, schedule_names(), key)
    kwargs = {k: v for k, v in spec.items() if k != "type"}
    base_lr = optimizer.param_groups[0]["lr"]
    if name == "InverseTimeDecay":
        _only(kwargs, ("decay",), name, key)
        decay = kwargs.get("decay", 1.0)
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or decay < 0:
            raise ConfigError(f"must be a number >= 0, got {decay!r}", f"{key}.decay")
        return Schedule(lr_scheduler.LambdaLR(optimizer, _InverseTime(float(decay))), name=name)
    if name == "LinearWarmup":
        _only(kwargs, ("warmup_steps", "then"), name, key)
        steps = kwargs.get("warmup_steps", 100)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(f"must be a whole number >= 1, got {steps!r}", f"{key}.warmup_steps")
        then = kwargs.get("then")
        if then is not None and (not isinstance(then, dict) or then.get("type") == "LinearWarmup"):
            raise ConfigError("must be another schedule object (not a second warm-up)", f"{key}.then")
        # The inner schedule is made first: making a torch scheduler sets the lr,
        # and the warm-up's first factor must be the one in force.
        inner = build_schedule(then, optimizer, epochs, steps_per_epoch, f"{key}.then")
        warm = lr_scheduler.LambdaLR(optimizer, _Ramp(steps))
        return Schedule(inner.scheduler, inner.per_step, inner.plateau, warm, steps,
                        name if then is None else f"{name} then {inner.name}")
    cls = getattr(lr_scheduler, name)
    if name == "CosineAnnealingLR":
        kwargs.setdefault("T_max", epochs)
    elif name == "OneCycleLR":
        kwargs.setdefault("max_lr", base_lr)
        if "epochs" not in kwargs and "steps_per_epoch" not in kwargs:
            kwargs.setdefault("total_steps", max(1, epochs * steps_per_epoch))
    elif name == "ReduceLROnPlateau":
        kwargs.setdefault("factor", 0.5)
    for k, v in list(kwargs.items()):
        if isinstance(v, list) and k != "milestones":
            kwargs[k] = tuple(v)
    sched = _construct(cls, (optimizer,), kwargs, key, 1)
    return Schedule(sched, per_step=name in PER_STEP, plateau=name == "ReduceLROnPlateau",
                    name=name)


def _only(kwargs: dict, allowed: tuple, name: str, key: str) -> None:
    for k in kwargs:
        if k not in allowed:
            raise ConfigError(f"{name} has no setting {k!r}{did_you_mean(k, allowed)}",
                              f"{key}.{k}")
