"""A prepared run: the built training objects and the run's progress, typed.

:func:`build_session` turns a :class:`~runtime.setup.Setup` (model and data on
the device) and the parsed settings into a :class:`Session`: loss, optimizer,
schedule, steps per epoch, mixed precision, the compiled forward and the
shuffling generator, with the refusals that need them (a schedule made for
another length, an early-stopping monitor this run does not measure).
:class:`RunState` is what the run has done so far (epoch, step, history,
best value, a stopped epoch): what checkpoints hold and a resume restores.

The trainer (:mod:`runtime.engine`) owns one session; the loop
(:mod:`runtime.loop`) and the checkpoint code (:mod:`runtime.resume`) work
on it through these typed fields, never on the trainer itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import torch
from torch import nn

from .augment import augment_generator, augment_problem
from .config import TrainConfig, higher_is_better
from .errors import ConfigError
from .optim import Schedule, build_loss, build_optimizer, build_schedule
from .setup import Setup


@dataclass
class RunState:
    """How far a run has come.

    Attributes:
        monitor: the metric that decides the best epoch (and early stopping).
        epoch: completed epochs (a resumed run's included).
        step: training steps made in all.
        history: per-epoch metric rows.
        step_losses: every step's training loss.
        best: ``{"monitor", "value", "epoch", "bad_epochs"}``.
        pending_epoch: a stopped epoch to continue (set by a resume), or None.
        epoch_state: the epoch under way (permutation, step, losses, counts), for
            a partial checkpoint; None between epochs.
    """

    monitor: str
    epoch: int = 0
    step: int = 0
    history: list[dict] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    best: dict = field(default_factory=dict)
    pending_epoch: dict | None = None
    epoch_state: dict | None = None

    def __post_init__(self) -> None:
        if not self.best:
            self.best = {"monitor": self.monitor, "value": None, "epoch": None,
                         "bad_epochs": 0}

    def improved(self, value: float | None, min_delta: float = 0.0) -> bool:
        """Update the best monitored value; True when ``value`` is a new best.

        Args:
            value: this epoch's value of the monitored metric (None: not measured).
            min_delta: how much better than the best a value must be to count.
        """
        if value is None or not math.isfinite(value):
            return False
        best = self.best["value"]
        better = best is None or (value > best + min_delta if higher_is_better(self.monitor)
                                  else value < best - min_delta)
        if better:
            self.best.update(value=value, epoch=self.epoch, bad_epochs=0)
        else:
            self.best["bad_epochs"] += 1
        return better


@dataclass
class Session:
    """Everything a prepared run trains with.

    Attributes:
        config: the parsed settings.
        setup: model, data and target handling on the device.
        criterion: the loss module (the first head's).
        criteria: one loss module per head (``setup.heads``).
        optimizer: the optimizer over the model's parameters.
        schedule: the learning-rate schedule (a no-op one when none is set).
        steps_per_epoch: batches per epoch.
        autocast: makes the mixed-precision context (None: float32).
        scaler: the fp16 gradient scaler (None unless fp16 on CUDA).
        fwd: the model's forward (``torch.compile``d when asked and available).
        generator: draws each epoch's permutation, on the training device.
        sync_loss: read each step's loss at once (the NaN check before the
            update): on the CPU reading a scalar costs nothing; elsewhere it
            would wait for the queue to drain, so losses stay on the device and
            are checked when reported.
        state: the run's progress.
        augment: the ``training.augment`` object (None: no augmentation).
        augment_generator: draws the augmentation (:mod:`runtime.augment`), on the
            training device; None without augmentation.
    """

    config: TrainConfig
    setup: Setup
    criterion: nn.Module
    criteria: list[nn.Module]
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    steps_per_epoch: int
    autocast: Callable[[], AbstractContextManager] | None
    scaler: torch.amp.GradScaler | None
    fwd: Callable[..., torch.Tensor]
    generator: torch.Generator
    sync_loss: bool
    state: RunState
    augment: dict | None = None
    augment_generator: torch.Generator | None = None

    @property
    def device(self) -> torch.device:
        return self.setup.device

    @property
    def model(self) -> nn.Module:
        return self.setup.model


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches per epoch of ``n`` samples.

    A last batch of one sample is left out of the epoch (each epoch shuffles,
    so no sample is left out for good): BatchNorm cannot normalise a batch of
    one and would stop the run at the end of every epoch.
    """
    if n % batch_size == 1 and n > 1:
        return n // batch_size
    return math.ceil(n / batch_size)


def build_session(setup: Setup, config: TrainConfig, notes: list[str]) -> Session:
    """Loss, optimizer, schedule and the rest of a run, for a built ``setup``.

    Args:
        setup: model and data on the training device.
        config: the parsed settings.
        notes: remarks for the user (appended to: AMP off the GPU, no compiler).

    Raises:
        ConfigError: the early-stopping monitor is not measured in this run.
        TrainingError: a schedule that does not fit the run's length.
    """
    c, s = config, setup
    criteria = [build_loss(h.loss_spec, s.device) for h in s.heads]
    optimizer = build_optimizer(c.optimizer, s.model.parameters())
    steps = steps_per_epoch(len(s.X), c.batch_size)
    opt_steps = math.ceil(steps / c.grad_accum_steps)
    schedule = build_schedule(c.scheduler, optimizer, c.epochs, opt_steps)
    schedule.check_fits(c.epochs * opt_steps, f"{c.epochs} epochs × {opt_steps} "
                        "optimizer steps")
    monitor = (c.early_stopping or {}).get("monitor") or \
        ("val_loss" if len(s.Xv) else "train_loss")
    measured = {"train_loss", "val_loss"}
    for h in s.heads:
        measured |= {f"{k}{h.suffix}" for k in (("val_accuracy",) if h.plan.classification
                                               else ("val_mae", "val_rmse"))}
    if monitor not in measured or (monitor.startswith("val") and not len(s.Xv)):
        raise ConfigError(f"{monitor} is not measured in this run (measured: "
                          f"{', '.join(sorted(measured))})", "early_stopping.monitor")
    autocast, scaler = _amp(c.amp, s.device, notes)
    generator = torch.Generator(device=s.device)
    generator.manual_seed(c.seed)
    augment = _augment(c, s)
    return Session(config=c, setup=s, criterion=criteria[0], criteria=criteria,
                   optimizer=optimizer,
                   schedule=schedule, steps_per_epoch=steps, autocast=autocast, scaler=scaler,
                   fwd=_compiled(c.compile, s, notes), generator=generator,
                   sync_loss=s.device.type == "cpu", state=RunState(monitor),
                   augment=augment,
                   augment_generator=augment_generator(c.seed, s.device) if augment else None)


def _augment(c: TrainConfig, s: Setup) -> dict | None:
    """The run's augmentation; a key that changes none of the inputs is refused."""
    if not c.augment:
        return None
    found = augment_problem(c.augment, [(s.labels.get(nid, nid), tuple(x.shape[1:]),
                                         x.is_floating_point())
                                        for nid, x in zip(s.inputs, s.Xs)])
    if found is not None:
        raise ConfigError(found[1], f"augment.{found[0]}")
    return c.augment


def _amp(amp: bool | str, device: torch.device, notes: list[str]):
    """(autocast factory, scaler) for the ``amp`` setting on ``device``."""
    if not amp:
        return None, None
    if device.type != "cuda":
        notes.append(f"mixed precision is used on CUDA only; training in float32 on "
                     f"{device.type}")
        return None, None
    bf16 = amp in (True, "bf16") and torch.cuda.is_bf16_supported()
    dtype = torch.bfloat16 if bf16 else torch.float16
    scaler = None if bf16 else torch.amp.GradScaler("cuda")
    return (lambda: torch.autocast("cuda", dtype=dtype)), scaler


def _compiled(compile_: bool, s: Setup, notes: list[str]):
    """The model's forward, compiled when asked and a compiler works here."""
    if not compile_:
        return s.model
    try:
        fwd = torch.compile(s.model)
        with torch.no_grad():
            fwd(*[x[:2] for x in s.Xs])
        return fwd
    except Exception as exc:  # a missing compiler must not stop training
        from .faults import describe_error

        notes.append(f"torch.compile is not available here ({describe_error(exc)}); "
                     "training without it")
        return s.model
